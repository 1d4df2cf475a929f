@testable import MeshControlPlane
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@Suite struct DNSResolverTests {
    let snapshot: ClusterDNSSnapshot
    let resolver = ClusterDNSResolver(options: .init(nameserverAddress: IPv4Address(10, 44, 0, 1)))

    init() throws {
        snapshot = try DNSFixture.load().snapshot()
    }

    private func ask(_ name: DNSName, _ type: DNSRecordType = .a) -> DNSMessage {
        resolver.respond(name, type, in: snapshot)
    }

    private func addresses(_ message: DNSMessage) -> [String] {
        message.answers.compactMap {
            switch $0.data {
            case .a(let address): address.description
            case .aaaa(let address): address.description
            default: nil
            }
        }
    }

    /// Every row of the answers table, as dig would show it: read Testdata/dns/answers.txt.
    static let table: [(DNSName, DNSRecordType)] = [
        ("reviews.default.svc.cluster.local", .a),
        ("REVIEWS.Default.SVC.cluster.local", .a),
        ("reviews.default.svc.cluster.local", .aaaa),
        ("reviews.default.svc.cluster.local", .txt),
        ("reviews.prod.svc.cluster.local", .a),
        ("nosuch.default.svc.cluster.local", .a),
        ("reviews.nosuch.svc.cluster.local", .a),
        ("default.svc.cluster.local", .a),
        ("nosuch.svc.cluster.local", .a),
        ("svc.cluster.local", .a),
        ("cluster.local", .soa),
        ("cluster.local", .ns),
        ("cluster.local", .a),
        ("ns.dns.cluster.local", .a),
        ("dns-version.cluster.local", .txt),
        ("web.default.svc.cluster.local", .a),
        ("10-44-0-5.web.default.svc.cluster.local", .a),
        ("10-44-0-9.web.default.svc.cluster.local", .a),
        ("db.default.svc.cluster.local", .a),
        ("db-0.db.default.svc.cluster.local", .a),
        ("db-1.db.default.svc.cluster.local", .a),
        ("lonely.default.svc.cluster.local", .a),
        ("pending.default.svc.cluster.local", .a),
        ("dual.default.svc.cluster.local", .a),
        ("dual.default.svc.cluster.local", .aaaa),
        ("outside.default.svc.cluster.local", .a),
        ("alias.default.svc.cluster.local", .a),
        ("_http._tcp.reviews.default.svc.cluster.local", .srv),
        ("_http._tcp.reviews.default.svc.cluster.local", .a),
        ("_nope._tcp.reviews.default.svc.cluster.local", .srv),
        ("reviews.default.svc.cluster.local", .srv),
        ("_http._tcp.web.default.svc.cluster.local", .srv),
        ("_dns._udp.web.default.svc.cluster.local", .srv),
        ("a.b.reviews.default.svc.cluster.local", .a),
        ("10-44-0-7.default.pod.cluster.local", .a),
        ("10-44-0-7.default.pod.cluster.local", .aaaa),
        ("10-44-0-7.nosuch.pod.cluster.local", .a),
        ("fd00--7.default.pod.cluster.local", .aaaa),
        ("not-an-ip.default.pod.cluster.local", .a),
        ("10.0.96.10.in-addr.arpa", .ptr),
        ("1.0.44.10.in-addr.arpa", .ptr),
        ("20.0.44.10.in-addr.arpa", .ptr),
        ("7.0.44.10.in-addr.arpa", .ptr),
        ("10.0.96.10.in-addr.arpa", .a),
        ("0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa", .ptr),
        ("8.8.8.8.in-addr.arpa", .ptr),
        ("example.com", .a),
        ("reviews", .a),
        ("cluster.local", .axfr),
    ]

    @Test func answersTable() throws {
        let text = Self.table.map { name, type in render(ask(name, type)) }.joined(separator: "\n\n") + "\n"
        try Golden.check(text, against: "dns/answers.txt")
    }

    @Test func serviceNamesAnswerTheirClusterIPWithTTL5() {
        let answer = ask("reviews.default.svc.cluster.local")
        #expect(answer.responseCode == .noError)
        #expect(answer.isAuthoritative)
        #expect(answer.answers == [DNSRecord(name: "reviews.default.svc.cluster.local", ttl: 5, data: .a(IPv4Address(10, 96, 0, 10)))])
        #expect(addresses(ask("reviews.prod.svc.cluster.local")) == ["10.96.1.10"])
    }

    @Test func answersEchoTheQuestionsCase() {
        let answer = ask("REVIEWS.Default.SVC.cluster.local")
        #expect(answer.answers.first?.name.description == "REVIEWS.Default.SVC.cluster.local.")
        #expect(addresses(answer) == ["10.96.0.10"])
    }

    @Test func anExistingNameWithoutThatTypeIsNoDataWithTheSOA() throws {
        for type in [DNSRecordType.aaaa, .txt, .mx] {
            let answer = ask("reviews.default.svc.cluster.local", type)
            #expect(answer.responseCode == .noError)
            #expect(answer.answers.isEmpty)
            let soa = try #require(answer.authority.first)
            #expect(soa.name == "cluster.local")
            guard case .soa(let data) = soa.data else {
                Issue.record("not an SOA: \(soa)")
                continue
            }
            #expect(data.serial == 42)
            #expect(data.minimum == 5)
        }
        // Names with children exist too (empty non-terminals).
        #expect(ask("default.svc.cluster.local").responseCode == .noError)
        #expect(ask("quiet.svc.cluster.local").responseCode == .noError)  // a Namespace with nothing in it
        #expect(ask("svc.cluster.local").responseCode == .noError)
    }

    @Test func unknownNamesInTheZoneAreNXDomainWithTheSOA() {
        for name: DNSName in ["nosuch.default.svc.cluster.local", "reviews.nosuch.svc.cluster.local", "nosuch.svc.cluster.local",
                              "a.b.reviews.default.svc.cluster.local", "www.cluster.local", "lonely.default.svc.cluster.local"] {
            let answer = ask(name)
            #expect(answer.responseCode == .nameError, "\(name)")
            #expect(answer.isAuthoritative)
            #expect(answer.authority.first?.type == .soa)
        }
    }

    @Test func namesOutsideTheZoneAreNXDomainAndNotOurs() {
        for name: DNSName in ["example.com", "reviews", "reviews.default", "cluster.local.example.com", "8.8.8.8.in-addr.arpa"] {
            let answer = ask(name, name.isSubdomain(of: "in-addr.arpa") ? .ptr : .a)
            #expect(answer.responseCode == .nameError, "\(name)")
            #expect(!answer.isAuthoritative)
            #expect(answer.authority.isEmpty)
        }
        #expect(ask("reviews.default.svc.cluster.local", .axfr).responseCode == .refused)
        let chaos = DNSResponder(resolver: resolver).respond(
            to: DNSMessage(id: 1, questions: [DNSQuestion(name: "version.bind", type: .txt, class: .chaos)]), snapshot: snapshot)
        #expect(chaos.responseCode == .refused)
    }

    @Test func headlessServicesAnswerTheirReadyEndpoints() {
        #expect(addresses(ask("web.default.svc.cluster.local")) == ["10.44.0.5", "10.44.0.6"])
        // publishNotReadyAddresses: not-ready pods too.
        #expect(addresses(ask("db.default.svc.cluster.local")) == ["10.44.0.20", "10.44.0.21", "10.44.0.22"])
        // A single endpoint by its dashed IP, by the address's hostname, by the pod's hostname + subdomain.
        #expect(addresses(ask("10-44-0-5.web.default.svc.cluster.local")) == ["10.44.0.5"])
        #expect(addresses(ask("db-1.db.default.svc.cluster.local")) == ["10.44.0.21"])
        #expect(addresses(ask("db-0.db.default.svc.cluster.local")) == ["10.44.0.20"])
        #expect(ask("10-44-0-9.web.default.svc.cluster.local").responseCode == .nameError)  // not ready
        // Endpoints of a ClusterIP service have names too (CoreDNS answers them).
        #expect(addresses(ask("10-44-0-2.reviews.default.svc.cluster.local")) == ["10.44.0.2"])
    }

    @Test func dualStackServicesSplitByType() {
        #expect(addresses(ask("dual.default.svc.cluster.local", .a)) == ["10.96.0.30"])
        #expect(addresses(ask("dual.default.svc.cluster.local", .aaaa)) == ["fd00:96::30"])
    }

    @Test func aServiceWithoutAClusterIPYetIsNoData() {
        let answer = ask("pending.default.svc.cluster.local")
        #expect(answer.responseCode == .noError)
        #expect(answer.answers.isEmpty)
    }

    @Test func externalNamesAreCNAMEsFollowedInsideTheZone() {
        let outside = ask("outside.default.svc.cluster.local")
        #expect(outside.answers == [DNSRecord(name: "outside.default.svc.cluster.local", ttl: 5, data: .cname("httpbin.org"))])
        let alias = ask("alias.default.svc.cluster.local")
        #expect(alias.answers.map(\.data) == [.cname("reviews.prod.svc.cluster.local"), .a(IPv4Address(10, 96, 1, 10))])
        #expect(alias.answers.last?.name == "reviews.prod.svc.cluster.local")
    }

    @Test func srvRecordsNameEachPort() throws {
        let clusterIP = ask("_http._tcp.reviews.default.svc.cluster.local", .srv)
        #expect(clusterIP.answers.map(\.data) == [.srv(DNSSRV(priority: 0, weight: 100, port: 9080, target: "reviews.default.svc.cluster.local"))])
        #expect(clusterIP.additional.map(\.data) == [.a(IPv4Address(10, 96, 0, 10))])
        // Headless: one per endpoint, the weight shared, the endpoint port, glue for each target.
        let headless = ask("_http._tcp.web.default.svc.cluster.local", .srv)
        #expect(headless.answers.map(\.data) == [
            .srv(DNSSRV(priority: 0, weight: 50, port: 8080, target: "10-44-0-5.web.default.svc.cluster.local")),
            .srv(DNSSRV(priority: 0, weight: 50, port: 8080, target: "10-44-0-6.web.default.svc.cluster.local")),
        ])
        #expect(headless.additional.map(\.name) == ["10-44-0-5.web.default.svc.cluster.local", "10-44-0-6.web.default.svc.cluster.local"])
        #expect(ask("_dns._udp.web.default.svc.cluster.local", .srv).answers.count == 2)
        #expect(ask("_dns._tcp.web.default.svc.cluster.local", .srv).responseCode == .nameError)
        #expect(ask("_nope._tcp.reviews.default.svc.cluster.local", .srv).responseCode == .nameError)
        // The plain service name lists every port.
        #expect(ask("web.default.svc.cluster.local", .srv).answers.count == 4)
    }

    @Test func podNamesAnswerTheDashedAddress() {
        #expect(addresses(ask("10-44-0-7.default.pod.cluster.local")) == ["10.44.0.7"])
        // pods insecure: any address, as long as the namespace exists.
        #expect(addresses(ask("10-1-2-3.quiet.pod.cluster.local")) == ["10.1.2.3"])
        #expect(ask("10-44-0-7.nosuch.pod.cluster.local").responseCode == .nameError)
        #expect(ask("10-44-0-7.default.pod.cluster.local", .aaaa).responseCode == .noError)
        #expect(addresses(ask("fd00--7.default.pod.cluster.local", .aaaa)) == ["fd00::7"])
        #expect(ask("300-1-2-3.default.pod.cluster.local").responseCode == .nameError)
        #expect(ask("a.10-44-0-7.default.pod.cluster.local").responseCode == .nameError)
    }

    @Test func reverseLookupsNameServicesAndEndpoints() {
        func ptr(_ name: DNSName) -> [String] {
            ask(name, .ptr).answers.compactMap { if case .ptr(let target) = $0.data { target.description } else { nil } }
        }
        #expect(ptr("10.0.96.10.in-addr.arpa") == ["reviews.default.svc.cluster.local."])
        #expect(ptr("1.0.44.10.in-addr.arpa") == ["10-44-0-1.reviews.default.svc.cluster.local."])
        #expect(ptr("20.0.44.10.in-addr.arpa") == ["db-0.db.default.svc.cluster.local."])
        #expect(ptr("0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa") == ["dual.default.svc.cluster.local."])
        // A pod behind no service has no PTR (as in Kubernetes).
        #expect(ask("7.0.44.10.in-addr.arpa", .ptr).responseCode == .nameError)
        #expect(ask("010.0.96.10.in-addr.arpa", .ptr).responseCode == .nameError)
        #expect(ask("0.96.10.in-addr.arpa", .ptr).responseCode == .nameError)
    }

    @Test func theApexHasSOAAndNS() {
        #expect(ask("cluster.local", .soa).answers.first?.type == .soa)
        let ns = ask("cluster.local", .ns)
        #expect(ns.answers.map(\.data) == [.ns("ns.dns.cluster.local")])
        #expect(ns.additional.map(\.data) == [.a(IPv4Address(10, 44, 0, 1))])
        #expect(addresses(ask("ns.dns.cluster.local")) == ["10.44.0.1"])
        // Without a configured address there is no ns.dns name.
        let plain = ClusterDNSResolver()
        #expect(plain.respond("ns.dns.cluster.local", .a, in: snapshot).responseCode == .nameError)
        #expect(plain.respond("cluster.local", .ns, in: snapshot).additional.isEmpty)
    }

    @Test func anotherZoneAndTTLCanBeConfigured() {
        let custom = ClusterDNSResolver(options: .init(zone: "lab.internal", ttl: 30))
        let answer = custom.respond("reviews.default.svc.lab.internal", .a, in: snapshot)
        #expect(answer.answers.first?.ttl == 30)
        #expect(custom.respond("reviews.default.svc.cluster.local", .a, in: snapshot).isAuthoritative == false)
    }

    @Test func theSnapshotIgnoresEndpointsWithoutAServiceAndBadAddresses() throws {
        var fixture = try DNSFixture.load()
        fixture.endpoints.append(Endpoints(metadata: ObjectMeta(name: "orphan", namespace: "default"),
                                           subsets: [.init(addresses: [.init(ip: "10.44.0.99")])]))
        fixture.endpoints[0].subsets?[0].addresses?.append(.init(ip: "not-an-ip"))
        let snapshot = fixture.snapshot()
        #expect(resolver.respond("orphan.default.svc.cluster.local", .a, in: snapshot).responseCode == .nameError)
        #expect(addresses(resolver.respond("reviews.default.svc.cluster.local", .srv, in: snapshot)).isEmpty)
        #expect(snapshot.serviceCount == fixture.services.count)
        #expect(ClusterDNSResolver().respond("reviews.default.svc.cluster.local", .a, in: .empty).responseCode == .nameError)
    }
}
