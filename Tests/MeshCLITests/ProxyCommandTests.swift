@testable import MeshCLI
import MeshModel
import MeshTestSupport
import Testing

/// `proxy-status` and `proxy-config` tables, from hand-made meshd answers, against golden files.
@Suite struct ProxyCommandTests {
    static var config: ProxyConfig {
        var reviewsV1 = Cluster(name: "outbound|9080|v1|reviews.default.svc.cluster.local", direction: .outbound, discovery: .eds)
        reviewsV1.serviceName = "reviews.default.svc.cluster.local"
        reviewsV1.port = 9080
        reviewsV1.subset = "v1"
        reviewsV1.destinationRule = "reviews.default"
        var reviews = Cluster(name: "outbound|9080||reviews.default.svc.cluster.local", direction: .outbound, discovery: .eds)
        reviews.serviceName = "reviews.default.svc.cluster.local"
        reviews.port = 9080
        var inbound = Cluster(name: "inbound|9080||", direction: .inbound, discovery: .staticEndpoints)
        inbound.port = 9080
        inbound.staticEndpoints = [Endpoint(address: "127.0.0.1", port: 9080)]
        let passthrough = Cluster(name: "PassthroughCluster", direction: .outbound, discovery: .originalDestination,
                                  loadBalancer: .passthrough)
        var jason = Route(name: "jason", match: RouteMatch(prefix: "/", headers: [HeaderMatcher(name: "end-user", match: StringMatcher(exact: "jason"))]),
                          route: RouteAction(cluster: reviewsV1.name))
        jason.virtualService = "reviews.default"
        var unhealthy = Endpoint(address: "10.44.0.8", port: 9080, healthy: false)
        unhealthy.podName = "reviews-v1-b.default"
        return ProxyConfig(
            listeners: [
                Listener(name: "0.0.0.0_9080", address: "0.0.0.0", port: 9080, direction: .outbound, filterChains: [
                    FilterChain(match: FilterChainMatch(applicationProtocol: "http"),
                                http: HTTPConnectionManager(routeConfigName: "9080", statPrefix: "outbound_0.0.0.0_9080")),
                    FilterChain(tcp: TCPProxy(cluster: reviews.name, statPrefix: reviews.name)),
                ]),
                Listener(name: "virtualOutbound", address: "0.0.0.0", port: 15001, direction: .outbound, filterChains: [
                    FilterChain(tcp: TCPProxy(cluster: "PassthroughCluster", statPrefix: "PassthroughCluster")),
                ]),
                Listener(name: "virtualInbound", address: "0.0.0.0", port: 15006, direction: .inbound, filterChains: [
                    FilterChain(match: FilterChainMatch(destinationPort: 9080, applicationProtocol: "http"), http: HTTPConnectionManager(
                        routeConfig: RouteConfiguration(name: "inbound|9080||", virtualHosts: [
                            VirtualHost(name: "inbound|http|9080", domains: ["*"], routes: [Route(route: RouteAction(cluster: inbound.name))]),
                        ]), statPrefix: "inbound_0.0.0.0_9080")),
                ]),
            ],
            routes: [RouteConfiguration(name: "9080", virtualHosts: [
                VirtualHost(name: "reviews.default.svc.cluster.local:9080",
                            domains: ["reviews.default.svc.cluster.local", "reviews", "reviews:9080"],
                            routes: [jason, Route(name: "default", route: RouteAction(cluster: reviews.name))]),
            ])],
            clusters: [reviewsV1, reviews, inbound, passthrough],
            endpoints: [
                ClusterLoadAssignment(clusterName: reviewsV1.name, endpoints: [Endpoint(address: "10.44.0.7", port: 9080), unhealthy]),
                ClusterLoadAssignment(clusterName: reviews.name, endpoints: [Endpoint(address: "10.44.0.7", port: 9080)]),
            ])
    }

    @Test(arguments: ProxyConfigCommand.sections)
    func proxyConfigTables(section: String) throws {
        try Golden.check(ProxyConfigCommand.table(section, Self.config).rendered(), against: "proxy/proxy-config-\(section).txt")
    }

    @Test func proxyStatusTable() throws {
        func entry(_ name: String, _ statuses: [String], connected: Bool = true) -> JSONValue {
            var types = JSONObject()
            for (type, status) in zip(["CDS", "EDS", "LDS", "RDS"], statuses) { types[type] = ["status": .string(status)] }
            return ["proxy": .string(name), "cluster_id": "Kubernetes", "istio_version": "0.4.0",
                    "meshlab": ["connected": .bool(connected), "types": .object(types)]]
        }
        let table = ProxyStatusCommand.table([
            entry("reviews-v1-a.default", ["SYNCED", "SYNCED", "SYNCED", "ERROR"]),
            entry("productpage-v1-a.default", ["SYNCED", "STALE", "SYNCED", "SYNCED"]),
            entry("ratings-v1-a.default", ["NOT SENT", "NOT SENT", "NOT SENT", "NOT SENT"], connected: false),
        ])
        try Golden.check(table.rendered(), against: "proxy/proxy-status.txt")
    }
}
