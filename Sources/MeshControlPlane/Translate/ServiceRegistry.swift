import MeshModel

/// What a port carries, as Istio reads it from the port's name or protocol.
enum PortProtocolKind: String, Sendable, Hashable {
    /// HTTP/1.1, HTTP/2, gRPC: routed per request.
    case http
    /// Opaque bytes (tcp, tls, https, mongo, mysql, redis, ...): one cluster per connection.
    case tcp
    /// Unnamed or unknown: Istio sniffs the first bytes. meshlab does too: the
    /// listener has an HTTP chain and a TCP fallback chain.
    case auto

    /// Istio's protocol.Parse over a port name (`http-web` → `http`) or an
    /// appProtocol / ServiceEntry `protocol` (`HTTP2`, `kubernetes.io/h2c`).
    static func parse(_ text: String?) -> PortProtocolKind {
        guard var value = text?.lowercased(), !value.isEmpty else { return .auto }
        if let dash = value.firstIndex(of: "-"), !value.hasPrefix("grpc-web") { value = String(value[..<dash]) }
        switch value {
        case "http", "http2", "grpc", "grpc-web", "http_proxy", "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss", "h2c":
            return .http
        case "tcp", "tls", "https", "mongo", "mysql", "redis", "thrift", "hbone", "dubbo", "zookeeper":
            return .tcp
        default:
            return .auto
        }
    }
}

/// One port of a service in the mesh's registry.
struct RegistryPort: Sendable, Hashable {
    var name: String?
    var number: Int
    var kind: PortProtocolKind
    /// The endpoints' port (ServiceEntry `targetPort`); Kubernetes ports read theirs from Endpoints.
    var targetPort: Int?
}

/// A host the mesh can route to (Istio's model.Service): a Kubernetes Service
/// (`reviews.default.svc.cluster.local`) or one host of a ServiceEntry.
struct RegistryService: Sendable {
    enum Source: Sendable {
        case kubernetes(Service)
        case serviceEntry(ServiceEntry)
    }

    var hostname: String
    /// The Kubernetes service name (short-name domains are made only for these).
    var shortName: String?
    var namespace: String
    /// ClusterIP or the ServiceEntry's first address; nil when headless.
    var address: String?
    var ports: [RegistryPort]
    var exportTo: [String]?
    var source: Source

    func port(_ number: Int) -> RegistryPort? { ports.first { $0.number == number } }

    var resolution: ServiceEntry.Resolution? {
        if case .serviceEntry(let entry) = source { return entry.spec.resolution ?? ServiceEntry.Resolution.none }
        return nil
    }
}

/// Istio's naming rules for hosts.
enum MeshHost {
    static let clusterDomain = "svc.cluster.local"

    /// `reviews.default.svc.cluster.local`.
    static func kubernetes(_ name: String, namespace: String) -> String { "\(name).\(namespace).\(clusterDomain)" }

    /// A host as written in a rule of `namespace`: a name without a dot is a
    /// Kubernetes service of that namespace (Istio's ResolveShortnameToFQDN);
    /// anything else, wildcards included, is taken as written.
    static func resolve(_ host: String, in namespace: String) -> String {
        host.contains(".") || host.hasPrefix("*") ? host : kubernetes(host, namespace: namespace)
    }

    /// Whether `pattern` (exact, `*`, or `*.suffix`) covers `host`.
    static func matches(pattern: String, host: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasPrefix("*") { return host.hasSuffix(pattern.dropFirst()) }
        return pattern == host
    }

    /// How specific a pattern is (longer wins; exact beats any wildcard).
    static func specificity(_ pattern: String) -> Int {
        pattern.hasPrefix("*") ? pattern.count : Int.max
    }

    /// Istio's exportTo: absent or `*` is everywhere, `.` the owner's
    /// namespace, `~` nowhere, anything else a namespace name.
    static func isExported(_ exportTo: [String]?, from owner: String, to namespace: String) -> Bool {
        guard let exportTo, !exportTo.isEmpty else { return true }
        return exportTo.contains { entry in
            entry == "*" || (entry == "." && owner == namespace) || entry == namespace
        }
    }
}

extension RegistryService {
    /// Services and ServiceEntry hosts of `snapshot`, sorted by host then namespace.
    /// ExternalName services and UDP-only ports are left out (Istio does not proxy them).
    static func all(in snapshot: MeshSnapshot) -> [RegistryService] {
        var services: [RegistryService] = []
        for service in snapshot.services {
            guard let name = service.metadata.name, service.spec.type != .externalName else { continue }
            let namespace = service.metadata.namespace ?? "default"
            let ports = (service.spec.ports ?? []).compactMap { port -> RegistryPort? in
                guard port.protocol ?? .tcp == .tcp else { return nil }
                let kind = port.appProtocol.map(PortProtocolKind.parse) ?? PortProtocolKind.parse(port.name)
                return RegistryPort(name: port.name, number: Int(port.port), kind: kind)
            }
            let clusterIP = service.spec.clusterIP.flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
            let exportTo = service.metadata.annotations?["networking.istio.io/exportTo"].map {
                $0.split(separator: ",").map { String($0.filter { $0 != " " }) }
            }
            services.append(RegistryService(
                hostname: MeshHost.kubernetes(name, namespace: namespace), shortName: name, namespace: namespace,
                address: clusterIP, ports: ports, exportTo: exportTo, source: .kubernetes(service)))
        }
        for entry in snapshot.serviceEntries {
            let namespace = entry.metadata.namespace ?? "default"
            let ports = (entry.spec.ports ?? []).map {
                RegistryPort(name: $0.name, number: Int($0.number), kind: PortProtocolKind.parse($0.protocol ?? $0.name),
                             targetPort: $0.targetPort.map(Int.init))
            }
            // A single IP (not a CIDR) serves as the VIP, as a ClusterIP does.
            let address = (entry.spec.addresses ?? []).first { !$0.contains("/") }
            for host in entry.spec.hosts {
                services.append(RegistryService(
                    hostname: host, shortName: nil, namespace: namespace, address: address, ports: ports,
                    exportTo: entry.spec.exportTo, source: .serviceEntry(entry)))
            }
        }
        return services.sorted { ($0.hostname, $0.namespace) < ($1.hostname, $1.namespace) }
    }
}

/// The lookups translation makes once per endpoint, by key instead of by
/// scanning, so a config costs time linear in the snapshot.
struct SnapshotIndex: Sendable {
    var snapshot: MeshSnapshot
    private var pods: [String: Pod] = [:]
    private var podsByIP: [String: Pod] = [:]
    private var endpoints: [String: Endpoints] = [:]

    init(_ snapshot: MeshSnapshot) {
        self.snapshot = snapshot
        for pod in snapshot.pods {
            let namespace = pod.metadata.namespace ?? "default"
            if let name = pod.metadata.name { pods[namespace + "/" + name] = pods[namespace + "/" + name] ?? pod }
            if let ip = pod.status?.podIP { podsByIP[namespace + "/" + ip] = podsByIP[namespace + "/" + ip] ?? pod }
        }
        for object in snapshot.endpoints {
            guard let name = object.metadata.name else { continue }
            let key = (object.metadata.namespace ?? "default") + "/" + name
            endpoints[key] = endpoints[key] ?? object
        }
    }

    func pod(namespace: String, name: String) -> Pod? { pods[namespace + "/" + name] }
    func pod(namespace: String, ip: String) -> Pod? { podsByIP[namespace + "/" + ip] }
    func endpoints(namespace: String, name: String) -> Endpoints? { endpoints[namespace + "/" + name] }
}
