import FoundationEssentials
import MeshModel

/// Which VirtualService routes requests for a host, as a sidecar sees it.
enum VirtualServiceLookup {
    /// The rules that bind to sidecars (no gateways, or `mesh` among them),
    /// have hosts (delegates are reached only through a root rule, which
    /// meshlab does not follow) and are exported to the proxy's namespace.
    static func visible(to scope: ProxyScope, in rules: [VirtualService]) -> [VirtualService] {
        rules.filter { rule in
            rule.spec.appliesToMesh && !(rule.spec.hosts ?? []).isEmpty
                && MeshHost.isExported(rule.spec.exportTo, from: rule.metadata.namespace ?? "default", to: scope.namespace)
        }
    }

    /// The rule for `hostname`: hosts resolve in the rule's own namespace;
    /// an exact host beats a wildcard, then the oldest rule wins, then by
    /// namespace and name. (Istio merges only delegates; for two root rules
    /// on one host it too takes the first.)
    static func rule(for hostname: String, among rules: [VirtualService]) -> VirtualService? {
        var best: (key: (Int, String, String, String), rule: VirtualService)?
        for rule in rules {
            let namespace = rule.metadata.namespace ?? "default"
            let hosts = (rule.spec.hosts ?? []).map { MeshHost.resolve($0, in: namespace) }
            guard let specificity = hosts.filter({ MeshHost.matches(pattern: $0, host: hostname) })
                .map(MeshHost.specificity).max()
            else { continue }
            let key = (-specificity, rule.metadata.creationTimestamp ?? "", namespace, rule.metadata.name ?? "")
            if best == nil || key < best!.key { best = (key, rule) }
        }
        return best?.rule
    }
}

/// Translation of VirtualService `http` rules into routes for one service
/// port (Istio's route.BuildHTTPRoutesForVirtualService).
///
/// Not carried (the contract has no field, or the lab has no use yet):
/// `corsPolicy`, `rewrite.uriRegexRewrite`, `delegate`, mirrors beyond the
/// first of `mirrors`, gRPC / HTTP/2 aborts, redirect `derivePort`.
struct HTTPRouteBuilder {
    var scope: ProxyScope
    var snapshot: MeshSnapshot

    /// The route of a service without a VirtualService: everything to the port's cluster.
    func defaultRoute(service: RegistryService, port: Int) -> Route {
        let hash = policy(hostname: service.hostname, port: port, subset: nil).usesConsistentHash
        return Route(name: "default", match: RouteMatch(prefix: "/"),
                     route: RouteAction(cluster: OutboundClusters.name(port: port, subset: nil, hostname: service.hostname),
                                        retryPolicy: RetryPolicies.policy(nil, consistentHash: hash)))
    }

    /// The routes `rule` gives requests to port `port`, in order; a rule
    /// whose matches all exclude this port or proxy gives none.
    func routes(from rule: VirtualService, port: Int) -> [Route] {
        let namespace = rule.metadata.namespace ?? "default"
        let origin = "\(rule.metadata.name ?? "").\(namespace)"
        var routes: [Route] = []
        for http in rule.spec.http ?? [] where http.delegate == nil {
            let matches: [VirtualService.HTTPMatchRequest?] = (http.match ?? []).isEmpty
                ? [nil] : (http.match ?? []).filter { applies($0, port: port) }
            for match in matches {
                var route = translate(http, match: match, namespace: namespace, port: port)
                route.virtualService = origin
                routes.append(route)
            }
        }
        return routes
    }

    /// Whether a match can apply on this port and to this proxy: `port`,
    /// `sourceLabels`, `sourceNamespace` and `gateways` select where a
    /// match exists; they are not per-request conditions.
    func applies(_ match: VirtualService.HTTPMatchRequest, port: Int) -> Bool {
        if let wanted = match.port, wanted != 0, Int(wanted) != port { return false }
        if let labels = match.sourceLabels, !labels.allSatisfy({ scope.labels[$0.key] == $0.value }) { return false }
        if let namespace = match.sourceNamespace, !namespace.isEmpty, namespace != scope.namespace { return false }
        if let gateways = match.gateways, !gateways.isEmpty, !gateways.contains("mesh") { return false }
        return true
    }

