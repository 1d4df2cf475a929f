import MeshControlPlane
import MeshModel
import MeshTestSupport
import Testing

/// Bookinfo as Istio ships it, with Istio's own networking samples applied
/// unchanged: the whole config of productpage's sidecar against golden
/// files, and requests simulated through it as Istio's task pages describe.
@Suite(.enabled(if: TranslateFixture.hasIstioFiles, "needs Istio's samples at <repo>/../shared/istio"))
struct TranslateBookinfoTests {
    static let scenarios: [(golden: String, files: [String])] = [
        ("bookinfo-no-rules", []),
        ("bookinfo-all-v1", ["destination-rule-all", "virtual-service-all-v1"]),
        ("bookinfo-reviews-90-10", ["destination-rule-all", "virtual-service-reviews-90-10"]),
        ("bookinfo-reviews-jason-v2-v3", ["destination-rule-all", "virtual-service-reviews-jason-v2-v3"]),
        ("bookinfo-reviews-test-v2", ["destination-rule-all", "virtual-service-reviews-test-v2"]),
    ]

    static let reviews = "reviews.default.svc.cluster.local"

    @Test(arguments: scenarios.map(\.golden))
    func productpageConfigMatchesGolden(golden: String) throws {
        let files = Self.scenarios.first { $0.golden == golden }!.files
        let config = try TranslateFixture.bookinfo(files).config(pod: "productpage-v1-pod")
        try Golden.check(TranslateFixture.json(config), against: "translate/\(golden).json")
    }

    @Test func withoutRulesEveryServiceGoesToItsWholeCluster() throws {
        let fixture = try TranslateFixture.bookinfo()
        let config = try fixture.config(pod: "productpage-v1-pod")
        for host in ["reviews:9080", "reviews.default:9080", "reviews.default.svc:9080", "\(Self.reviews):9080", "reviews"] {
            let result = RouteSimulation.send(config, host: host, address: fixture.clusterIP("reviews"), port: 9080)
            #expect(result.outcome == .cluster("outbound|9080||\(Self.reviews)"), "\(host)")
            #expect(result.route?.name == "default")
            #expect(result.route?.route?.retryPolicy == RetryPolicies.outboundDefault)
            #expect(result.route?.route?.timeoutMs == nil)
        }
        // Every reviews pod is an endpoint of the whole-service cluster.
        let endpoints = config.endpoints.first { $0.clusterName == "outbound|9080||\(Self.reviews)" }
        #expect(endpoints?.endpoints.compactMap(\.podName).sorted() == ["reviews-v1-pod.default", "reviews-v2-pod.default", "reviews-v3-pod.default"])
        // An unknown host passes through (ALLOW_ANY).
        #expect(RouteSimulation.send(config, host: "example.com:9080").outcome == .cluster("PassthroughCluster"))
    }

    @Test func allV1SendsEveryServiceToV1() throws {
        let fixture = try TranslateFixture.bookinfo(["destination-rule-all", "virtual-service-all-v1"])
        let config = try fixture.config(pod: "productpage-v1-pod")
        for service in ["productpage", "reviews", "ratings", "details"] {
            let result = RouteSimulation.send(config, host: "\(service):9080", address: fixture.clusterIP(service),
                                              headers: ["end-user": "jason"])
            #expect(result.outcome == .cluster("outbound|9080|v1|\(service).default.svc.cluster.local"))
            #expect(result.route?.virtualService == "\(service).default")
        }
        // The v1 subset cluster holds only v1 pods.
        let v1 = config.endpoints.first { $0.clusterName == "outbound|9080|v1|\(Self.reviews)" }
        #expect(v1?.endpoints.compactMap(\.podName) == ["reviews-v1-pod.default"])
        #expect(config.endpoints.first { $0.clusterName == "outbound|9080|v2-mysql|ratings.default.svc.cluster.local" }?.endpoints == [])
    }

    @Test func ninetyTenSplitsByWeight() throws {
        let config = try TranslateFixture.bookinfo(["destination-rule-all", "virtual-service-reviews-90-10"])
            .config(pod: "productpage-v1-pod")
        let result = RouteSimulation.send(config, host: "reviews:9080")
        #expect(result.outcome == .weighted(["outbound|9080|v1|\(Self.reviews)": 90, "outbound|9080|v2|\(Self.reviews)": 10]))
        // Rules for one service leave the others on their default route.
        #expect(RouteSimulation.send(config, host: "ratings:9080").outcome == .cluster("outbound|9080||ratings.default.svc.cluster.local"))
    }

