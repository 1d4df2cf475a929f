import MeshSystem

/// What the resolver says to one question: the parts of a response that depend on the
/// cluster. `DNSResponder` wraps it in a message.
public struct DNSAnswer: Hashable, Sendable {
    public var responseCode: DNSResponseCode
    /// AA: set for names in the zones meshlab serves, clear for names outside them.
    public var isAuthoritative: Bool
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    public var additional: [DNSRecord]

    public init(responseCode: DNSResponseCode, isAuthoritative: Bool, answers: [DNSRecord] = [],
                authority: [DNSRecord] = [], additional: [DNSRecord] = []) {
        self.responseCode = responseCode
        self.isAuthoritative = isAuthoritative
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    /// Outside every zone meshlab serves: NXDOMAIN, not authoritative, no SOA. Nothing is
    /// forwarded out of the lab (see `ClusterDNSResolver`).
    public static let outsideTheLab = DNSAnswer(responseCode: .nameError, isAuthoritative: false)
    public static let refused = DNSAnswer(responseCode: .refused, isAuthoritative: false)
}

/// Answers questions from a `ClusterDNSSnapshot` the way CoreDNS's kubernetes plugin does
/// (with `pods insecure`, the default Corefile's setting, and no `fallthrough`):
///
/// | name | A / AAAA |
/// |---|---|
/// | `svc.ns.svc.<zone>` | ClusterIPs; a headless service's ready endpoint IPs; CNAME for ExternalName |
/// | `ep.svc.ns.svc.<zone>` | that endpoint (ep: its hostname, or its dashed IP) |
/// | `_port._proto.svc.ns.svc.<zone>` | like the service, if it has that port (SRV: one per port and endpoint) |
/// | `1-2-3-4.ns.pod.<zone>` | that IP, for any namespace that exists |
/// | `<zone>`, `ns.svc.<zone>`, `svc.<zone>`, `pod.<zone>` | NODATA (SOA/NS at the apex) |
/// | anything else under `<zone>` | NXDOMAIN with the zone's SOA |
/// | `d.c.b.a.in-addr.arpa` (PTR) | service FQDN for a ClusterIP, endpoint FQDNs for an endpoint IP |
/// | any other name | NXDOMAIN, not authoritative |
///
/// A name that exists but has no record of the asked type is NODATA: NOERROR, empty
/// answer, SOA in authority (so `AAAA` for an IPv4-only service does not make glibc
/// give up on the name). Names outside the zone get NXDOMAIN rather than REFUSED: the
/// issue asks for it, and it is what a client should conclude: no such name here, and
/// nothing is forwarded out of the lab. glibc maps REFUSED to "no recovery", and curl
/// would report a server failure instead of an unknown host. Answers echo the
/// question's name byte for byte (RFC 4343); lookups ignore case.
public struct ClusterDNSResolver: Sendable {
    public struct Options: Sendable {
        /// The cluster domain.
        public var zone: DNSName
        /// TTL of every answer, and of the SOA (CoreDNS's default: 5 s).
        public var ttl: UInt32
        /// The server's own address: `ns.dns.<zone>` A, and glue for the apex NS (nil: none).
        public var nameserverAddress: IPv4Address?

        public init(zone: DNSName = "cluster.local", ttl: UInt32 = 5, nameserverAddress: IPv4Address? = nil) {
            self.zone = zone
            self.ttl = ttl
            self.nameserverAddress = nameserverAddress
        }
    }

    public let options: Options
    private let reverseV4: DNSName = "in-addr.arpa"
    private let reverseV6: DNSName = "ip6.arpa"
    /// CoreDNS's schema version, served at `dns-version.<zone>` TXT (the DNS spec for Kubernetes).
    static let schemaVersion = "1.1.0"

    public init(options: Options = Options()) {
        self.options = options
    }

    public func answer(_ question: DNSQuestion, in snapshot: ClusterDNSSnapshot) -> DNSAnswer {
        guard question.class == .internet || question.class == .any else { return .refused }
        if question.type == .axfr || question.type == .ixfr { return .refused }
        if let relative = question.name.relativeLabels(to: options.zone) {
            return answerInZone(question, relative.map { String(decoding: $0, as: UTF8.self) }, snapshot, depth: 0)
        }
        if let relative = question.name.relativeLabels(to: reverseV4) {
            return answerReverse(question, address: Self.reverseIPv4(relative), snapshot)
        }
        if let relative = question.name.relativeLabels(to: reverseV6) {
            return answerReverse(question, address: Self.reverseIPv6(relative), snapshot)
        }
        return .outsideTheLab
    }

