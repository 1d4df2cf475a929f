import MeshHTTP
import MeshModel
import Testing
@testable import MeshProxy

/// Simulation tests: requests routed through a hand-built config, no sockets.
@Suite struct RouterTests {
    let snapshot = try! ProxyConfigSnapshot(checking: BookinfoConfig.make())

    func route(_ target: String = "/reviews/0", host: String = "reviews:9080", method: String = "GET",
               headers: HTTPHeaders = HTTPHeaders(), seed: UInt64 = 1, config: RouteConfiguration? = nil,
               in snapshot: ProxyConfigSnapshot? = nil) -> RouteDecision {
        let snapshot = snapshot ?? self.snapshot
        var random = SplitMix64(seed: seed)
        let facts = RequestFacts(method: method, target: target, authority: host, headers: headers)
        return Router.route(facts, in: config ?? snapshot.routes["9080"]!, of: snapshot, random: &random)
    }

    func cluster(_ decision: RouteDecision) -> String? {
        if case .forward(let plan) = decision { return plan.cluster }
        return nil
    }

    @Test func jasonGoesToV2() {
        for seed in 0..<50 as Range<UInt64> {
            #expect(cluster(route(headers: ["end-user": "jason"], seed: seed)) == BookinfoConfig.cluster("v2"))
        }
        #expect(cluster(route(headers: ["end-user": "jasonx"])) != BookinfoConfig.cluster("v2"))
        #expect(cluster(route(headers: ["End-User": "jason"])) == BookinfoConfig.cluster("v2"))  // names ignore case
    }

    @Test func everyoneElseSplitsNinetyTen() {
        var random = SplitMix64(seed: 42)
        var counts: [String: Int] = [:]
        let requests = 10_000
        for _ in 0..<requests {
            let facts = RequestFacts(method: "GET", target: "/reviews/0", authority: "reviews.default.svc.cluster.local")
            if case .forward(let plan) = Router.route(facts, in: snapshot.routes["9080"]!, of: snapshot, random: &random) {
                counts[plan.cluster, default: 0] += 1
            }
        }
        let v1 = Double(counts[BookinfoConfig.cluster("v1")] ?? 0) / Double(requests)
        let v3 = Double(counts[BookinfoConfig.cluster("v3")] ?? 0) / Double(requests)
        #expect(abs(v1 - 0.9) < 0.02, "v1 share \(v1)")
        #expect(abs(v3 - 0.1) < 0.02, "v3 share \(v3)")
        #expect(counts[BookinfoConfig.cluster("v2")] == nil)
    }

    @Test func virtualHostsByAuthority() {
        let routes = snapshot.routes["9080"]!
        #expect(Router.virtualHost(for: "reviews", in: routes)?.name == "reviews.default.svc.cluster.local:9080")
        #expect(Router.virtualHost(for: "REVIEWS:9080", in: routes)?.name == "reviews.default.svc.cluster.local:9080")
        #expect(Router.virtualHost(for: "10.96.0.20:9080", in: routes)?.name == "reviews.default.svc.cluster.local:9080")
        // Port stripped when only the bare name is listed.
        let bare = RouteConfiguration(name: "x", virtualHosts: [VirtualHost(name: "a", domains: ["a.example"], routes: [])])
        #expect(Router.virtualHost(for: "a.example:8080", in: bare)?.name == "a")
        #expect(Router.virtualHost(for: "httpbin.org", in: routes)?.name == "allow_any")
        let wildcards = RouteConfiguration(name: "w", virtualHosts: [
            VirtualHost(name: "any", domains: ["*"], routes: []),
            VirtualHost(name: "suffix", domains: ["*.example.com"], routes: []),
            VirtualHost(name: "longer", domains: ["*.api.example.com"], routes: []),
            VirtualHost(name: "prefix", domains: ["api.*"], routes: []),
        ])
        #expect(Router.virtualHost(for: "x.api.example.com", in: wildcards)?.name == "longer")
        #expect(Router.virtualHost(for: "www.example.com:80", in: wildcards)?.name == "suffix")
        #expect(Router.virtualHost(for: "api.internal", in: wildcards)?.name == "prefix")
        #expect(Router.virtualHost(for: "other", in: wildcards)?.name == "any")
        let none = RouteConfiguration(name: "n", virtualHosts: [VirtualHost(name: "a", domains: ["a"], routes: [])])
        #expect(Router.virtualHost(for: "b", in: none) == nil)
    }

    func config(_ routes: [Route]) -> (RouteConfiguration, ProxyConfigSnapshot) {
        var config = BookinfoConfig.make()
        let routeConfig = RouteConfiguration(name: "t", virtualHosts: [VirtualHost(name: "t", domains: ["*"], routes: routes)])
        config.routes.append(routeConfig)
        return (routeConfig, try! ProxyConfigSnapshot(checking: config))
    }

    func to(_ subset: String, _ match: RouteMatch, name: String? = nil) -> Route {
        Route(name: name ?? subset, match: match, route: RouteAction(cluster: BookinfoConfig.cluster(subset)))
    }

