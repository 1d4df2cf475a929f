import MeshControlPlane
import MeshModel
import Testing

/// VirtualService translation and routing, on small hand-made meshes.
struct TranslateRoutingTests {
    /// A client pod and a two-version `web` service (HTTP port 8080) in `default`.
    static func mesh(_ extra: String = "", namespace: String = "default") throws -> TranslateFixture {
        var fixture = TranslateFixture()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{name: http-web, port: 8080, targetPort: 80}]
            """)
        for version in ["v1", "v2"] {
            fixture.addPod(name: "web-\(version)", namespace: "default", labels: ["app": "web", "version": version],
                           spec: PodSpec(containers: [Container(name: "web")]))
        }
        fixture.addPod(name: "client", namespace: "default", labels: ["app": "client"],
                       spec: PodSpec(containers: [Container(name: "client")]))
        if !extra.isEmpty { try fixture.apply(extra, namespace: namespace) }
        return fixture
    }

    static let web = "web.default.svc.cluster.local"
    static let subsets = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web}
        spec:
          host: web
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        ---
        """

    @Test func matchesTranslateToEnvoyMatchers() throws {
        let fixture = try Self.mesh(Self.subsets + """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [web]
              http:
              - name: api
                match:
                - uri: {prefix: /api}
                  ignoreUriCase: true
                  headers:
                    x-canary: {}
                    End-User: {regex: "j.*"}
                  withoutHeaders:
                    x-legacy: {exact: "1"}
                  method: {exact: POST}
                  queryParams:
                    debug: {exact: "on"}
                - uri: {exact: /health}
                  authority: {prefix: web}
                route:
                - destination: {host: web, subset: v2}
              - name: rest
                route:
                - destination: {host: web, subset: v1}
            """)
        let config = try fixture.config(pod: "client")
        let send = { (path: String, method: String, headers: [String: String]) in
            RouteSimulation.send(config, host: "web:8080", path: path, method: method, headers: headers).outcome
        }
        let v1 = RouteSimulation.Outcome.cluster("outbound|8080|v1|\(Self.web)")
        let v2 = RouteSimulation.Outcome.cluster("outbound|8080|v2|\(Self.web)")
        let canary = ["x-canary": "", "end-user": "jason"]
        #expect(send("/API/x?debug=on", "POST", canary) == v2)
        #expect(send("/api/x?debug=off", "POST", canary) == v1)
        #expect(send("/api/x?debug=on", "GET", canary) == v1)
        #expect(send("/api/x?debug=on", "POST", ["end-user": "jason"]) == v1)
        #expect(send("/api/x?debug=on", "POST", canary.merging(["x-legacy": "1"]) { $1 }) == v1)
        #expect(send("/api/x?debug=on", "POST", canary.merging(["x-legacy": "2"]) { $1 }) == v2)
        #expect(send("/health", "GET", [:]) == v2)
        #expect(send("/health/x", "GET", [:]) == v1)

        // Each match is its own route, with the http route's name and the rule's origin.
        let routes = try #require(config.routes.first { $0.name == "8080" }?.virtualHosts.first { $0.name == "\(Self.web):8080" }?.routes)
        #expect(routes.map(\.name) == ["api", "api", "rest"])
        #expect(routes.allSatisfy { $0.virtualService == "web.default" })
        #expect(routes[0].match.headers == [
            HeaderMatcher(name: "end-user", match: StringMatcher(regex: "j.*")),
            HeaderMatcher(name: "x-canary", present: true),
            HeaderMatcher(name: "x-legacy", match: StringMatcher(exact: "1"), invert: true),
            HeaderMatcher(name: ":method", match: StringMatcher(exact: "POST")),
        ])
        #expect(routes[1].match.path == "/health")
    }

    @Test func portMatchesApplyOnlyOnTheirPort() throws {
        var fixture = try Self.mesh(Self.subsets)
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{name: http-web, port: 8080, targetPort: 80}, {name: http-admin, port: 9090}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [web]
              http:
              - match: [{port: 9090}]
                route: [{destination: {host: web, subset: v2}}]
              - route: [{destination: {host: web, subset: v1}}]
            """)
        let config = try fixture.config(pod: "client")
        #expect(RouteSimulation.send(config, host: "web:9090").outcome == .cluster("outbound|9090|v2|\(Self.web)"))
        #expect(RouteSimulation.send(config, host: "web:8080").outcome == .cluster("outbound|8080|v1|\(Self.web)"))
    }

    @Test func routeActionsCarryIstioFields() throws {
        let fixture = try Self.mesh(Self.subsets + """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [web]
              http:
              - match: [{uri: {prefix: /old}}]
                redirect: {uri: /new, authority: other, redirectCode: 302}
              - match: [{uri: {exact: /teapot}}]
                directResponse: {status: 418, body: {string: short and stout}}
              - match: [{uri: {prefix: /v1api}}]
                rewrite: {uri: /api, authority: web-internal}
                timeout: 3s
                retries: {attempts: 4, perTryTimeout: 500ms, retryOn: "5xx,503,gateway-error,409", backoff: 40ms}
                fault:
                  delay: {fixedDelay: 2s, percentage: {value: 50}}
                  abort: {httpStatus: 503, percentage: {value: 10}}
                mirror: {host: web, subset: v2}
                mirrorPercentage: {value: 25}
                headers:
                  request: {set: {x-b: "2", x-a: "1"}, remove: [x-drop]}
                route:
                - destination: {host: web, subset: v1}
                  headers: {response: {add: {x-version: v1}}}
              - route:
                - destination: {host: web, subset: v1}
                  weight: 0
                - destination: {host: web, subset: v2}
                  weight: 100
                  headers: {request: {set: {x-to: v2}}}
                retries: {attempts: 0}
            """)
        let config = try fixture.config(pod: "client")
        let routes = try #require(config.routes.first { $0.name == "8080" }?.virtualHosts.first { $0.name == "\(Self.web):8080" }?.routes)
        #expect(routes.count == 4)

        var redirect = RedirectAction()
        redirect.pathRedirect = "/new"
        redirect.hostRedirect = "other"
        redirect.responseCode = 302
        #expect(routes[0].redirect == redirect)
        #expect(routes[1].directResponse == DirectResponseAction(status: 418, body: "short and stout"))

        let action = try #require(routes[2].route)
        #expect(action.cluster == "outbound|8080|v1|\(Self.web)")
        #expect(action.prefixRewrite == "/api")
        #expect(action.hostRewrite == "web-internal")
        #expect(action.timeoutMs == 3000)
        #expect(action.mirrorCluster == "outbound|8080|v2|\(Self.web)")
        #expect(action.mirrorPercent == 25)
        var retries = RetryPolicy(numRetries: 4, retryOn: ["5xx", "gateway-error", "retriable-status-codes"],
                                  retriableStatusCodes: [503, 409], perTryTimeoutMs: 500)
        retries.backoffBaseMs = 40
        retries.backoffMaxMs = 400
        retries.retryPreviousHosts = true
        retries.hostSelectionRetryMaxAttempts = 5
        #expect(action.retryPolicy == retries)
        #expect(routes[2].fault == FaultPolicy(delayMs: 2000, delayPercent: 50, abortStatus: 503, abortPercent: 10))
        #expect(routes[2].requestHeaders == HeaderMutation(set: [HeaderValue(name: "x-a", value: "1"), HeaderValue(name: "x-b", value: "2")],
                                                           remove: ["x-drop"]))
        // A lone destination's header edits join the route's.
        #expect(routes[2].responseHeaders == HeaderMutation(add: [HeaderValue(name: "x-version", value: "v1")]))

        // Weight 0 drops a destination; what remains is a plain cluster. attempts 0: no retries.
        #expect(routes[3].route?.cluster == "outbound|8080|v2|\(Self.web)")
        #expect(routes[3].route?.weightedClusters == nil)
        #expect(routes[3].route?.retryPolicy == nil)
        #expect(routes[3].requestHeaders == HeaderMutation(set: [HeaderValue(name: "x-to", value: "v2")]))
    }

    static func retries(_ json: String) throws -> VirtualService.HTTPRetry {
        try #require(ValueCodec.decode(VirtualService.HTTPRetry.self, from: try JSONValue(parsing: json)).value)
    }

    @Test func retryOnParsing() throws {
        #expect(RetryPolicies.parseRetryOn("5xx, 503 ,reset,,503") == (["5xx", "reset"], [503]))
        #expect(RetryPolicies.policy(nil) == RetryPolicies.outboundDefault)
        let policy = RetryPolicies.policy(try Self.retries(#"{"attempts": 3}"#))
        #expect(policy?.numRetries == 3)
        #expect(policy?.retryOn == RetryPolicies.outboundDefault.retryOn)
        let codesOnly = try Self.retries(#"{"attempts": 3, "retryOn": "503", "retryIgnorePreviousHosts": false}"#)
        #expect(RetryPolicies.policy(codesOnly) == RetryPolicy(numRetries: 3, retryOn: ["retriable-status-codes"], retriableStatusCodes: [503]))
        #expect(RetryPolicies.policy(try Self.retries(#"{"attempts": 3}"#), consistentHash: true)?.retryPreviousHosts == nil)
        #expect(RetryPolicies.policy(try Self.retries("{}")) == nil)
        #expect(RetryPolicies.policy(try Self.retries(#"{"attempts": 0}"#)) == nil)
    }

    @Test func shortHostsResolveInTheRulesNamespace() throws {
        // `web` in two namespaces; a rule in `team` says `web` and means its own.
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{name: http, port: 8080}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [web]
              http:
              - route: [{destination: {host: web, port: {number: 8080}}}]
                timeout: 1s
            """, namespace: "team")
        let config = try fixture.config(pod: "client")
        let team = RouteSimulation.send(config, host: "web.team:8080", address: fixture.clusterIP("web", namespace: "team"))
        #expect(team.outcome == .cluster("outbound|8080||web.team.svc.cluster.local"))
        #expect(team.route?.virtualService == "web.team")
        #expect(team.route?.route?.timeoutMs == 1000)
        let own = RouteSimulation.send(config, host: "web:8080", address: fixture.clusterIP("web"))
        #expect(own.outcome == .cluster("outbound|8080||\(Self.web)"))
        #expect(own.route?.virtualService == nil)
        // The bare name is `default`'s service only; the other's short forms carry its namespace.
        let hosts = try #require(config.routes.first { $0.name == "8080" }?.virtualHosts)
        let teamDomains = try #require(hosts.first { $0.name == "web.team.svc.cluster.local:8080" }?.domains)
        #expect(!teamDomains.contains("web") && teamDomains.contains("web.team") && teamDomains.contains("web.team.svc:8080"))
        #expect(hosts.first { $0.name == "\(Self.web):8080" }?.domains.contains("web:8080") == true)
    }

    @Test func exportToHidesRulesAndServices() throws {
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata:
              name: private
              annotations: {networking.istio.io/exportTo: "."}
            spec:
              selector: {app: private}
              ports: [{name: http, port: 8080}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web-from-team}
            spec:
              hosts: [web.default.svc.cluster.local]
              exportTo: ["."]
              http:
              - directResponse: {status: 503}
            """, namespace: "team")
        let config = try fixture.config(pod: "client")
        #expect(!config.clusters.contains { $0.name.hasSuffix("private.team.svc.cluster.local") })
        #expect(RouteSimulation.send(config, host: "web:8080").outcome == .cluster("outbound|8080||\(Self.web)"))
    }

    @Test func registryOnlySidecarBlocksUnknownDestinations() throws {
        let fixture = try Self.mesh("""
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: client}
            spec:
              workloadSelector: {labels: {app: client}}
              outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            """)
        let client = try fixture.config(pod: "client")
        #expect(client.listeners.first { $0.name == "virtualOutbound" }?.filterChains.first?.tcp?.cluster == "BlackHoleCluster")
        #expect(RouteSimulation.send(client, host: "example.com:8080").outcome == .directResponse(502))
        #expect(RouteSimulation.send(client, host: "web:8080").outcome == .cluster("outbound|8080||\(Self.web)"))
        // The selector picks the client only.
        let web = try fixture.config(pod: "web-v1")
        #expect(web.listeners.first { $0.name == "virtualOutbound" }?.filterChains.first?.tcp?.cluster == "PassthroughCluster")
    }

    @Test func sidecarEgressHostsLimitWhatIsVisible() throws {
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{name: http, port: 8080}]
            """, namespace: "team")
        try fixture.apply("""
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default}
            spec:
              egress: [{hosts: ["./*"]}]
            """)
        let config = try fixture.config(pod: "client")
        let hosts = Set(config.clusters.compactMap(\.serviceName))
        #expect(hosts == [Self.web])
    }

    @Test func tcpAndUnnamedPortsGetAddressListeners() throws {
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec:
              selector: {app: db}
              ports: [{name: tcp-mysql, port: 3306}, {name: custom, port: 7000}]
            """)
        let ip = try #require(fixture.clusterIP("db"))
        let config = try fixture.config(pod: "client")
        let mysql = try #require(config.listeners.first { $0.name == "\(ip)_3306" })
        #expect(mysql.filterChains.count == 1)
        #expect(mysql.filterChains[0].tcp?.cluster == "outbound|3306||db.default.svc.cluster.local")
        #expect(!config.routes.contains { $0.name == "3306" })
        // A name that is no protocol: sniffed, an HTTP chain then a TCP one.
        let sniffed = try #require(config.listeners.first { $0.name == "\(ip)_7000" })
        #expect(sniffed.filterChains.map(\.match.applicationProtocol) == ["http", "tcp"])
        #expect(RouteSimulation.send(config, host: "db:7000", address: ip).outcome == .cluster("outbound|7000||db.default.svc.cluster.local"))
        #expect(RouteSimulation.send(config, host: "db:7000", address: ip, http: false).outcome == .tcp("outbound|7000||db.default.svc.cluster.local"))
    }

    @Test func tcpRoutesWeightClusters() throws {
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec:
              selector: {app: db}
              ports: [{name: tcp, port: 3306}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: db}
            spec:
              host: db
              subsets: [{name: a, labels: {v: a}}, {name: b, labels: {v: b}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: db}
            spec:
              hosts: [db]
              tcp:
              - route:
                - {destination: {host: db, subset: a}, weight: 75}
                - {destination: {host: db, subset: b}, weight: 25}
            """)
        let config = try fixture.config(pod: "client")
        let outcome = RouteSimulation.send(config, host: "db:3306", address: fixture.clusterIP("db"), http: false).outcome
        #expect(outcome == .weighted(["outbound|3306|a|db.default.svc.cluster.local": 75, "outbound|3306|b|db.default.svc.cluster.local": 25]))
    }

    @Test func headlessServicesAreRoutedByNameOnly() throws {
        var fixture = try Self.mesh()
        try fixture.apply("""
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec:
              clusterIP: None
              selector: {app: db}
              ports: [{name: http, port: 8081}, {name: tcp, port: 5432}]
            """)
        let config = try fixture.config(pod: "client")
        let host = try #require(config.routes.first { $0.name == "8081" }?.virtualHosts.first { $0.name.hasPrefix("db.") })
        #expect(host.domains.allSatisfy { !$0.hasPrefix("None") })
        #expect(RouteSimulation.send(config, host: "db:8081").outcome == .cluster("outbound|8081||db.default.svc.cluster.local"))
        #expect(!config.listeners.contains { $0.port == 5432 })
        #expect(config.clusters.contains { $0.name == "outbound|5432||db.default.svc.cluster.local" })
    }

    @Test func inboundChainsFollowServicePortsThenContainerPorts() throws {
        var fixture = try Self.mesh()
        var container = Container(name: "web")
        container.ports = [ContainerPort(name: "web", containerPort: 80), ContainerPort(containerPort: 7070)]
        fixture.addPod(name: "web-v3", namespace: "default", labels: ["app": "web", "version": "v3"], spec: PodSpec(containers: [container]))
        let inbound = try #require(try fixture.config(pod: "web-v3").listeners.first { $0.name == "virtualInbound" })
        let chains = inbound.filterChains.map { "\($0.match.destinationPort ?? 0)/\($0.match.applicationProtocol ?? "-")/\($0.http != nil ? "http" : "tcp")" }
        // 80 is the target of the service's http-web port; 7070 is known to no service, so it is sniffed.
        #expect(chains == ["80/-/http", "7070/http/http", "7070/tcp/tcp", "0/-/tcp"])
    }
}
