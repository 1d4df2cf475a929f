import MeshModel

/// One Service port as the kube-proxy role sees it: where clients send
/// (ClusterIP:port) and the ready endpoints it spreads them over.
public struct ServicePortRule: Sendable, Hashable {
    /// `namespace/name:port-name` (`:port-name` only when the port has a name).
    public var name: String
    public var clusterIP: String
    public var port: Int32
    /// `tcp`, `udp` or `sctp`.
    public var proto: String
    /// Ready endpoints, sorted: (IP, port).
    public var endpoints: [Endpoint]

    public struct Endpoint: Sendable, Hashable, Comparable {
        public var ip: String
        public var port: Int32

        public init(ip: String, port: Int32) {
            self.ip = ip
            self.port = port
        }

        public static func < (a: Endpoint, b: Endpoint) -> Bool {
            let (x, y) = (IPv4CIDR.parseAddress(a.ip) ?? 0, IPv4CIDR.parseAddress(b.ip) ?? 0)
            return x != y ? x < y : a.port < b.port
        }

        public var description: String { "\(ip):\(port)" }
    }

    public init(name: String, clusterIP: String, port: Int32, proto: String, endpoints: [Endpoint]) {
        self.name = name
        self.clusterIP = clusterIP
        self.port = port
        self.proto = proto
        self.endpoints = endpoints
    }

    /// `MESHLAB-SVC-` + 16 hex digits of a hash of the port (28 characters,
    /// iptables' limit), as kube-proxy names its KUBE-SVC- chains.
    public var serviceChain: String { "MESHLAB-SVC-" + ServiceRules.chainHash(name + "/" + proto) }

    public func endpointChain(_ endpoint: Endpoint) -> String {
        "MESHLAB-SEP-" + ServiceRules.chainHash(name + "/" + proto + "/" + endpoint.description)
    }
}

/// The kube-proxy role, inside each pod's own network namespace: traffic
/// from the pod to a ClusterIP:port is DNATed to one of the Service's
/// ready endpoints, chosen at random with equal odds; a Service with no
/// ready endpoint answers with an ICMP port unreachable, so clients fail at
/// once instead of timing out.
///
/// Pure: `ServiceRules(services:endpoints:)` builds the rules and
/// `restoreInput` renders them for `iptables-restore --noflush`, which
/// replaces only meshlab's own chains (a chain declared in the input is
/// flushed and refilled; every other chain — Istio's ISTIO_* — is left
/// as it is). The chains, in the nat table:
///
///     OUTPUT ─► MESHLAB-SERVICES ─(ClusterIP:port)─► MESHLAB-SVC-<hash>
///                                  ─(random 1/n)─► MESHLAB-SEP-<hash> ─► DNAT endpoint
///
/// and in the filter table, OUTPUT ─► MESHLAB-SERVICES ─► REJECT for ports
/// without endpoints (the filter table sees packets after nat's DNAT, so
/// only traffic that was not rewritten still has the ClusterIP).
///
/// Where the jumps sit (a contract for the sidecar's init step, issue 4):
/// the jump `-A OUTPUT -j MESHLAB-SERVICES` is added once, when the
/// sandbox is made, to an empty OUTPUT chain, and never moved or re-added
/// afterwards (later loads only rewrite MESHLAB-* chains). So when a pod's
/// init container runs, ours is the only rule of nat OUTPUT, and Istio's
/// `ISTIO_OUTPUT` jump must go *before* it: insert it with
/// `-I OUTPUT 1 -p tcp -j ISTIO_OUTPUT` (not `-A`), so the sidecar captures
/// ClusterIP traffic before meshlab's DNAT rewrites it (a NAT target ends
/// the chain walk: whichever jump comes first decides).
public struct ServiceRules: Sendable, Hashable {
    public var ports: [ServicePortRule]

    public static let servicesChain = "MESHLAB-SERVICES"

    public init(ports: [ServicePortRule]) {
        self.ports = ports.sorted { ($0.name, $0.proto) < ($1.name, $1.proto) }
    }