    // MARK: The cluster zone

    /// A name found, and what it holds: addresses, an alias, and what SRV would point at.
    private struct Hit {
        enum Value { case address(HostAddress), alias(DNSName) }
        var value: Value
        var port: UInt16?
        /// The SRV target: the service's own name, or the endpoint's.
        var srvTarget: DNSName?
    }

    /// CNAME chains inside the zone are followed at most this far.
    private static let maximumAliasDepth = 8

    private func answerInZone(_ question: DNSQuestion, _ labels: [String], _ snapshot: ClusterDNSSnapshot,
                              depth: Int) -> DNSAnswer {
        guard let last = labels.last else { return answerApex(question, snapshot) }
        switch (last, labels.count) {
        case ("dns-version", 1):
            guard question.type == .txt || question.type == .any else { return noData(snapshot) }
            let record = DNSRecord(name: question.name, ttl: options.ttl, data: .txt([Array(Self.schemaVersion.utf8)]))
            return DNSAnswer(responseCode: .noError, isAuthoritative: true, answers: [record])
        case ("dns", 1) where options.nameserverAddress != nil:
            return noData(snapshot)
        case ("dns", 2) where labels[0] == "ns":
            guard let address = options.nameserverAddress else { return nameError(snapshot) }
            guard question.type == .a || question.type == .any else { return noData(snapshot) }
            return DNSAnswer(responseCode: .noError, isAuthoritative: true,
                             answers: [DNSRecord(name: question.name, ttl: options.ttl, data: .a(address))])
        case ("svc", 1), ("pod", 1):
            return noData(snapshot)
        case ("svc", 2), ("pod", 2):
            return snapshot.namespaces.contains(labels[0]) ? noData(snapshot) : nameError(snapshot)
        case ("svc", 3...5):
            guard let hits = serviceHits(labels, snapshot, naming: question.type == .srv) else { return nameError(snapshot) }
            return records(for: question, hits, snapshot, depth: depth)
        case ("pod", 3):
            guard snapshot.namespaces.contains(labels[1]), let address = Self.podAddress(labels[0]) else {
                return nameError(snapshot)
            }
            return records(for: question, [Hit(value: .address(address), port: nil, srvTarget: nil)], snapshot, depth: depth)
        default:
            return nameError(snapshot)
        }
    }

    private func answerApex(_ question: DNSQuestion, _ snapshot: ClusterDNSSnapshot) -> DNSAnswer {
        var answer = DNSAnswer(responseCode: .noError, isAuthoritative: true)
        if question.type == .soa || question.type == .any {
            answer.answers.append(soa(options.zone, snapshot, owner: question.name))
        }
        if question.type == .ns || question.type == .any {
            answer.answers.append(DNSRecord(name: question.name, ttl: options.ttl, data: .ns(nameserverName(options.zone))))
            if let address = options.nameserverAddress {
                answer.additional.append(DNSRecord(name: nameserverName(options.zone), ttl: options.ttl, data: .a(address)))
            }
        }
        return answer.answers.isEmpty ? noData(snapshot) : answer
    }