    func translate(_ http: VirtualService.HTTPRoute, match: VirtualService.HTTPMatchRequest?, namespace: String,
                   port: Int) -> Route {
        let routeMatch = match.map(Self.routeMatch) ?? RouteMatch(prefix: "/")
        var route = Route(name: http.name, match: routeMatch)
        var requestHeaders = http.headers?.request.map(Self.mutation)
        var responseHeaders = http.headers?.response.map(Self.mutation)

        if let redirect = http.redirect {
            route.redirect = Self.redirect(redirect)
        } else if let direct = http.directResponse {
            route.directResponse = Self.directResponse(direct)
        } else {
            var action = RouteAction()
            let destinations = (http.route ?? []).filter { (http.route ?? []).count == 1 || ($0.weight ?? 0) > 0 }
            if destinations.count == 1, let only = destinations.first {
                action.cluster = clusterName(only.destination, namespace: namespace, port: port)
                // A lone destination's header edits become the route's (as Istio does).
                requestHeaders = Self.merge(requestHeaders, only.headers?.request.map(Self.mutation))
                responseHeaders = Self.merge(responseHeaders, only.headers?.response.map(Self.mutation))
            } else if !destinations.isEmpty {
                action.weightedClusters = destinations.map { destination in
                    var weighted = WeightedCluster(name: clusterName(destination.destination, namespace: namespace, port: port),
                                                   weight: Int(destination.weight ?? 0))
                    weighted.requestHeaders = destination.headers?.request.map(Self.mutation)
                    weighted.responseHeaders = destination.headers?.response.map(Self.mutation)
                    return weighted
                }
            }
            action.timeoutMs = http.timeout.map(OutboundClusters.milliseconds)
            let hash = destinations.contains { destination in
                let resolved = resolve(destination.destination, namespace: namespace, port: port)
                return policy(hostname: resolved.hostname, port: resolved.port, subset: destination.destination.subset)
                    .usesConsistentHash
            }
            action.retryPolicy = RetryPolicies.policy(http.retries, consistentHash: hash)
            if let rewrite = http.rewrite {
                if let uri = rewrite.uri, !uri.isEmpty {
                    if routeMatch.path != nil || routeMatch.regex != nil { action.pathRewrite = uri } else { action.prefixRewrite = uri }
                }
                action.hostRewrite = rewrite.authority.flatMap { $0.isEmpty ? nil : $0 }
            }
            if let mirror = http.mirror {
                action.mirrorCluster = clusterName(mirror, namespace: namespace, port: port)
                action.mirrorPercent = http.mirrorPercentage?.value
                    ?? (http.mirrorPercent ?? http.mirrorPercentSnakeCase).map(Double.init) ?? 100
            } else if let first = http.mirrors?.first {
                action.mirrorCluster = clusterName(first.destination, namespace: namespace, port: port)
                action.mirrorPercent = first.percentage?.value ?? 100
            }
            route.route = action
        }
        route.fault = http.fault.flatMap(Self.fault)
        route.requestHeaders = requestHeaders
        route.responseHeaders = responseHeaders
        return route
    }

    // MARK: Destinations

    /// A destination's host (resolved in the rule's namespace) and port: the
    /// one named, else the route's own port when the destination has it, else
    /// the destination's only port.
    func resolve(_ destination: Istio.Destination, namespace: String, port: Int) -> (hostname: String, port: Int) {
        let hostname = MeshHost.resolve(destination.host, in: namespace)
        if let number = destination.port?.number, number != 0 { return (hostname, Int(number)) }
        if let service = scope.service(hostname: hostname), service.port(port) == nil, service.ports.count == 1 {
            return (hostname, service.ports[0].number)
        }
        return (hostname, port)
    }

    func clusterName(_ destination: Istio.Destination, namespace: String, port: Int) -> String {
        let resolved = resolve(destination, namespace: namespace, port: port)
        let subset = destination.subset.flatMap { $0.isEmpty ? nil : $0 }
        return OutboundClusters.name(port: resolved.port, subset: subset, hostname: resolved.hostname)
    }

    /// The DestinationRule policy of the cluster a destination reaches.
    func policy(hostname: String, port: Int, subset: String?) -> EffectiveTrafficPolicy {
        let namespace = scope.service(hostname: hostname)?.namespace ?? scope.namespace
        guard let rule = DestinationRuleLookup.rule(for: hostname, serviceNamespace: namespace, scope: scope,
                                                    in: snapshot.destinationRules)
        else { return EffectiveTrafficPolicy() }
        let base = EffectiveTrafficPolicy(rule.spec.trafficPolicy, port: port)
        guard let subset, let spec = rule.spec.subset(named: subset) else { return base }
        return base.overridden(by: spec.trafficPolicy, port: port)
    }

    // MARK: Pieces