    @Test func pathMatchesExactPrefixRegexAndCase() {
        var ignoring = RouteMatch(path: "/Login")
        ignoring.ignoreCase = true
        let (routes, snapshot) = config([
            to("v1", RouteMatch(path: "/exact")),
            to("v2", ignoring),
            to("v3", RouteMatch(regex: "/api/v[0-9]+/products")),
            to("v1", RouteMatch(prefix: "/static"), name: "static"),
        ])
        func hit(_ target: String) -> String? {
            if case .forward(let plan) = route(target, config: routes, in: snapshot) { return plan.routeName }
            return nil
        }
        #expect(hit("/exact") == "v1")
        #expect(hit("/exact?x=1") == "v1")  // the query is not part of an exact path
        #expect(hit("/exact/more") == nil)
        #expect(hit("/login") == "v2")
        #expect(hit("/api/v1/products") == "v3")
        #expect(hit("/api/v1/products/extra") == nil)  // whole-string regex
        #expect(hit("/static/app.js") == "static")
        #expect(route("/nothing", config: routes, in: snapshot) == .noRoute)
    }

    @Test func headerQueryAndMethodConditions() {
        var query = RouteMatch(prefix: "/")
        query.queryParameters = [QueryParameterMatcher(name: "debug", match: StringMatcher(exact: "1"))]
        var present = RouteMatch(prefix: "/")
        present.queryParameters = [QueryParameterMatcher(name: "trace", present: true)]
        let (routes, snapshot) = config([
            to("v1", RouteMatch(prefix: "/", headers: [HeaderMatcher(name: ":method", match: StringMatcher(exact: "POST"))]),
               name: "post"),
            to("v2", RouteMatch(prefix: "/", headers: [HeaderMatcher(name: "x-canary", match: StringMatcher(regex: "yes|true"))]),
               name: "canary"),
            to("v3", RouteMatch(prefix: "/", headers: [HeaderMatcher(name: "x-tenant", match: StringMatcher(prefix: "acme-"))]),
               name: "tenant"),
            to("v1", query, name: "debug"),
            to("v1", present, name: "trace"),
            to("v2", RouteMatch(prefix: "/", headers: [HeaderMatcher(name: "x-internal", present: true, invert: true)]),
               name: "public"),
            to("v3", RouteMatch(prefix: "/"), name: "internal"),
        ])
        func hit(_ target: String = "/", method: String = "GET", headers: HTTPHeaders = HTTPHeaders()) -> String? {
            if case .forward(let plan) = route(target, method: method, headers: headers, config: routes, in: snapshot) {
                return plan.routeName
            }
            return nil
        }
        #expect(hit(method: "POST") == "post")
        #expect(hit(headers: ["x-canary": "true"]) == "canary")
        #expect(hit(headers: ["x-canary": "truex"]) == "public")
        #expect(hit(headers: ["x-tenant": "acme-1"]) == "tenant")
        #expect(hit("/?debug=1") == "debug")
        #expect(hit("/?debug=2", headers: ["x-internal": "1"]) == "internal")
        #expect(hit("/?trace", headers: ["x-internal": "1"]) == "trace")
        #expect(hit() == "public")
        #expect(hit(headers: ["x-internal": "yes"]) == "internal")
    }