    /// The rules for `services` and their `endpoints` (matched by namespace
    /// and name). Services without a ClusterIP (headless, ExternalName) have
    /// none. An endpoint port is matched to the Service port by name, as
    /// kube-proxy does: the Endpoints controller names endpoint ports after
    /// Service ports and resolves named targetPorts to numbers there.
    public init(services: [Service], endpoints: [Endpoints]) {
        var byKey: [String: Endpoints] = [:]
        for object in endpoints { byKey[Self.key(object.metadata)] = object }
        var ports: [ServicePortRule] = []
        for service in services {
            guard service.spec.type != .externalName, let clusterIP = service.spec.clusterIP,
                IPv4CIDR.parseAddress(clusterIP) != nil
            else { continue }
            let key = Self.key(service.metadata)
            for port in service.spec.ports ?? [] {
                let proto = (port.protocol ?? .tcp).rawValue.lowercased()
                let portName = port.name ?? ""
                var found: Set<ServicePortRule.Endpoint> = []
                for subset in byKey[key]?.subsets ?? [] {
                    guard let match = (subset.ports ?? []).first(where: {
                        ($0.name ?? "") == portName && ($0.protocol ?? .tcp).rawValue.lowercased() == proto
                    }) else { continue }
                    for address in subset.addresses ?? [] where IPv4CIDR.parseAddress(address.ip) != nil {
                        found.insert(.init(ip: address.ip, port: match.port))
                    }
                }
                ports.append(ServicePortRule(
                    name: key + (portName.isEmpty ? "" : ":" + portName), clusterIP: clusterIP, port: port.port,
                    proto: proto, endpoints: found.sorted()))
            }
        }
        self.init(ports: ports)
    }

    static func key(_ metadata: ObjectMeta) -> String { "\(metadata.namespace ?? "default")/\(metadata.name ?? "")" }

    /// The per-service and per-endpoint chains these rules use in the nat table.
    public var natChains: Set<String> {
        var chains: Set<String> = []
        for port in ports where !port.endpoints.isEmpty {
            chains.insert(port.serviceChain)
            for endpoint in port.endpoints { chains.insert(port.endpointChain(endpoint)) }
        }
        return chains
    }

    /// What a pod's netns holds of ours: after a load, the state this load leaves.
    public struct InstalledState: Sendable, Hashable {
        public var natJump: Bool
        public var filterJump: Bool
        /// MESHLAB-SVC/SEP chains in the nat table.
        public var chains: Set<String>

        public init(natJump: Bool, filterJump: Bool, chains: Set<String>) {
            self.natJump = natJump
            self.filterJump = filterJump
            self.chains = chains
        }

        /// A new sandbox's: nothing.
        public static let empty = InstalledState(natJump: false, filterJump: false, chains: [])
    }

    /// The state `restoreInput(over:)` leaves behind.
    public var installedState: InstalledState { InstalledState(natJump: true, filterJump: true, chains: natChains) }