    static func routeMatch(_ match: VirtualService.HTTPMatchRequest) -> RouteMatch {
        var out = RouteMatch()
        switch match.uri?.kind {
        case .exact(let path): out.path = path
        case .prefix(let prefix): out.prefix = prefix
        case .regex(let regex): out.regex = regex
        case .present, nil: out.prefix = "/"
        }
        if match.ignoreUriCase == true { out.ignoreCase = true }
        var headers: [HeaderMatcher] = []
        for (name, value) in (match.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.append(headerMatcher(name.lowercased(), value))
        }
        for (name, value) in (match.withoutHeaders ?? [:]).sorted(by: { $0.key < $1.key }) {
            var matcher = headerMatcher(name.lowercased(), value)
            matcher.invert = true
            headers.append(matcher)
        }
        for (name, value) in [(":authority", match.authority), (":method", match.method), (":scheme", match.scheme)] {
            if let value { headers.append(headerMatcher(name, value)) }
        }
        out.headers = headers.isEmpty ? nil : headers
        let query = (match.queryParams ?? [:]).sorted(by: { $0.key < $1.key }).map { name, value in
            let (matcher, present) = stringMatcher(value)
            return QueryParameterMatcher(name: name, match: matcher, present: present)
        }
        out.queryParameters = query.isEmpty ? nil : query
        return out
    }

    static func headerMatcher(_ name: String, _ value: Istio.StringMatch) -> HeaderMatcher {
        let (matcher, present) = stringMatcher(value)
        return HeaderMatcher(name: name, match: matcher, present: present)
    }

    /// `{}` is a presence check; anything else a value match.
    static func stringMatcher(_ value: Istio.StringMatch) -> (StringMatcher?, Bool?) {
        switch value.kind {
        case .exact(let text): (StringMatcher(exact: text), nil)
        case .prefix(let text): (StringMatcher(prefix: text), nil)
        case .regex(let text): (StringMatcher(regex: text), nil)
        case .present: (nil, true)
        }
    }

    /// Map entries sorted by name, so output is stable.
    static func mutation(_ operations: Istio.HeaderOperations) -> HeaderMutation {
        let values = { (map: [String: String]?) -> [HeaderValue]? in
            guard let map, !map.isEmpty else { return nil }
            return map.sorted { $0.key < $1.key }.map { HeaderValue(name: $0.key, value: $0.value) }
        }
        let remove = operations.remove.flatMap { $0.isEmpty ? nil : $0 }
        return HeaderMutation(set: values(operations.set), add: values(operations.add), remove: remove)
    }

    /// Route edits first, then the destination's (later `set`s win).
    static func merge(_ first: HeaderMutation?, _ second: HeaderMutation?) -> HeaderMutation? {
        guard let first else { return second }
        guard let second else { return first }
        let join = { (a: [HeaderValue]?, b: [HeaderValue]?) -> [HeaderValue]? in
            let all = (a ?? []) + (b ?? [])
            return all.isEmpty ? nil : all
        }
        let removed = (first.remove ?? []) + (second.remove ?? [])
        return HeaderMutation(set: join(first.set, second.set), add: join(first.add, second.add),
                              remove: removed.isEmpty ? nil : removed)
    }

    static func redirect(_ redirect: VirtualService.HTTPRedirect) -> RedirectAction {
        var out = RedirectAction()
        out.pathRedirect = redirect.uri.flatMap { $0.isEmpty ? nil : $0 }
        out.prefixRewrite = redirect.prefixRewrite
        out.hostRedirect = redirect.authority.flatMap { $0.isEmpty ? nil : $0 }
        out.portRedirect = redirect.port.flatMap { $0 == 0 ? nil : Int($0) }
        out.schemeRedirect = redirect.scheme.flatMap { $0.isEmpty ? nil : $0 }
        out.responseCode = redirect.redirectCode.flatMap { $0 == 0 ? nil : Int($0) } ?? 301
        return out
    }

    static func directResponse(_ direct: VirtualService.HTTPDirectResponse) -> DirectResponseAction {
        var body = direct.body?.string
        if body == nil, let bytes = direct.body?.bytes, let data = Data(base64Encoded: bytes) {
            body = String(decoding: data, as: UTF8.self)
        }
        return DirectResponseAction(status: Int(direct.status), body: body)
    }

    /// Istio's translateFault: a delay without `percentage` uses the
    /// deprecated integer `percent` (0 when absent); an abort without a
    /// percentage faults nothing. gRPC and HTTP/2 aborts are not carried.
    static func fault(_ fault: VirtualService.HTTPFaultInjection) -> FaultPolicy? {
        var out = FaultPolicy()
        if let delay = fault.delay, let fixed = delay.fixedDelay {
            out.delayMs = OutboundClusters.milliseconds(fixed)
            out.delayPercent = delay.percentage?.value ?? Double(delay.percent ?? 0)
        }
        if let abort = fault.abort, let status = abort.httpStatus {
            out.abortStatus = Int(status)
            out.abortPercent = abort.percentage?.value ?? 0
        }
        return out == FaultPolicy() ? nil : out
    }
}