    @Test func rewritesMutationsRedirectsAndDirectResponses() {
        var rewrite = RouteAction(cluster: BookinfoConfig.cluster("v1"))
        rewrite.prefixRewrite = "/v2/"
        rewrite.hostRewrite = "backend.internal"
        var rewritten = Route(name: "rewrite", match: RouteMatch(prefix: "/old/"), route: rewrite)
        rewritten.requestHeaders = HeaderMutation(set: [HeaderValue(name: "x-set", value: "1")], remove: ["x-drop"])
        rewritten.responseHeaders = HeaderMutation(add: [HeaderValue(name: "x-served-by", value: "mesh")])
        var weighted = WeightedCluster(name: BookinfoConfig.cluster("v3"), weight: 1)
        weighted.requestHeaders = HeaderMutation(set: [HeaderValue(name: "x-subset", value: "v3")])
        var weightedRoute = Route(name: "weighted", match: RouteMatch(path: "/w"), route: RouteAction(weightedClusters: [weighted]))
        weightedRoute.requestHeaders = HeaderMutation(add: [HeaderValue(name: "x-route", value: "w")])
        var redirect = RedirectAction()
        redirect.pathRedirect = "/new"
        redirect.hostRedirect = "example.org"
        var redirectRoute = Route(name: "redirect", match: RouteMatch(path: "/moved"))
        redirectRoute.redirect = redirect
        var direct = Route(name: "direct", match: RouteMatch(path: "/teapot"))
        direct.directResponse = DirectResponseAction(status: 418, body: "short and stout")
        let (routes, snapshot) = config([rewritten, weightedRoute, redirectRoute, direct])

        guard case .forward(let plan) = route("/old/a?b=c", host: "front", config: routes, in: snapshot) else {
            Issue.record("no forward")
            return
        }
        #expect(plan.target == "/v2/a?b=c")
        #expect(plan.authority == "backend.internal")
        var headers: HTTPHeaders = ["x-drop": "1", "x-set": "0"]
        Router.apply(plan.requestHeaders, to: &headers)
        #expect(headers["x-set"] == "1")
        #expect(headers["x-drop"] == nil)
        var responseHeaders = HTTPHeaders()
        Router.apply(plan.responseHeaders, to: &responseHeaders)
        #expect(responseHeaders["x-served-by"] == "mesh")

        guard case .forward(let weightedPlan) = route("/w", config: routes, in: snapshot) else {
            Issue.record("no forward")
            return
        }
        var weightedHeaders = HTTPHeaders()
        Router.apply(weightedPlan.requestHeaders, to: &weightedHeaders)
        #expect(weightedHeaders["x-route"] == "w")
        #expect(weightedHeaders["x-subset"] == "v3")

        #expect(route("/moved?q", host: "front:8080", config: routes, in: snapshot)
                == .redirect(status: 301, location: "http://example.org/new", route: "redirect"))
        #expect(route("/teapot", config: routes, in: snapshot) == .direct(status: 418, body: "short and stout", route: "direct"))
    }

    @Test func listenerAndChainSelection() {
        // A service port has its own listener; other ports fall to virtualOutbound.
        let service = Router.listener(in: snapshot, direction: .outbound, destinationAddress: "10.96.0.20", destinationPort: 9080)
        #expect(service?.name == "0.0.0.0_9080")
        let unknown = Router.listener(in: snapshot, direction: .outbound, destinationAddress: "1.2.3.4", destinationPort: 443)
        #expect(unknown?.name == "virtualOutbound")
        let chains = Router.candidateChains(of: service!, destinationPort: 9080)
        #expect(Router.needsSniffing(chains))
        #expect(Router.chain(from: chains, sniffed: .http)?.http?.routeConfigName == "9080")
        #expect(Router.chain(from: chains, sniffed: .tcp)?.tcp?.cluster == "PassthroughCluster")
        // An exact address:port listener wins over 0.0.0.0:port.
        var config = BookinfoConfig.make()
        config.listeners.append(Listener(name: "10.96.0.30_3306", address: "10.96.0.30", port: 9080, direction: .outbound,
                                         filterChains: [FilterChain(tcp: TCPProxy(cluster: BookinfoConfig.cluster("v1"), statPrefix: "x"))]))
        let exact = try! ProxyConfigSnapshot(checking: config)
        #expect(Router.listener(in: exact, direction: .outbound, destinationAddress: "10.96.0.30", destinationPort: 9080)?.name
                == "10.96.0.30_3306")
        #expect(Router.listener(in: exact, direction: .outbound, destinationAddress: "10.96.0.31", destinationPort: 9080)?.name
                == "0.0.0.0_9080")
    }

    @Test func inboundChainsByDestinationPort() throws {
        var config = ProxyConfig()
        var inbound = Cluster(name: "inbound|9080||", direction: .inbound, discovery: .originalDestination)
        inbound.upstreamBindAddress = "127.0.0.6"
        config.clusters = [inbound, Cluster(name: "InboundPassthroughCluster", direction: .inbound, discovery: .originalDestination)]
        let local = RouteConfiguration(name: "inbound|9080||", virtualHosts: [
            VirtualHost(name: "inbound|http|9080", domains: ["*"], routes: [Route(name: "default", route: RouteAction(cluster: "inbound|9080||"))]),
        ])
        config.listeners = [Listener(name: "virtualInbound", address: "0.0.0.0", port: 15006, direction: .inbound, filterChains: [
            FilterChain(name: "0.0.0.0_9080", match: FilterChainMatch(destinationPort: 9080),
                        http: HTTPConnectionManager(routeConfig: local, statPrefix: "inbound_0.0.0.0_9080")),
            FilterChain(name: "InboundPassthroughFilterChain", tcp: TCPProxy(cluster: "InboundPassthroughCluster", statPrefix: "x")),
        ])]
        let snapshot = try ProxyConfigSnapshot(checking: config)
        let listener = try #require(Router.listener(in: snapshot, direction: .inbound, destinationAddress: "10.44.0.5", destinationPort: 9080))
        let chains = Router.candidateChains(of: listener, destinationPort: 9080)
        #expect(chains.first?.name == "0.0.0.0_9080")
        let other = Router.candidateChains(of: listener, destinationPort: 7000)
        #expect(other.map(\.name) == ["InboundPassthroughFilterChain"])
        #expect(!Router.needsSniffing(other))
    }

    @Test func sniffing() {
        #expect(ProtocolSniffer.classify(Array("GET / HTTP/1.1\r\n".utf8)[...]) == .http)
        #expect(ProtocolSniffer.classify(Array("PO".utf8)[...]) == .needMore)
        #expect(ProtocolSniffer.classify(Array("GETX".utf8)[...]) == .other)
        #expect(ProtocolSniffer.classify([0x16, 0x03, 0x01][...]) == .other)  // a TLS ClientHello
        #expect(ProtocolSniffer.classify(Array("\u{0}\u{0}\u{0}\u{1}".utf8)[...]) == .other)
    }
}