    /// iptables-restore input for `--noflush`, to go from `installed` to
    /// these rules: OUTPUT jumps only where missing (a sandbox's first
    /// load), our chains flushed and refilled, chains no longer used
    /// (services or endpoints gone) flushed and deleted.
    public func restoreInput(over installed: InstalledState) -> String {
        let current = natChains
        let stale = installed.chains.subtracting(current).filter { $0.hasPrefix("MESHLAB-SVC-") || $0.hasPrefix("MESHLAB-SEP-") }.sorted()
        var nat = ["*nat", ":\(Self.servicesChain) - [0:0]"]
        for port in ports where !port.endpoints.isEmpty {
            nat.append(":\(port.serviceChain) - [0:0]")
            for endpoint in port.endpoints { nat.append(":\(port.endpointChain(endpoint)) - [0:0]") }
        }
        for chain in stale { nat.append(":\(chain) - [0:0]") }
        if !installed.natJump {
            nat.append("-A OUTPUT -m comment --comment \"meshlab service portals\" -j \(Self.servicesChain)")
        }
        for port in ports where !port.endpoints.isEmpty {
            nat.append("-A \(Self.servicesChain) -d \(port.clusterIP)/32 -p \(port.proto) -m comment --comment "
                + "\(Self.quoted(port.name + " cluster IP")) -m \(port.proto) --dport \(port.port) -j \(port.serviceChain)")
        }
        for port in ports where !port.endpoints.isEmpty {
            let count = port.endpoints.count
            for (index, endpoint) in port.endpoints.enumerated() {
                var rule = "-A \(port.serviceChain) -m comment --comment \(Self.quoted("\(port.name) -> \(endpoint.description)"))"
                if index < count - 1 { rule += " -m statistic --mode random --probability \(Self.probability(1, count - index))" }
                nat.append(rule + " -j \(port.endpointChain(endpoint))")
            }
            for endpoint in port.endpoints {
                nat.append("-A \(port.endpointChain(endpoint)) -p \(port.proto) -m comment --comment \(Self.quoted(port.name)) "
                    + "-m \(port.proto) -j DNAT --to-destination \(endpoint.description)")
            }
        }
        for chain in stale { nat.append("-X \(chain)") }
        nat.append("COMMIT")

        var filter = ["*filter", ":\(Self.servicesChain) - [0:0]"]
        if !installed.filterJump {
            filter.append("-A OUTPUT -m comment --comment \"meshlab services without endpoints\" -j \(Self.servicesChain)")
        }
        for port in ports where port.endpoints.isEmpty {
            filter.append("-A \(Self.servicesChain) -d \(port.clusterIP)/32 -p \(port.proto) -m comment --comment "
                + "\(Self.quoted(port.name + " has no endpoints")) -m \(port.proto) --dport \(port.port) "
                + "-j REJECT --reject-with icmp-port-unreachable")
        }
        filter.append("COMMIT")
        return (nat + filter).joined(separator: "\n") + "\n"
    }

    /// `numerator/denominator` with ten decimals, as kube-proxy writes it
    /// (the n-th of k remaining endpoints is taken with odds 1/k, so each of
    /// the endpoints gets an equal share).
    static func probability(_ numerator: Int, _ denominator: Int) -> String {
        let scaled = (UInt64(numerator) * 10_000_000_000 + UInt64(denominator) / 2) / UInt64(denominator)
        let digits = String(scaled % 10_000_000_000)
        return "\(scaled / 10_000_000_000)." + String(repeating: "0", count: 10 - digits.count) + digits
    }

    /// A comment argument: quoted, with characters iptables would split on removed.
    static func quoted(_ text: String) -> String {
        "\"" + String(text.filter { $0 != "\"" && $0 != "\\" && $0 != "\n" }.prefix(250)) + "\""
    }

    /// 16 uppercase hex digits of FNV-1a 64.
    static func chainHash(_ text: String) -> String {
        LabNetworkConfiguration.hashHex(text, digits: 16).uppercased()
    }

    /// What an `iptables-save` of a pod's netns says about our rules: whether
    /// the OUTPUT jumps are in place, and which MESHLAB-SVC/SEP chains exist
    /// (for a sandbox adopted after a restart, whose last load is unknown).
    public static func installedState(fromSave text: String) -> InstalledState {
        var table = ""
        var natJump = false
        var filterJump = false
        var chains: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("*") { table = String(line.dropFirst()) }
            if line.hasPrefix(":MESHLAB-SVC-") || line.hasPrefix(":MESHLAB-SEP-"), table == "nat" {
                chains.insert(String(line.dropFirst().prefix { $0 != " " }))
            }
            if line.hasPrefix("-A OUTPUT "), line.hasSuffix("-j \(servicesChain)") {
                if table == "nat" { natJump = true }
                if table == "filter" { filterJump = true }
            }
        }
        return InstalledState(natJump: natJump, filterJump: filterJump, chains: chains)
    }
}
