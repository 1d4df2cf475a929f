import MeshModel

/// Outbound listeners and their route configurations (Istio's
/// buildSidecarOutboundListeners and BuildSidecarOutboundVirtualHosts).
///
/// Protocol is read from the port (name prefix, appProtocol, ServiceEntry
/// protocol). An HTTP port joins the wildcard listener `0.0.0.0_<port>`,
/// which routes by Host through RouteConfiguration `<port>`. A TCP port gets
/// `<VIP>_<port>`, proxying the connection to the service's cluster. A port
/// whose protocol is unknown gets `<VIP>_<port>` with both: an HTTP chain for
/// connections sniffed as HTTP/1.1 and a TCP chain for the rest (Istio sniffs
/// the same way). Services without a VIP (headless, ServiceEntries without
/// addresses) are reachable over HTTP by name only; their TCP ports get no
/// listener.
enum OutboundListeners {
    static let virtualOutboundPort = 15001
    static let passthroughCluster = "PassthroughCluster"
    static let blackHoleCluster = "BlackHoleCluster"

    static func build(scope: ProxyScope, snapshot: MeshSnapshot) -> (listeners: [Listener], routes: [RouteConfiguration]) {
        let builder = HTTPRouteBuilder(scope: scope, snapshot: snapshot)
        let rules = VirtualServiceLookup.visible(to: scope, in: snapshot.virtualServices)
        var listeners: [Listener] = [virtualOutbound(registryOnly: scope.registryOnly)]
        var hostsByPort: [Int: [VirtualHost]] = [:]
        var wildcardPorts: Set<Int> = []

        for service in scope.services {
            let rule = VirtualServiceLookup.rule(for: service.hostname, among: rules)
            for port in service.ports {
                let cluster = OutboundClusters.name(port: port.number, subset: nil, hostname: service.hostname)
                if port.kind != .tcp {
                    var routes = rule.map { builder.routes(from: $0, port: port.number) } ?? []
                    // No rule, or one with nothing for this port (only tcp routes, or
                    // matches on other ports): the service's default route.
                    if routes.isEmpty { routes = [builder.defaultRoute(service: service, port: port.number)] }
                    hostsByPort[port.number, default: []].append(VirtualHost(
                        name: "\(service.hostname):\(port.number)",
                        domains: domains(for: service, port: port.number, proxyNamespace: scope.namespace), routes: routes))
                    if port.kind == .http || service.address == nil { wildcardPorts.insert(port.number) }
                }
                guard port.kind != .http, let address = service.address else { continue }
                let name = "\(address)_\(port.number)"
                var chains: [FilterChain] = []
                if port.kind == .auto {
                    chains.append(FilterChain(
                        name: name, match: FilterChainMatch(applicationProtocol: "http"),
                        http: HTTPConnectionManager(routeConfigName: String(port.number), statPrefix: "outbound_\(name)")))
                }
                let tcp = tcpProxy(service: service, port: port.number, rule: rule, builder: builder, fallback: cluster)
                chains.append(FilterChain(name: name, match: FilterChainMatch(applicationProtocol: port.kind == .auto ? "tcp" : nil),
                                          tcp: tcp))
                listeners.append(Listener(name: name, address: address, port: port.number, direction: .outbound,
                                          filterChains: chains))
            }
        }

        for port in wildcardPorts {
            let name = "0.0.0.0_\(port)"
            listeners.append(Listener(name: name, address: "0.0.0.0", port: port, direction: .outbound, filterChains: [
                FilterChain(name: name, http: HTTPConnectionManager(routeConfigName: String(port), statPrefix: "outbound_\(name)")),
            ]))
        }
        let routes = hostsByPort.map { port, hosts in
            RouteConfiguration(name: String(port), virtualHosts: distinctDomains(hosts) + [catchAll(registryOnly: scope.registryOnly)])
        }
        return (listeners, routes)
    }

