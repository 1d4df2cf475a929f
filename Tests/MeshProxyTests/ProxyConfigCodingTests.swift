import MeshModel
import Testing

/// The push contract: config and messages survive a JSON round trip, with xDS's field names on the wire.
@Suite struct ProxyConfigCodingTests {
    @Test func configRoundTripsThroughJSON() throws {
        var route = Route(name: "reviews-v2", match: RouteMatch(prefix: "/", headers: [
            HeaderMatcher(name: "end-user", match: StringMatcher(exact: "jason")),
        ]), route: RouteAction(weightedClusters: [
            WeightedCluster(name: "outbound|9080|v2|reviews.default.svc.cluster.local", weight: 100),
        ], retryPolicy: RetryPolicy(numRetries: 2, retryOn: ["connect-failure", "refused-stream"])))
        route.virtualService = "reviews.default"
        var cluster = Cluster(name: "outbound|9080|v2|reviews.default.svc.cluster.local", direction: .outbound,
                              discovery: .eds)
        cluster.subset = "v2"
        let config = ProxyConfig(
            listeners: [Listener(name: "0.0.0.0_9080", address: "0.0.0.0", port: 9080, direction: .outbound,
                                 filterChains: [FilterChain(http: HTTPConnectionManager(routeConfigName: "9080",
                                                                                        statPrefix: "outbound_0.0.0.0_9080"))])],
            routes: [RouteConfiguration(name: "9080", virtualHosts: [
                VirtualHost(name: "reviews.default.svc.cluster.local:9080", domains: ["reviews", "reviews:9080"], routes: [route]),
            ])],
            clusters: [cluster],
            endpoints: [ClusterLoadAssignment(clusterName: cluster.name, endpoints: [Endpoint(address: "10.44.0.7", port: 9080)])])
        let json = ValueCodec.encode(config)
        let decoded = ValueCodec.decode(ProxyConfig.self, from: json)
        #expect(decoded.errors.isEmpty)
        #expect(decoded.value == config)
        #expect(json["clusters"]?[0]?["loadBalancer"] == "LEAST_REQUEST")
    }

    @Test func discoveryMessagesUseXDSFieldNames() throws {
        let nack = DiscoveryRequest(versionInfo: "3", type: .route, responseNonce: "n4",
                                    errorDetail: ErrorDetail(message: "route 9080: unknown cluster"))
        let json = ValueCodec.encode(nack)
        #expect(json["type_url"] == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration")
        #expect(json["response_nonce"] == "n4")
        #expect(json["error_detail"]?["code"] == 3)
        #expect(ValueCodec.decode(DiscoveryRequest.self, from: json).value == nack)
        let response = DiscoveryResponse(versionInfo: "4", resources: [["name": "9080"]], type: .route, nonce: "n5")
        #expect(ValueCodec.decode(DiscoveryResponse.self, from: ValueCodec.encode(response)).value == response)
        #expect(ProxyResourceType.pushOrder.map(\.shortName) == ["CDS", "EDS", "LDS", "RDS"])
    }
}