    @Test(arguments: [("virtual-service-reviews-jason-v2-v3", "v3"), ("virtual-service-reviews-test-v2", "v1")])
    func jasonReachesV2AndEveryoneElseTheDefault(file: String, others: String) throws {
        let config = try TranslateFixture.bookinfo(["destination-rule-all", file]).config(pod: "productpage-v1-pod")
        let jason = RouteSimulation.send(config, host: "reviews:9080", path: "/reviews/0", headers: ["end-user": "jason"])
        #expect(jason.outcome == .cluster("outbound|9080|v2|\(Self.reviews)"))
        for headers in [[:], ["end-user": "jasonx"], ["end-user": "Jason"], ["x-user": "jason"]] {
            let other = RouteSimulation.send(config, host: "reviews:9080", path: "/reviews/0", headers: headers)
            #expect(other.outcome == .cluster("outbound|9080|\(others)|\(Self.reviews)"), "\(headers)")
        }
    }

    @Test(arguments: [
        ("virtual-service-reviews-80-20", ["v1": 80, "v2": 20]),
        ("virtual-service-reviews-50-v3", ["v1": 50, "v3": 50]),
        ("virtual-service-reviews-v3", ["v3": 100]),
    ])
    func otherReviewsSplits(file: String, shares: [String: Int]) throws {
        let config = try TranslateFixture.bookinfo(["destination-rule-all", file]).config(pod: "productpage-v1-pod")
        let expected = Dictionary(uniqueKeysWithValues: shares.map { ("outbound|9080|\($0.key)|\(Self.reviews)", $0.value) })
        let outcome = RouteSimulation.send(config, host: "reviews:9080").outcome
        #expect(outcome == (expected.count == 1 ? .cluster(expected.keys.first!) : .weighted(expected)))
    }

    @Test func ratingsFaultsHitJasonOnly() throws {
        let reviews = try TranslateFixture.bookinfo(["destination-rule-all", "virtual-service-all-v1", "virtual-service-ratings-test-delay"])
        // The sample's rule is applied to reviews' sidecar, the caller of ratings.
        let delay = try reviews.config(pod: "reviews-v2-pod")
        let jason = RouteSimulation.send(delay, host: "ratings:9080", headers: ["end-user": "jason"])
        #expect(jason.route?.fault == FaultPolicy(delayMs: 7000, delayPercent: 100))
        #expect(jason.outcome == .cluster("outbound|9080|v1|ratings.default.svc.cluster.local"))
        #expect(RouteSimulation.send(delay, host: "ratings:9080").route?.fault == nil)

        let abort = try TranslateFixture.bookinfo(["destination-rule-all", "virtual-service-all-v1", "virtual-service-ratings-test-abort"])
            .config(pod: "reviews-v2-pod")
        let aborted = RouteSimulation.send(abort, host: "ratings:9080", headers: ["end-user": "jason"])
        #expect(aborted.route?.fault == FaultPolicy(abortStatus: 500, abortPercent: 100))
    }

    @Test func equalSnapshotsGiveEqualConfigsWhateverTheOrder() throws {
        var fixture = try TranslateFixture.bookinfo(["destination-rule-all", "virtual-service-reviews-jason-v2-v3"])
        let first = try fixture.config(pod: "productpage-v1-pod")
        fixture.snapshot.services.reverse()
        fixture.snapshot.endpoints.reverse()
        fixture.snapshot.pods.reverse()
        fixture.snapshot.destinationRules.reverse()
        fixture.snapshot.virtualServices.reverse()
        let second = try fixture.config(pod: "productpage-v1-pod")
        #expect(first == second)
        #expect(TranslateFixture.json(first) == TranslateFixture.json(second))
    }

    @Test func productpageServesItsPortInbound() throws {
        let config = try TranslateFixture.bookinfo().config(pod: "productpage-v1-pod")
        let inbound = try #require(config.listeners.first { $0.name == "virtualInbound" })
        #expect(inbound.port == 15006)
        #expect(inbound.filterChains.map(\.name) == ["0.0.0.0_9080", "virtualInbound-catchall"])
        let chain = inbound.filterChains[0]
        #expect(chain.match.destinationPort == 9080)
        #expect(chain.http?.routeConfig?.virtualHosts.first?.routes.first?.route?.cluster == "inbound|9080||")
        let cluster = try #require(config.clusters.first { $0.name == "inbound|9080||" })
        #expect(cluster.discovery == .staticEndpoints)
        #expect(cluster.staticEndpoints == [Endpoint(address: "10.44.0.15", port: 9080)])
        #expect(cluster.upstreamBindAddress == "127.0.0.6")
    }
}