    /// `[svc, ns, "svc"]`, `[endpoint, svc, ns, "svc"]` or `[_port, _proto, svc, ns, "svc"]`
    /// (CoreDNS's parse.go); nil when nothing matches (NXDOMAIN). SRV targets are only
    /// named when `naming` (building names is most of the cost of an A lookup).
    private func serviceHits(_ labels: [String], _ snapshot: ClusterDNSSnapshot, naming: Bool) -> [Hit]? {
        let count = labels.count
        let key = ClusterDNSSnapshot.ServiceKey(namespace: labels[count - 2], name: labels[count - 3])
        guard let service = snapshot.services[key] else { return nil }
        var endpointName: String?
        var portFilter: (port: String, proto: String)?
        if count == 4 { endpointName = labels[0] }
        if count == 5 { portFilter = (Self.stripUnderscore(labels[0]), Self.stripUnderscore(labels[1])) }
        func portMatches(_ port: ClusterDNSSnapshot.PortRecord) -> Bool {
            guard let portFilter else { return true }
            return portFilter.port == port.name && portFilter.proto == port.proto
        }
        let serviceName = naming ? self.serviceName(key) : nil

        var hits: [Hit] = []
        switch service.kind {
        case .externalName(let target):
            guard endpointName == nil else { return nil }
            hits.append(Hit(value: .alias(target), port: nil, srvTarget: nil))
        case .virtualIP(let addresses) where endpointName == nil:
            let ports = service.ports.filter(portMatches)
            if portFilter != nil && ports.isEmpty { return nil }
            for address in addresses {
                if ports.isEmpty { hits.append(Hit(value: .address(address), port: nil, srvTarget: serviceName)) }
                for port in ports { hits.append(Hit(value: .address(address), port: port.port, srvTarget: serviceName)) }
            }
            // A ClusterIP not allocated yet: the name exists, with no address (NODATA).
            if addresses.isEmpty { return [] }
        case .virtualIP, .headless:
            for endpoint in service.endpoints where endpointName == nil || endpointName == endpoint.hostname {
                let target = serviceName?.prepending(endpoint.hostname)
                let ports = endpoint.ports.filter(portMatches)
                if ports.isEmpty && portFilter == nil {
                    hits.append(Hit(value: .address(endpoint.address), port: nil, srvTarget: target))
                }
                for port in ports { hits.append(Hit(value: .address(endpoint.address), port: port.port, srvTarget: target)) }
            }
        }
        return hits.isEmpty ? nil : hits
    }

    /// Turns hits into the records the question's type asks for.
    private func records(for question: DNSQuestion, _ hits: [Hit], _ snapshot: ClusterDNSSnapshot, depth: Int) -> DNSAnswer {
        var answer = DNSAnswer(responseCode: .noError, isAuthoritative: true)
        let type = question.type
        func addresses(_ wanted: (HostAddress) -> Bool) -> [HostAddress] {
            var seen: [HostAddress] = []
            for hit in hits {
                if case .address(let address) = hit.value, wanted(address), !seen.contains(address) { seen.append(address) }
            }
            return seen
        }
        func record(_ owner: DNSName, _ address: HostAddress) -> DNSRecord {
            switch address {
            case .v4(let v4): DNSRecord(name: owner, ttl: options.ttl, data: .a(v4))
            case .v6(let v6): DNSRecord(name: owner, ttl: options.ttl, data: .aaaa(v6))
            }
        }

        if case .alias(let target) = hits.first?.value {
            // ExternalName: one CNAME, followed when it points back into the zone.
            guard type == .a || type == .aaaa || type == .cname || type == .any else { return noData(snapshot) }
            answer.answers.append(DNSRecord(name: question.name, ttl: options.ttl, data: .cname(target)))
            if type != .cname, depth < Self.maximumAliasDepth, let relative = target.relativeLabels(to: options.zone) {
                let next = answerInZone(DNSQuestion(name: target, type: type),
                                        relative.map { String(decoding: $0, as: UTF8.self) }, snapshot, depth: depth + 1)
                answer.answers += next.answers
            }
            return answer
        }

        switch type {
        case .a, .aaaa, .any:
            answer.answers = addresses {
                switch $0 {
                case .v4: type != .aaaa
                case .v6: type != .a
                }
            }.map { record(question.name, $0) }
        case .srv:
            var srvs: [DNSSRV] = []
            var glue: [DNSRecord] = []
            for hit in hits {
                guard let port = hit.port, let target = hit.srvTarget, case .address(let address) = hit.value else { continue }
                let srv = DNSSRV(priority: 0, weight: 0, port: port, target: target)
                if !srvs.contains(srv) { srvs.append(srv) }
                let extra = record(target, address)
                if !glue.contains(extra) { glue.append(extra) }
            }
            // CoreDNS's weights: the 100 shared evenly among the records of a priority.
            let weight = UInt16(max(1, 100 / max(1, srvs.count)))
            answer.answers = srvs.map {
                DNSRecord(name: question.name, ttl: options.ttl, data: .srv(DNSSRV(priority: 0, weight: weight, port: $0.port, target: $0.target)))
            }
            answer.additional = glue
        default:
            break
        }
        return answer.answers.isEmpty ? noData(snapshot) : answer
    }

    // MARK: Reverse zones

