import MeshModel

/// The inbound side (Istio's buildInboundListeners): `virtualInbound` on
/// 15006 with a chain per port of the workload, each to `inbound|<port>||`
/// at the pod's own IP, and a catch-all chain that passes other ports through.
enum InboundConfig {
    static let virtualInboundPort = 15006
    static let passthroughCluster = "InboundPassthroughCluster"
    /// The source address inbound connections to the app leave from: the
    /// capture rules let 127.0.0.6 through instead of capturing it again.
    static let bindAddress = "127.0.0.6"

    /// One port the workload serves.
    struct WorkloadPort: Hashable {
        var number: Int
        var kind: PortProtocolKind
    }

    static func build(scope: ProxyScope, snapshot: MeshSnapshot) -> (listener: Listener, clusters: [Cluster]) {
        let ports = workloadPorts(scope: scope, snapshot: snapshot)
        var chains: [FilterChain] = []
        var clusters: [Cluster] = []
        for port in ports {
            let cluster = "inbound|\(port.number)||"
            let name = "0.0.0.0_\(port.number)"
            if port.kind != .tcp {
                let route = Route(name: "default", match: RouteMatch(prefix: "/"),
                                  route: RouteAction(cluster: cluster, retryPolicy: RetryPolicies.inboundDefault))
                let routes = RouteConfiguration(name: cluster, virtualHosts: [
                    VirtualHost(name: "inbound|http|\(port.number)", domains: ["*"], routes: [route]),
                ])
                chains.append(FilterChain(
                    name: name, match: FilterChainMatch(destinationPort: port.number, applicationProtocol: port.kind == .auto ? "http" : nil),
                    http: HTTPConnectionManager(routeConfig: routes, statPrefix: "inbound_\(name)")))
            }
            if port.kind != .http {
                chains.append(FilterChain(
                    name: name, match: FilterChainMatch(destinationPort: port.number, applicationProtocol: port.kind == .auto ? "tcp" : nil),
                    tcp: TCPProxy(cluster: cluster, statPrefix: cluster)))
            }
            var local = Cluster(name: cluster, direction: .inbound, discovery: .staticEndpoints)
            local.staticEndpoints = [Endpoint(address: scope.proxy.podIP, port: port.number)]
            local.upstreamBindAddress = bindAddress
            local.connectTimeoutMs = OutboundClusters.defaultConnectTimeoutMs
            local.port = port.number
            clusters.append(local)
        }
        chains.append(FilterChain(name: "virtualInbound-catchall", tcp: TCPProxy(cluster: passthroughCluster, statPrefix: passthroughCluster)))
        var passthrough = Cluster(name: passthroughCluster, direction: .inbound, discovery: .originalDestination, loadBalancer: .passthrough)
        passthrough.upstreamBindAddress = bindAddress
        passthrough.connectTimeoutMs = OutboundClusters.defaultConnectTimeoutMs
        clusters.append(passthrough)
        let listener = Listener(name: "virtualInbound", address: "0.0.0.0", port: virtualInboundPort, direction: .inbound,
                                filterChains: chains)
        return (listener, clusters)
    }

    /// The ports of the proxy's pod, sorted: target ports of the services in
    /// its namespace that select it (protocol from the service port), then
    /// declared app container ports no service covers (protocol sniffed). A
    /// port two services declare differently keeps the first explicit protocol.
    static func workloadPorts(scope: ProxyScope, snapshot: MeshSnapshot) -> [WorkloadPort] {
        guard let pod = scope.pod else { return [] }
        let containers = pod.spec.containers
        let labels = pod.metadata.labels ?? [:]
        var kinds: [Int: PortProtocolKind] = [:]
        let selecting = snapshot.services.filter { service in
            guard (service.metadata.namespace ?? "default") == scope.namespace, let selector = service.spec.selector,
                !selector.isEmpty
            else { return false }
            return selector.allSatisfy { labels[$0.key] == $0.value }
        }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        for service in selecting {
            for port in service.spec.ports ?? [] where port.protocol ?? .tcp == .tcp {
                let number: Int?
                switch port.targetPort {
                case .int(let value)?: number = Int(value)
                case .string(let name)?:
                    number = containers.lazy.compactMap { $0.ports?.first { $0.name == name } }.first.map { Int($0.containerPort) }
                case nil: number = Int(port.port)
                }
                guard let number else { continue }
                let kind = port.appProtocol.map(PortProtocolKind.parse) ?? PortProtocolKind.parse(port.name)
                if kinds[number] == nil || kinds[number] == .auto { kinds[number] = kind }
            }
        }
        // The sidecar's own ports (older, non-native injection lists it among the containers) are not the app's.
        for container in containers where container.name != "istio-proxy" {
            for port in container.ports ?? [] where port.protocol ?? .tcp == .tcp && kinds[Int(port.containerPort)] == nil {
                kinds[Int(port.containerPort)] = .auto
            }
        }
        return kinds.map { WorkloadPort(number: $0.key, kind: $0.value) }.sorted { $0.number < $1.number }
    }
}
