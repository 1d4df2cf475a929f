import MeshModel
import Testing
@testable import MeshProxy

@Suite struct ProxyConfigStoreTests {
    func resources<T: Encodable>(_ values: [T]) -> [JSONValue] { values.map { ValueCodec.encode($0) } }

    @Test func appliesEachTypeAndBecomesReady() throws {
        let config = BookinfoConfig.make()
        let store = ProxyConfigStore()
        #expect(!store.isReady)
        try store.applyNow(.cluster, resources: resources(config.clusters), version: "1")
        try store.applyNow(.endpoint, resources: resources(config.endpoints), version: "1")
        try store.applyNow(.listener, resources: resources(config.listeners), version: "1")
        #expect(!store.isReady)
        try store.applyNow(.route, resources: resources(config.routes), version: "1")
        #expect(store.isReady)
        #expect(store.snapshot.config == config)
        #expect(store.versions[.route] == "1")
        #expect(store.snapshot.endpoints(of: BookinfoConfig.cluster("v2")).first?.address == "10.44.0.11")
    }

    @Test func refusesARouteToAnUnknownClusterAndKeepsThePrevious() throws {
        let config = BookinfoConfig.make()
        let store = try ProxyConfigStore(static: config)
        var broken = config.routes[0]
        broken.virtualHosts[0].routes[0].route = RouteAction(cluster: "outbound|9080|v9|reviews.default.svc.cluster.local")
        #expect(throws: ProxyConfigError.self) {
            try store.applyNow(.route, resources: resources([broken]), version: "2")
        }
        do {
            try store.applyNow(.route, resources: resources([broken]), version: "2")
        } catch {
            #expect("\(error)".contains("unknown cluster outbound|9080|v9|reviews.default.svc.cluster.local"))
        }
        #expect(store.snapshot.config == config)
        #expect(store.versions[.route] == nil)
        // Removing a cluster a route still uses is refused too.
        #expect(throws: ProxyConfigError.self) {
            try store.applyNow(.cluster, resources: resources(Array(config.clusters.dropFirst())), version: "2")
        }
    }

    @Test func refusesUndecodableResourcesAndBadRegexes() throws {
        let store = ProxyConfigStore()
        #expect(throws: ProxyConfigError.self) {
            try store.applyNow(.cluster, resources: [["name": 3]], version: "1")
        }
        var config = BookinfoConfig.make()
        config.routes[0].virtualHosts[0].routes[0].match = RouteMatch(regex: "/(unclosed")
        #expect(throws: ProxyConfigError.self) { try store.load(config) }
        var twoActions = BookinfoConfig.make()
        twoActions.routes[0].virtualHosts[0].routes[0].directResponse = DirectResponseAction(status: 200)
        #expect(throws: ProxyConfigError.self) { try store.load(twoActions) }
        #expect(store.snapshot.config == ProxyConfig())
    }

    @Test func listenerMayNameRoutesThatComeLater() throws {
        let config = BookinfoConfig.make()
        let store = ProxyConfigStore()
        try store.applyNow(.cluster, resources: resources(config.clusters), version: "1")
        try store.applyNow(.listener, resources: resources(config.listeners), version: "1")
        #expect(store.snapshot.routes["9080"] == nil)
    }

    @Test func loadsAStaticYAMLFile() throws {
        let text = """
        clusters:
        - name: backend
          direction: OUTBOUND
          discovery: STATIC
          loadBalancer: ROUND_ROBIN
          staticEndpoints:
          - {address: 127.0.0.1, port: 8080, healthy: true}
        listeners:
        - name: virtualOutbound
          address: 0.0.0.0
          port: 15001
          direction: OUTBOUND
          filterChains:
          - match: {}
            tcp: {cluster: backend, statPrefix: backend}
        routes: []
        endpoints: []
        """
        let store = ProxyConfigStore()
        try store.load(text: text, file: "proxy.yaml")
        #expect(store.isReady)
        #expect(store.snapshot.endpoints(of: "backend").map(\.port) == [8080])
        #expect(throws: (any Error).self) { try store.load(text: "clusters: [{name: x}]", file: "bad.yaml") }
    }
}