    private func answerReverse(_ question: DNSQuestion, address: HostAddress?, _ snapshot: ClusterDNSSnapshot) -> DNSAnswer {
        // Only addresses the cluster handed out are ours; any other is a name outside the lab.
        guard let address, let targets = snapshot.reverse[address], !targets.isEmpty else { return .outsideTheLab }
        let zone = question.name.isSubdomain(of: reverseV4) ? reverseV4 : reverseV6
        guard question.type == .ptr || question.type == .any else { return noData(snapshot, zone: zone) }
        var names: [DNSName] = []
        if case .service(let key) = targets[0] {
            names = [serviceName(key)].compactMap { $0 }
        } else {
            for case .endpoint(let key, let hostname) in targets {
                if let name = serviceName(key)?.prepending(hostname), !names.contains(name) { names.append(name) }
            }
        }
        guard !names.isEmpty else { return noData(snapshot, zone: zone) }
        return DNSAnswer(responseCode: .noError, isAuthoritative: true,
                         answers: names.map { DNSRecord(name: question.name, ttl: options.ttl, data: .ptr($0)) })
    }

    private func serviceName(_ key: ClusterDNSSnapshot.ServiceKey) -> DNSName? {
        DNSName(labels: [key.name, key.namespace, "svc"].map { Array($0.utf8) } + options.zone.labels)
    }

    /// `4.3.2.1` (already split and reversed by the caller's labels) → 1.2.3.4.
    static func reverseIPv4(_ labels: [[UInt8]]) -> HostAddress? {
        guard labels.count == 4 else { return nil }
        return IPv4Address(labels.reversed().map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")).map(HostAddress.v4)
    }

    /// 32 nibble labels, least significant first → the IPv6 address.
    static func reverseIPv6(_ labels: [[UInt8]]) -> HostAddress? {
        guard labels.count == 32 else { return nil }
        var nibbles: [UInt8] = []
        for label in labels.reversed() {
            guard label.count == 1, let value = hexValue(label[0]) else { return nil }
            nibbles.append(value)
        }
        let bytes = stride(from: 0, to: 32, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
        return IPv6Address(bytes: bytes).map(HostAddress.v6)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    // MARK: Pieces

    /// `10-44-0-7` → 10.44.0.7; `fd00--7` → fd00::7 (CoreDNS: three dashes and no
    /// double dash is IPv4, anything else IPv6).
    static func podAddress(_ label: String) -> HostAddress? {
        let dashes = label.filter { $0 == "-" }.count
        if dashes == 3 && !label.contains("--") {
            return IPv4Address(label.replacingDashes(with: ".")).map(HostAddress.v4)
        }
        return IPv6Address(label.replacingDashes(with: ":")).map(HostAddress.v6)
    }

    static func stripUnderscore(_ label: String) -> String {
        label.hasPrefix("_") ? String(label.dropFirst()) : label
    }

    private func nameserverName(_ zone: DNSName) -> DNSName {
        DNSName(labels: [Array("ns".utf8), Array("dns".utf8)] + zone.labels) ?? zone
    }

    /// The zone's SOA, as CoreDNS writes it: `ns.dns.<zone> hostmaster.<zone> serial 7200 1800 86400 ttl`.
    private func soa(_ zone: DNSName, _ snapshot: ClusterDNSSnapshot, owner: DNSName? = nil) -> DNSRecord {
        let mailbox = DNSName(labels: [Array("hostmaster".utf8)] + zone.labels) ?? zone
        return DNSRecord(name: owner ?? zone, ttl: options.ttl, data: .soa(DNSSOA(
            primaryServer: nameserverName(zone), mailbox: mailbox, serial: snapshot.serial,
            refresh: 7200, retry: 1800, expire: 86400, minimum: options.ttl)))
    }

    private func noData(_ snapshot: ClusterDNSSnapshot, zone: DNSName? = nil) -> DNSAnswer {
        DNSAnswer(responseCode: .noError, isAuthoritative: true, authority: [soa(zone ?? options.zone, snapshot)])
    }

    private func nameError(_ snapshot: ClusterDNSSnapshot) -> DNSAnswer {
        DNSAnswer(responseCode: .nameError, isAuthoritative: true, authority: [soa(options.zone, snapshot)])
    }
}

extension String {
    fileprivate func replacingDashes(with replacement: Character) -> String {
        String(map { $0 == "-" ? replacement : $0 })
    }
}
