import MeshModel

/// A sidecar config built by hand as translation would for bookinfo's reviews:
/// subsets v1/v2/v3, a route for end-user jason to v2, and 90/10 v1/v3 for everyone else.
enum BookinfoConfig {
    static let fqdn = "reviews.default.svc.cluster.local"
    static func cluster(_ subset: String) -> String { "outbound|9080|\(subset)|\(fqdn)" }

    static func make(endpointsPerSubset: [String: [Endpoint]] = [:]) -> ProxyConfig {
        let subsets = ["v1", "v2", "v3"]
        var clusters = subsets.map { subset -> Cluster in
            var cluster = Cluster(name: cluster(subset), direction: .outbound, discovery: .eds)
            cluster.serviceName = fqdn
            cluster.subset = subset
            cluster.port = 9080
            return cluster
        }
        clusters.append(Cluster(name: "PassthroughCluster", direction: .outbound, discovery: .originalDestination,
                                loadBalancer: .passthrough))
        var blackHole = Cluster(name: "BlackHoleCluster", direction: .outbound, discovery: .staticEndpoints)
        blackHole.staticEndpoints = []
        clusters.append(blackHole)
        let endpoints = subsets.enumerated().map { index, subset in
            ClusterLoadAssignment(clusterName: cluster(subset), endpoints: endpointsPerSubset[subset]
                                  ?? [Endpoint(address: "10.44.0.\(10 + index)", port: 9080)])
        }
        var jason = Route(name: "jason", match: RouteMatch(prefix: "/", headers: [
            HeaderMatcher(name: "end-user", match: StringMatcher(exact: "jason")),
        ]), route: RouteAction(cluster: cluster("v2")))
        jason.virtualService = "reviews.default"
        let split = Route(name: "default", match: RouteMatch(prefix: "/"), route: RouteAction(weightedClusters: [
            WeightedCluster(name: cluster("v1"), weight: 90), WeightedCluster(name: cluster("v3"), weight: 10),
        ]))
        let routes = RouteConfiguration(name: "9080", virtualHosts: [
            VirtualHost(name: "\(fqdn):9080",
                        domains: ["reviews", "reviews:9080", "reviews.default", "reviews.default:9080", fqdn, "\(fqdn):9080",
                                  "10.96.0.20", "10.96.0.20:9080"],
                        routes: [jason, split]),
            VirtualHost(name: "allow_any", domains: ["*"], routes: [
                Route(name: "allow_any", match: RouteMatch(prefix: "/"), route: RouteAction(cluster: "PassthroughCluster")),
            ]),
        ])
        let listeners = [
            Listener(name: "0.0.0.0_9080", address: "0.0.0.0", port: 9080, direction: .outbound, filterChains: [
                FilterChain(match: FilterChainMatch(applicationProtocol: "http"),
                            http: HTTPConnectionManager(routeConfigName: "9080", statPrefix: "outbound_0.0.0.0_9080")),
                FilterChain(match: FilterChainMatch(applicationProtocol: "tcp"),
                            tcp: TCPProxy(cluster: "PassthroughCluster", statPrefix: "PassthroughCluster")),
            ]),
            Listener(name: "virtualOutbound", address: "0.0.0.0", port: 15001, direction: .outbound, filterChains: [
                FilterChain(name: "PassthroughFilterChain", tcp: TCPProxy(cluster: "PassthroughCluster", statPrefix: "PassthroughCluster")),
            ]),
        ]
        return ProxyConfig(listeners: listeners, routes: [routes], clusters: clusters, endpoints: endpoints)
    }
}
