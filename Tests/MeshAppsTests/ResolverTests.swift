import MeshIO
import MeshSystem
import Synchronization
import Testing
@testable import MeshApps

@Suite struct ResolverTests {
    @Test func readsAPodsResolvConf() {
        let configuration = ResolverConfiguration.parse("""
            # written by meshlab
            search default.svc.cluster.local svc.cluster.local cluster.local
            nameserver 10.96.0.10
            nameserver not-an-address
            options ndots:5 timeout:2 attempts:3 rotate
            """)
        #expect(configuration.nameservers == [.ipv4(IPv4Address(10, 96, 0, 10), port: 53)])
        #expect(configuration.search == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"])
        #expect(configuration.ndots == 5)
        #expect(configuration.timeout == .seconds(2))
        #expect(configuration.attempts == 3)
        #expect(ResolverConfiguration.parse("").nameservers == [.ipv4(.loopback, port: 53)])
    }

    @Test func candidatesFollowNdots() {
        let configuration = ResolverConfiguration(search: ["default.svc.cluster.local", "svc.cluster.local"], ndots: 5)
        #expect(configuration.candidates(for: "details") == [
            "details.default.svc.cluster.local", "details.svc.cluster.local", "details",
        ])
        #expect(configuration.candidates(for: "a.b.c.d.e.f") == [
            "a.b.c.d.e.f", "a.b.c.d.e.f.default.svc.cluster.local", "a.b.c.d.e.f.svc.cluster.local",
        ])
        #expect(configuration.candidates(for: "reviews.default.svc.cluster.local.") == ["reviews.default.svc.cluster.local"])
    }

    @Test func readsHostsFiles() {
        let hosts = HostsFile.parse("""
            127.0.0.1\tlocalhost
            ::1 localhost ip6-localhost
            10.1.0.7 productpage-v1-abc # this pod
            10.1.0.8 productpage-v1-abc
            """)
        #expect(hosts.address(of: "LOCALHOST") == .loopback)
        #expect(hosts.address(of: "productpage-v1-abc.") == IPv4Address(10, 1, 0, 7))
        #expect(hosts.address(of: "ip6-localhost") == nil)
    }

    @Test func queryAndAnswerBytes() throws {
        let query = try #require(DNSMessage.query(id: 0xBEEF, name: "details.default"))
        #expect(query == [0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                          7] + Array("details".utf8) + [7] + Array("default".utf8) + [0, 0, 1, 0, 1])
        #expect(DNSMessage.query(id: 1, name: "a..b") == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "x", count: 64)) == nil)
        let answer = FakeDNS.answer(to: query, address: IPv4Address(10, 96, 0, 5), ttl: 30)
        #expect(try DNSMessage.parseResponse(answer, id: 0xBEEF)
            == DNSMessage.Answer(code: .noError, addresses: [IPv4Address(10, 96, 0, 5)], ttl: 30, truncated: false))
        #expect(throws: DNSMessage.ParseError.wrongID) { try DNSMessage.parseResponse(answer, id: 1) }
        #expect(throws: DNSMessage.ParseError.tooShort) { try DNSMessage.parseResponse(Array(answer.prefix(40)), id: 0xBEEF) }
        #expect(throws: DNSMessage.ParseError.notAResponse) { try DNSMessage.parseResponse(query, id: 0xBEEF) }
    }

    @Test func resolvesAServiceNameThroughTheSearchDomains() async throws {
        let dns = try FakeDNS(records: ["details.default.svc.cluster.local": IPv4Address(10, 96, 0, 5)])
        defer { dns.stop() }
        let resolver = HostResolver(
            configuration: ResolverConfiguration(nameservers: [dns.address], search: ["default.svc.cluster.local", "svc.cluster.local"],
                                                 ndots: 5, timeout: .seconds(2), attempts: 1),
            hosts: .parse("10.1.0.7 productpage-v1-abc"), eventLoop: EventLoopGroup.shared.next())
        #expect(try await resolver.resolve("details") == [IPv4Address(10, 96, 0, 5)])
        #expect(dns.asked == ["details.default.svc.cluster.local"])
        #expect(try await resolver.resolve("details") == [IPv4Address(10, 96, 0, 5)])
        #expect(dns.asked.count == 1)  // kept for the record's TTL
        #expect(try await resolver.resolve("productpage-v1-abc") == [IPv4Address(10, 1, 0, 7)])
        #expect(try await resolver.resolve("10.2.3.4") == [IPv4Address(10, 2, 3, 4)])
        await #expect(throws: ResolveError.notFound("nowhere")) { try await resolver.resolve("nowhere") }
        #expect(dns.asked.suffix(3) == ["nowhere.default.svc.cluster.local", "nowhere.svc.cluster.local", "nowhere"])
    }

    @Test func silentServersTimeOut() async throws {
        let silent = try UDPSocket.bind(to: .ipv4(.loopback, port: 0), on: EventLoopGroup.shared.next())
        let resolver = HostResolver(
            configuration: ResolverConfiguration(nameservers: [silent.localAddress], ndots: 1,
                                                 timeout: .milliseconds(100), attempts: 1),
            eventLoop: EventLoopGroup.shared.next())
        await #expect(throws: ResolveError.timedOut("quiet")) { try await resolver.resolve("quiet") }
        await silent.close()
    }
}

/// A name server on loopback that knows a few A records and says NXDOMAIN to the rest.
final class FakeDNS: Sendable {
    let socket: UDPSocket
    private let task: Task<Void, Never>
    private let questions = LogLines()

    init(records: [String: IPv4Address]) throws {
        let socket = try UDPSocket.bind(to: .ipv4(.loopback, port: 0), on: EventLoopGroup.shared.next())
        self.socket = socket
        let questions = self.questions
        task = Task {
            while let datagram = try? await socket.receive() {
                let query = datagram.bytes.readableArray
                let name = FakeDNS.questionName(query)
                questions.log(name)
                let reply = records[name].map { FakeDNS.answer(to: query, address: $0, ttl: 30) } ?? FakeDNS.nxdomain(query)
                try? await socket.send(ByteBuffer(reply), to: datagram.peer)
            }
        }
    }

    var address: SocketAddress { socket.localAddress }
    var asked: [String] { questions.all }

    func stop() {
        task.cancel()
        let socket = self.socket
        Task { await socket.close() }
    }

    static func questionName(_ query: [UInt8]) -> String {
        var labels: [String] = []
        var offset = 12
        while offset < query.count, query[offset] != 0 {
            let length = Int(query[offset])
            labels.append(String(decoding: query[(offset + 1)..<(offset + 1 + length)], as: UTF8.self))
            offset += 1 + length
        }
        return labels.joined(separator: ".")
    }

    /// The query turned into a response with one A record (the name as a pointer to the question).
    static func answer(to query: [UInt8], address: IPv4Address, ttl: UInt32) -> [UInt8] {
        var reply = query
        reply[2] = 0x81
        reply[3] = 0x80
        reply[7] = 1
        reply += [0xC0, 12, 0, 1, 0, 1]
        reply += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF), 0, 4]
        reply += address.octets
        return reply
    }

    static func nxdomain(_ query: [UInt8]) -> [UInt8] {
        var reply = query
        reply[2] = 0x81
        reply[3] = 0x83
        return reply
    }
}
