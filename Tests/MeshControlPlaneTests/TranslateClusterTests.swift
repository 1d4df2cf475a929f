import MeshControlPlane
import MeshModel
import Testing

/// DestinationRule policy, subsets and endpoints.
struct TranslateClusterTests {
    static let web = "web.default.svc.cluster.local"

    static func cluster(_ config: ProxyConfig, _ name: String) throws -> Cluster {
        try #require(config.clusters.first { $0.name == name }, "no cluster \(name)")
    }

    @Test func trafficPolicyBecomesClusterSettings() throws {
        let fixture = try TranslateRoutingTests.mesh("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: web}
            spec:
              host: web
              trafficPolicy:
                loadBalancer: {simple: ROUND_ROBIN}
                connectionPool:
                  tcp: {maxConnections: 10, connectTimeout: 250ms}
                  http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 30s}
                outlierDetection: {consecutive5xxErrors: 2, interval: 1s}
                portLevelSettings:
                - port: {number: 8080}
                  loadBalancer: {simple: RANDOM}
              subsets:
              - name: v1
                labels: {version: v1}
                trafficPolicy:
                  loadBalancer: {simple: LEAST_CONN}
                  connectionPool: {tcp: {maxConnections: 1}}
              - name: v2
                labels: {version: v2}
            """)
        let config = try fixture.config(pod: "client")
        let whole = try Self.cluster(config, "outbound|8080||\(Self.web)")
        #expect(whole.loadBalancer == .random)  // the port's setting replaces the top level
        #expect(whole.connectTimeoutMs == 250)
        #expect(whole.circuitBreakers == CircuitBreakers(maxConnections: 10, maxPendingRequests: 5, maxRetries: 3))
        #expect(whole.maxRequestsPerConnection == 1)
        #expect(whole.idleTimeoutMs == 30_000)
        var outlier = OutlierDetection()
        outlier.consecutive5xxErrors = 2
        outlier.intervalMs = 1000
        outlier.baseEjectionTimeMs = 30_000
        outlier.maxEjectionPercent = 10
        #expect(whole.outlierDetection == outlier)
        #expect(whole.destinationRule == "web.default")

        // A subset's policy replaces whole fields: its pool has no connect timeout, so the default applies.
        let v1 = try Self.cluster(config, "outbound|8080|v1|\(Self.web)")
        #expect(v1.loadBalancer == .leastRequest)
        #expect(v1.circuitBreakers == CircuitBreakers(maxConnections: 1))
        #expect(v1.connectTimeoutMs == 10_000)
        #expect(v1.outlierDetection == outlier)
        #expect(v1.subset == "v1")
        let v2 = try Self.cluster(config, "outbound|8080|v2|\(Self.web)")
        #expect(v2.loadBalancer == .random)
        #expect(config.endpoints.first { $0.clusterName == v2.name }?.endpoints.compactMap(\.podName) == ["web-v2.default"])
    }

    @Test func withoutRuleClustersUseIstioDefaults() throws {
        let config = try TranslateRoutingTests.mesh().config(pod: "client")
        let whole = try Self.cluster(config, "outbound|8080||\(Self.web)")
        var expected = Cluster(name: "outbound|8080||\(Self.web)", direction: .outbound, discovery: .eds, loadBalancer: .leastRequest)
        expected.connectTimeoutMs = 10_000
        expected.serviceName = Self.web
        expected.port = 8080
        #expect(whole == expected)
        let passthrough = try Self.cluster(config, "PassthroughCluster")
        #expect(passthrough.discovery == .originalDestination)
        let blackHole = try Self.cluster(config, "BlackHoleCluster")
        #expect(blackHole.discovery == .staticEndpoints && blackHole.staticEndpoints == [])
    }

    @Test func ruleInProxyNamespaceWinsOverServiceAndRootNamespaces() throws {
        var fixture = try TranslateRoutingTests.mesh()
        let rule = { (name: String, lb: String) in
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: \(name)}
            spec:
              host: web.default.svc.cluster.local
              trafficPolicy: {loadBalancer: {simple: \(lb)}}
            """
        }
        try fixture.apply(rule("root", "RANDOM"), namespace: "istio-system")
        let lb = { (pod: String, ns: String) in try Self.cluster(fixture.config(pod: pod, namespace: ns), "outbound|8080||\(Self.web)").loadBalancer }
        fixture.addPod(name: "other", namespace: "other", labels: [:], spec: PodSpec(containers: [Container(name: "c")]))
        #expect(try lb("other", "other") == .random)
        try fixture.apply(rule("service-ns", "ROUND_ROBIN"))
        #expect(try lb("other", "other") == .roundRobin)
        try fixture.apply(rule("own", "PASSTHROUGH"), namespace: "other")
        #expect(try lb("other", "other") == .passthrough)
        #expect(try Self.cluster(fixture.config(pod: "other", namespace: "other"), "outbound|8080||\(Self.web)").discovery == .originalDestination)
        #expect(try lb("client", "default") == .roundRobin)
    }

    @Test func endpointsCarryHealthPodAndIdentity() throws {
        var fixture = try TranslateRoutingTests.mesh()
        var spec = PodSpec(containers: [Container(name: "web")])
        spec.serviceAccountName = "web-sa"
        fixture.addPod(name: "web-v1-starting", namespace: "default",
                       labels: ["app": "web", "version": "v1", "security.istio.io/tlsMode": "istio"], spec: spec, ready: false)
        let config = try fixture.config(pod: "client")
        let assignment = try #require(config.endpoints.first { $0.clusterName == "outbound|8080||\(Self.web)" })
        #expect(assignment.endpoints.map(\.port) == [80, 80, 80])  // the target port
        let starting = try #require(assignment.endpoints.first { $0.podName == "web-v1-starting.default" })
        #expect(starting.healthy == false)
        #expect(starting.tlsMode == "istio")
        #expect(starting.serviceAccount == "spiffe://cluster.local/ns/default/sa/web-sa")
        let ready = try #require(assignment.endpoints.first { $0.podName == "web-v1.default" })
        #expect(ready.healthy && ready.tlsMode == nil)
        #expect(ready.serviceAccount == "spiffe://cluster.local/ns/default/sa/default")
    }

    @Test func staticServiceEntryGetsClustersEndpointsAndRoutes() throws {
        let fixture = try TranslateRoutingTests.mesh("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: legacy}
            spec:
              hosts: [legacy.example.com]
              addresses: [240.0.0.10]
              ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8081}, {number: 5432, name: tcp-pg, protocol: TCP}]
              location: MESH_INTERNAL
              resolution: STATIC
              endpoints:
              - {address: 192.0.2.10, labels: {version: v1}}
              - {address: 192.0.2.11, ports: {http: 9000}, labels: {version: v2}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: anything}
            spec:
              hosts: [api.example.org]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: NONE
            """)
        let config = try fixture.config(pod: "client")
        let http = try #require(config.endpoints.first { $0.clusterName == "outbound|80||legacy.example.com" })
        #expect(http.endpoints.map { "\($0.address):\($0.port)" } == ["192.0.2.10:8081", "192.0.2.11:9000"])
        #expect(RouteSimulation.send(config, host: "legacy.example.com").outcome == .cluster("outbound|80||legacy.example.com"))
        #expect(config.listeners.first { $0.name == "240.0.0.10_5432" }?.filterChains.first?.tcp?.cluster == "outbound|5432||legacy.example.com")
        let none = try Self.cluster(config, "outbound|443||api.example.org")
        #expect(none.discovery == .originalDestination)
        #expect(!config.endpoints.contains { $0.clusterName == none.name })
    }
}