    /// Envoy refuses a domain in two virtual hosts of one route configuration:
    /// the first host (by name) keeps it.
    static func distinctDomains(_ hosts: [VirtualHost]) -> [VirtualHost] {
        var seen: Set<String> = []
        return hosts.sorted { $0.name < $1.name }.map { host in
            var host = host
            host.domains = host.domains.filter { seen.insert($0).inserted }
            return host
        }
    }

    /// The Host values that select a service (Istio's generateVirtualHostDomains):
    /// the FQDN; for Kubernetes services `name.ns` and `name.ns.svc` and, from
    /// the same namespace, `name`; the VIP; each also with `:port`.
    static func domains(for service: RegistryService, port: Int, proxyNamespace: String) -> [String] {
        var names = [service.hostname]
        if let short = service.shortName {
            if service.namespace == proxyNamespace { names.append(short) }
            names.append("\(short).\(service.namespace)")
            names.append("\(short).\(service.namespace).svc")
        }
        if let address = service.address { names.append(address) }
        return names.flatMap { [$0, "\($0):\(port)"] }
    }

    /// The virtual host for any other Host: pass through (ALLOW_ANY) or
    /// answer 502 (REGISTRY_ONLY), as Istio's `allow_any` / `block_all`.
    static func catchAll(registryOnly: Bool) -> VirtualHost {
        var route = Route(name: registryOnly ? "block_all" : "allow_any", match: RouteMatch(prefix: "/"))
        if registryOnly {
            route.directResponse = DirectResponseAction(status: 502)
        } else {
            route.route = RouteAction(cluster: passthroughCluster)
        }
        return VirtualHost(name: route.name!, domains: ["*"], routes: [route])
    }

    /// The listener on 15001 that every outbound connection is captured to;
    /// its own chain takes connections no service listener matched.
    static func virtualOutbound(registryOnly: Bool) -> Listener {
        let cluster = registryOnly ? blackHoleCluster : passthroughCluster
        return Listener(name: "virtualOutbound", address: "0.0.0.0", port: virtualOutboundPort, direction: .outbound,
                        filterChains: [FilterChain(name: cluster, tcp: TCPProxy(cluster: cluster, statPrefix: cluster))])
    }

    /// A TCP service port's proxy: the first VirtualService `tcp` route whose
    /// matches fit this port and proxy (only `port`, `sourceLabels`,
    /// `sourceNamespace` and `gateways` are judged; subnet matches are not),
    /// else the port's own cluster.
    static func tcpProxy(service: RegistryService, port: Int, rule: VirtualService?, builder: HTTPRouteBuilder,
                         fallback: String) -> TCPProxy {
        let namespace = rule?.metadata.namespace ?? "default"
        let route = (rule?.spec.tcp ?? []).first { tcp in
            let matches = tcp.match ?? []
            return matches.isEmpty || matches.contains { match in
                var http = VirtualService.HTTPMatchRequest()
                http.port = match.port
                http.sourceLabels = match.sourceLabels
                http.sourceNamespace = match.sourceNamespace
                http.gateways = match.gateways
                return builder.applies(http, port: port)
            }
        }
        let destinations = (route?.route ?? []).filter { (route?.route ?? []).count == 1 || ($0.weight ?? 0) > 0 }
        if destinations.count > 1 {
            return TCPProxy(weightedClusters: destinations.map {
                WeightedCluster(name: builder.clusterName($0.destination, namespace: namespace, port: port), weight: Int($0.weight ?? 0))
            }, statPrefix: fallback)
        }
        let cluster = destinations.first.map { builder.clusterName($0.destination, namespace: namespace, port: port) } ?? fallback
        return TCPProxy(cluster: cluster, statPrefix: cluster)
    }

    /// The clusters every sidecar has: where unknown destinations go.
    static var fixedClusters: [Cluster] {
        var passthrough = Cluster(name: passthroughCluster, direction: .outbound, discovery: .originalDestination,
                                  loadBalancer: .passthrough)
        passthrough.connectTimeoutMs = OutboundClusters.defaultConnectTimeoutMs
        var blackHole = Cluster(name: blackHoleCluster, direction: .outbound, discovery: .staticEndpoints)
        blackHole.staticEndpoints = []
        return [passthrough, blackHole]
    }
}
