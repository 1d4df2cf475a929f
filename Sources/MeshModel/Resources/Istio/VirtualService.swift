/// networking.istio.io VirtualService: how requests to a set of hosts are
/// routed (proto networking/v1alpha3/virtual_service.proto). The first rule
/// whose match succeeds wins, in order.
public struct VirtualService: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "VirtualService",
        plural: "virtualservices", shortNames: ["vs"])

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: Spec = Spec()) {
        self.metadata = metadata
        self.spec = spec
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(JSONValue.self, forKey: .status)
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { spec.check(at: path.appending("spec"), &$0) }
    }

    public struct Spec: Codable, Sendable, Hashable {
        /// The hosts this applies to; empty makes it a delegate (reachable only
        /// through another VirtualService's `delegate`).
        public var hosts: [String]?
        /// Gateways and sidecars that apply the routes; `mesh` (the default
        /// when empty) means every sidecar.
        public var gateways: [String]?
        public var http: [HTTPRoute]?
        public var tls: [TLSRoute]?
        public var tcp: [TCPRoute]?
        public var exportTo: [String]?

        public init(hosts: [String]? = nil, gateways: [String]? = nil, http: [HTTPRoute]? = nil) {
            self.hosts = hosts
            self.gateways = gateways
            self.http = http
        }

        /// Whether only sidecars apply it (no gateways, or `mesh` among them).
        public var appliesToMesh: Bool { (gateways ?? []).isEmpty || gateways!.contains("mesh") }
    }

    // MARK: HTTP

    public struct HTTPRoute: Codable, Sendable, Hashable {
        public var name: String?
        /// ORed; the fields inside one match are ANDed. Empty matches everything.
        public var match: [HTTPMatchRequest]?
        public var route: [HTTPRouteDestination]?
        public var redirect: HTTPRedirect?
        public var directResponse: HTTPDirectResponse?
        public var delegate: Delegate?
        public var rewrite: HTTPRewrite?
        /// Default: disabled.
        public var timeout: ProtoDuration?
        public var retries: HTTPRetry?
        public var fault: HTTPFaultInjection?
        public var mirror: Istio.Destination?
        public var mirrors: [HTTPMirrorPolicy]?
        /// Deprecated: use `mirrorPercentage`.
        public var mirrorPercent: UInt32?
        /// Deprecated spelling the CRD still accepts.
        public var mirrorPercentSnakeCase: UInt32?
        /// Share of traffic `mirror` copies (absent: 100%).
        public var mirrorPercentage: Istio.Percent?
        public var corsPolicy: CorsPolicy?
        public var headers: Istio.Headers?

        public init(name: String? = nil, match: [HTTPMatchRequest]? = nil, route: [HTTPRouteDestination]? = nil) {
            self.name = name
            self.match = match
            self.route = route
        }

        enum CodingKeys: String, CodingKey {
            case name, match, route, redirect, directResponse, delegate, rewrite, timeout, retries, fault, mirror,
                mirrors, mirrorPercent, mirrorPercentSnakeCase = "mirror_percent", mirrorPercentage, corsPolicy, headers
        }
    }

    public struct HTTPMatchRequest: Codable, Sendable, Hashable {
        public var name: String?
        public var uri: Istio.StringMatch?
        public var scheme: Istio.StringMatch?
        public var method: Istio.StringMatch?
        public var authority: Istio.StringMatch?
        /// Keys are lower-case header names; `{}` only requires presence.
        public var headers: [String: Istio.StringMatch]?
        public var port: UInt32?
        /// Selects client workloads (not a per-request match); needs `mesh`.
        public var sourceLabels: [String: String]?
        public var gateways: [String]?
        public var queryParams: [String: Istio.StringMatch]?
        public var ignoreUriCase: Bool?
        public var withoutHeaders: [String: Istio.StringMatch]?
        public var sourceNamespace: String?
        public var statPrefix: String?

        public init(uri: Istio.StringMatch? = nil, headers: [String: Istio.StringMatch]? = nil) {
            self.uri = uri
            self.headers = headers
        }
    }

    public struct HTTPRouteDestination: Codable, Sendable, Hashable {
        public var destination: Istio.Destination
        /// Relative: a destination gets weight/sum; a lone destination gets all.
        public var weight: Int32?
        public var headers: Istio.Headers?

        public init(destination: Istio.Destination, weight: Int32? = nil) {
            self.destination = destination
            self.weight = weight
        }
    }

    public struct Delegate: Codable, Sendable, Hashable {
        public var name: String?
        public var namespace: String?
    }

    public struct HTTPRedirect: Codable, Sendable, Hashable {
        public var uri: String?
        /// Replaces the matched prefix (needs prefix matches); exclusive with `uri`.
        public var prefixRewrite: String?
        public var authority: String?
        public var port: UInt32?
        public var derivePort: RedirectPortSelection?
        public var scheme: String?
        /// Default 301.
        public var redirectCode: UInt32?
    }

    public enum RedirectPortSelection: String, SchemaEnum {
        case fromProtocolDefault = "FROM_PROTOCOL_DEFAULT"
        case fromRequestPort = "FROM_REQUEST_PORT"
    }

    public struct HTTPDirectResponse: Codable, Sendable, Hashable {
        public var status: UInt32
        public var body: HTTPBody?
    }

    public struct HTTPBody: Codable, Sendable, Hashable {
        public var string: String?
        /// Base64 in YAML.
        public var bytes: String?
    }

    public struct HTTPRewrite: Codable, Sendable, Hashable {
        /// Replaces the path, or the matched prefix after a prefix match.
        public var uri: String?
        public var authority: String?
        public var uriRegexRewrite: RegexRewrite?
    }

    public struct RegexRewrite: Codable, Sendable, Hashable {
        public var match: String?
        /// May use `\1`-style captures.
        public var rewrite: String?
    }

    public struct HTTPRetry: Codable, Sendable, Hashable {
        /// 0 disables retries: at most 1 + attempts tries in all.
        public var attempts: Int32?
        public var perTryTimeout: ProtoDuration?
        /// Comma-separated Envoy retry conditions; integers are status codes.
        public var retryOn: String?
        public var retryRemoteLocalities: Bool?
        /// Default true.
        public var retryIgnorePreviousHosts: Bool?
        /// Base interval of the exponential backoff (default 25ms).
        public var backoff: ProtoDuration?
    }

    public struct HTTPFaultInjection: Codable, Sendable, Hashable {
        public var delay: Delay?
        public var abort: Abort?

        public struct Delay: Codable, Sendable, Hashable {
            public var fixedDelay: ProtoDuration?
            public var exponentialDelay: ProtoDuration?
            /// Without a percentage no request is delayed.
            public var percentage: Istio.Percent?
            /// Deprecated integer percentage.
            public var percent: Int32?
        }

        public struct Abort: Codable, Sendable, Hashable {
            public var httpStatus: Int32?
            public var grpcStatus: String?
            public var http2Error: String?
            public var percentage: Istio.Percent?
        }
    }

    public struct HTTPMirrorPolicy: Codable, Sendable, Hashable {
        public var destination: Istio.Destination
        public var percentage: Istio.Percent?
    }

    public struct CorsPolicy: Codable, Sendable, Hashable {
        public var allowOrigins: [Istio.StringMatch]?
        /// Deprecated: use `allowOrigins`.
        public var allowOrigin: [String]?
        public var allowMethods: [String]?
        public var allowHeaders: [String]?
        public var exposeHeaders: [String]?
        public var maxAge: ProtoDuration?
        public var allowCredentials: Bool?
        public var unmatchedPreflights: UnmatchedPreflights?
    }

    public enum UnmatchedPreflights: String, SchemaEnum {
        case unspecified = "UNSPECIFIED"
        case forward = "FORWARD"
        case ignore = "IGNORE"
    }

    // MARK: TLS and TCP

    public struct TLSRoute: Codable, Sendable, Hashable {
        public var match: [TLSMatchAttributes]
        public var route: [RouteDestination]?
    }

    public struct TLSMatchAttributes: Codable, Sendable, Hashable {
        public var sniHosts: [String]
        public var destinationSubnets: [String]?
        public var port: UInt32?
        public var sourceLabels: [String: String]?
        public var gateways: [String]?
        public var sourceNamespace: String?
    }

    public struct TCPRoute: Codable, Sendable, Hashable {
        public var match: [L4MatchAttributes]?
        public var route: [RouteDestination]?
    }

    public struct L4MatchAttributes: Codable, Sendable, Hashable {
        public var destinationSubnets: [String]?
        public var port: UInt32?
        public var sourceLabels: [String: String]?
        public var gateways: [String]?
        public var sourceNamespace: String?
        public var sourceSubnet: String?
    }

    public struct RouteDestination: Codable, Sendable, Hashable {
        public var destination: Istio.Destination
        public var weight: Int32?
    }
}

// MARK: - Checks (pkg/config/validation ValidateVirtualService and the CRD)

extension VirtualService.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let hosts = self.hosts ?? []
        let isDelegate = hosts.isEmpty
        if isDelegate {
            if !(gateways ?? []).isEmpty { check.istio(path.appending("gateways"), "delegate virtual service must have no gateways specified") }
            if !(tls ?? []).isEmpty { check.istio(path.appending("tls"), "delegate virtual service must have no tls route specified") }
            if !(tcp ?? []).isEmpty { check.istio(path.appending("tcp"), "delegate virtual service must have no tcp route specified") }
        }

        var appliesToGateway = false
        if let gateways, !gateways.isEmpty {
            check.gatewayNames(path.appending("gateways"), gateways)
            appliesToGateway = !gateways.contains("mesh")
        }
        let appliesToMesh = !appliesToGateway

        if !appliesToGateway {
            for (r, route) in (http ?? []).enumerated() {
                for (m, match) in (route.match ?? []).enumerated() {
                    let matchPath = path.appending("http").appending(index: r).appending("match").appending(index: m)
                    for (field, headers) in [("headers", match.headers), ("withoutHeaders", match.withoutHeaders)] {
                        for key in (headers ?? [:]).keys.sorted() where IstioFormat.isJWTClaimRoute(key) {
                            check.istio(matchPath.appending(field).appending(key: key),
                                "JWT claim based routing (key: \(key)) is only supported for gateway, found no gateways: [\((gateways ?? []).joined(separator: " "))]")
                        }
                    }
                }
            }
        }

        var allHostsValid = true
        let isSNIHost = (tls ?? []).contains { $0.match.contains { !$0.sniHosts.isEmpty } }
        for (index, host) in hosts.enumerated() {
            let hostPath = path.appending("hosts").appending(index: index)
            let error = appliesToGateway
                ? IstioFormat.validateWildcardDomainForGateway(sni: isSNIHost, host) : IstioFormat.validateWildcardDomain(host)
            if let error {
                if !IstioFormat.isIPAddress(host) {
                    check.istio(hostPath, error)
                    allHostsValid = false
                }
            } else if appliesToMesh && host == "*" {
                check.istio(hostPath, "wildcard host * is not allowed for virtual services bound to the mesh gateway")
                allHostsValid = false
            }
        }
        if allHostsValid {
            for i in hosts.indices {
                for j in hosts.indices where j > i && IstioFormat.hostsMatch(hosts[i], hosts[j]) {
                    check.istio(path.appending("hosts"), "duplicate hosts in virtual service: \(hosts[i]) & \(hosts[j])")
                }
            }
        }

        if (http ?? []).isEmpty && (tcp ?? []).isEmpty && (tls ?? []).isEmpty {
            check.istio(path, "http, tcp or tls must be provided in virtual service")
        }
        for (index, route) in (http ?? []).enumerated() {
            route.check(at: path.appending("http").appending(index: index), isDelegate: isDelegate, &check)
        }
        for (index, route) in (tls ?? []).enumerated() {
            route.check(at: path.appending("tls").appending(index: index), in: self, &check)
        }
        tcp.check(at: path.appending("tcp"), &check)
        for error in IstioFormat.validateExportTo(namespace: check.namespace, exportTo, isServiceEntry: false,
                                                  isDestinationRuleWithSelector: false) {
            check.istio(path.appending("exportTo"), error)
        }
        VirtualService.Reachability.analyze(self, at: path, &check)
    }
}

extension IstioCheck {
    mutating func gatewayNames(_ path: FieldPath, _ names: [String]?) {
        let (errors, warnings) = IstioFormat.validateGatewayNames(names)
        errors.forEach { istio(path, $0) }
        warnings.forEach { istioWarning(path, $0) }
    }

    mutating func labels(_ path: FieldPath, _ labels: [String: String]?) {
        IstioFormat.validateLabels(labels).forEach { istio(path, $0) }
    }
}

extension VirtualService.HTTPRoute {
    func check(at path: FieldPath, isDelegate: Bool, _ check: inout IstioCheck) {
        checkSchema(at: path, &check)

        // validateHTTPRouteConflict
        let hasRoute = !(route ?? []).isEmpty
        if delegate != nil && !isDelegate {
            // A root route only delegates.
            if redirect != nil { check.istio(path.appending("redirect"), "root HTTP route \(name ?? "") must not specify redirect") }
            if route != nil { check.istio(path.appending("route"), "root HTTP route \(name ?? "") must not specify route") }
        } else {
            if isDelegate && delegate != nil { check.istio(path.appending("delegate"), "delegate HTTP route cannot contain delegate") }
            if redirect != nil {
                if hasRoute { check.istio(path, "HTTP route cannot contain both route and redirect") }
                if fault != nil { check.istio(path, "HTTP route cannot contain both fault and redirect") }
                if rewrite != nil { check.istio(path, "HTTP route rule cannot contain both rewrite and redirect") }
                if directResponse != nil { check.istio(path, "HTTP route rule cannot contain both direct_response and redirect") }
            } else if directResponse != nil {
                if hasRoute { check.istio(path, "HTTP route cannot contain both route and direct_response") }
                if fault != nil { check.istio(path, "HTTP route cannot contain both fault and direct_response") }
                if rewrite != nil { check.istio(path, "HTTP route rule cannot contain both rewrite and direct_response") }
            } else if !hasRoute {
                check.istio(path, "HTTP route, redirect or direct_response is required")
            }
            if mirror != nil && !(mirrors ?? []).isEmpty {
                check.istio(path, "HTTP route cannot contain both mirror and mirrors")
            }
        }

        for (index, match) in (self.match ?? []).enumerated() {
            match.check(at: path.appending("match").appending(index: index), &check)
        }
        headers?.check(at: path.appending("headers"), &check)
        corsPolicy.check(at: path.appending("corsPolicy"), &check)
        fault.check(at: path.appending("fault"), &check)

        if let mirrorPercent = mirrorPercent ?? mirrorPercentSnakeCase {
            let at = path.appending(self.mirrorPercent != nil ? "mirrorPercent" : "mirror_percent")
            if mirrorPercent > 100 { check.istio(at, "mirror_percent must have a max value of 100 (it has \(mirrorPercent))") }
            check.istioWarning(at, #"using deprecated setting "mirrorPercent", use "mirrorPercentage" instead"#)
        }
        if let value = mirrorPercentage?.value {
            let at = path.appending("mirrorPercentage").appending("value")
            if value > 100 { check.istio(at, "mirror_percentage must have a max value of 100 (it has \(GoFormat.float(value)))") }
            if value < 0 { check.istio(at, "mirror_percentage must have a min value of 0 (it has \(GoFormat.float(value)))") }
        }
        mirror.check(at: path.appending("mirror"), &check)
        for (index, policy) in (mirrors ?? []).enumerated() {
            let at = path.appending("mirrors").appending(index: index)
            policy.destination.check(at: at.appending("destination"), &check)
            if let value = policy.percentage?.value {
                if value > 100 { check.istio(at.appending("percentage"), "mirror percentage must have a max value of 100 (it has \(GoFormat.float(value)))") }
                if value < 0 { check.istio(at.appending("percentage"), "mirror percentage must have a min value of 0 (it has \(GoFormat.float(value)))") }
            }
        }
        redirect?.check(at: path.appending("redirect"), matches: self.match ?? [], &check)
        directResponse.check(at: path.appending("directResponse"), &check)
        retries.check(at: path.appending("retries"), &check)
        rewrite.check(at: path.appending("rewrite"), &check)

        // validateAuthorityRewrite: one place may set the authority.
        var authority = rewrite?.authority ?? ""
        for (operation, headers) in [("set", self.headers?.request?.set), ("add", self.headers?.request?.add)] {
            for (key, value) in (headers ?? [:]).sorted(by: { $0.key < $1.key }) where IstioFormat.isAuthorityHeader(key) {
                if !authority.isEmpty {
                    check.istio(path.appending("headers").appending("request").appending(operation).appending(key: key),
                        "authority header cannot be set multiple times: have \(IstioFormat.goQuote(authority)), attempting to set \(IstioFormat.goQuote(value))")
                }
                authority = value
            }
        }

        check.routeDestinations((route ?? []).map { ($0.destination, $0.weight, $0.headers) }, at: path.appending("route"))
        check.istio(path.appending("timeout"), timeout?.istioError)
    }

    /// The CRD's `oneOf` rules for this route (types, ranges and durations are the codec's).
    private func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        if let redirect {
            check.oneOf(path.appending("redirect"),
                [redirect.port.map { _ in "port" }, redirect.derivePort.map { _ in "derivePort" }].compactMap { $0 })
        }
        if let body = directResponse?.body {
            check.oneOf(path.appending("directResponse").appending("body"),
                [body.string.map { _ in "string" }, body.bytes.map { _ in "bytes" }].compactMap { $0 })
        }
        if let abort = fault?.abort {
            check.oneOf(path.appending("fault").appending("abort"),
                [abort.httpStatus.map { _ in "httpStatus" }, abort.grpcStatus.map { _ in "grpcStatus" },
                 abort.http2Error.map { _ in "http2Error" }].compactMap { $0 })
        }
        if let delay = fault?.delay {
            check.oneOf(path.appending("fault").appending("delay"),
                [delay.fixedDelay.map { _ in "fixedDelay" }, delay.exponentialDelay.map { _ in "exponentialDelay" }].compactMap { $0 })
        }
        for (index, origin) in (corsPolicy?.allowOrigins ?? []).enumerated() {
            origin.checkSchema(at: path.appending("corsPolicy").appending("allowOrigins").appending(index: index), &check)
        }
        for (index, match) in (self.match ?? []).enumerated() {
            let at = path.appending("match").appending(index: index)
            for (field, value) in [("uri", match.uri), ("scheme", match.scheme), ("method", match.method), ("authority", match.authority)] {
                value?.checkSchema(at: at.appending(field), &check)
            }
            for (field, map) in [("headers", match.headers), ("queryParams", match.queryParams), ("withoutHeaders", match.withoutHeaders)] {
                for (key, value) in (map ?? [:]).sorted(by: { $0.key < $1.key }) {
                    value.checkSchema(at: at.appending(field).appending(key: key), &check)
                }
            }
        }
    }
}

extension VirtualService.HTTPMatchRequest {
    /// validateHTTPRouteMatchRequest for one match.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        for (name, header) in (headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = path.appending("headers").appending(key: name)
            check.istio(at, IstioFormat.validateHeaderNameOrJWTClaim(name))
            check.istio(at, header.istioError(where: "headers"))
        }
        for (name, header) in (withoutHeaders ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = path.appending("withoutHeaders").appending(key: name)
            check.istio(at, IstioFormat.validateHeaderNameOrJWTClaim(name))
            // `*` is not a regex here: Envoy reads it as a presence match.
            if header.regex != "*" { check.istio(at, header.istioError(where: "withoutHeaders")) }
        }
        // A uri prefix may be empty (Envoy allows it); scheme, method and authority may not.
        if let uri, case .regex = uri.kind { check.istio(path.appending("uri"), uri.istioError(where: "uri")) }
        for (field, value) in [("scheme", scheme), ("method", method), ("authority", authority)] {
            check.istio(path.appending(field), value?.istioError(where: field))
        }
        for (name, value) in (queryParams ?? [:]).sorted(by: { $0.key < $1.key }) {
            check.istio(path.appending("queryParams").appending(key: name), value.istioError(where: "queryParams"))
        }
        if let port, port != 0 { check.istio(path.appending("port"), IstioFormat.validatePort(Int(port))) }
        check.labels(path.appending("sourceLabels"), sourceLabels)
        check.gatewayNames(path.appending("gateways"), gateways)
        if let sourceNamespace, !sourceNamespace.isEmpty, !IstioFormat.isDNS1123Label(sourceNamespace) {
            check.istio(path.appending("sourceNamespace"), "sourceNamespace match \(sourceNamespace) is invalid")
        }
    }
}

extension IstioCheck {
    /// validateHTTPRouteDestinations / validateRouteDestinations: each
    /// destination valid, weights >= 0, and not all zero when split.
    mutating func routeDestinations(_ destinations: [(Istio.Destination, Int32?, Istio.Headers?)], at path: FieldPath) {
        var total = 0
        for (index, (destination, weight, headers)) in destinations.enumerated() {
            let at = path.appending(index: index)
            headers?.check(at: at.appending("headers"), &self)
            destination.check(at: at.appending("destination"), &self)
            if let weight, weight < 0 { istio(at.appending("weight"), "weight \(weight) < 0") }
            total += Int(weight ?? 0)
        }
        if destinations.count > 1 && total == 0 { istio(path, "total destination weight = 0") }
    }
}

extension VirtualService.CorsPolicy: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        for (index, origin) in (allowOrigins ?? []).enumerated() {
            let at = path.appending("allowOrigins").appending(index: index)
            let value: String
            switch origin.kind {
            case .exact(let text), .prefix(let text), .regex(let text): value = text
            case .present: value = ""
            }
            if value.isEmpty {
                check.istio(at, "'\(value)' is not a valid match type for CORS allow origins")
            } else if case .regex(let regex) = origin.kind {
                check.istio(at, Istio.StringMatch.regexError(regex, where: "corsPolicy.allowOrigins"))
            }
        }
        for (index, method) in (allowMethods ?? []).enumerated() where !IstioFormat.httpMethods.contains(method) {
            check.istio(path.appending("allowMethods").appending(index: index), "\(IstioFormat.goQuote(method)) is not a supported HTTP method")
        }
        for (field, names) in [("allowHeaders", allowHeaders), ("exposeHeaders", exposeHeaders)] {
            for (index, name) in (names ?? []).enumerated() where name != "*" {
                check.istio(path.appending(field).appending(index: index), IstioFormat.validateHeaderName(name))
            }
        }
        if let maxAge {
            check.istio(path.appending("maxAge"), maxAge.istioError)
            if maxAge.nanoseconds % 1_000_000_000 != 0 {
                check.istio(path.appending("maxAge"), "max_age duration is accurate only to seconds precision")
            }
        }
    }
}

extension VirtualService.HTTPFaultInjection: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if abort == nil && delay == nil { check.istio(path, "HTTP fault injection must have an abort and/or a delay") }
        if let abort {
            let at = path.appending("abort")
            check.percentage(at.appending("percentage"), abort.percentage)
            if let grpcStatus = abort.grpcStatus {
                if !Self.grpcStatusNames.contains(grpcStatus) {
                    check.istio(at.appending("grpcStatus"),
                        "gRPC status \(IstioFormat.goQuote(grpcStatus)) is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'")
                }
            } else if abort.http2Error != nil {
                check.istio(at.appending("http2Error"), "HTTP/2 abort fault injection not supported yet")
            } else if let httpStatus = abort.httpStatus {
                check.istio(at.appending("httpStatus"), VirtualService.httpStatusError(Int(httpStatus)))
            } else {
                check.istioWarning(at, "abort configured, but error type not set")
            }
        }
        if let delay {
            let at = path.appending("delay")
            check.percentage(at.appending("percentage"), delay.percentage)
            if let fixedDelay = delay.fixedDelay {
                check.istio(at.appending("fixedDelay"), fixedDelay.istioError)
            } else if let exponentialDelay = delay.exponentialDelay {
                check.istio(at.appending("exponentialDelay"), exponentialDelay.istioError)
                check.istio(at.appending("exponentialDelay"), "exponentialDelay not supported yet")
            }
        }
    }

    /// grpc.SupportedGRPCStatus.
    static let grpcStatusNames: Set<String> = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]
}

extension IstioCheck {
    /// validatePercentage: 0, or within [0.0001, 100].
    mutating func percentage(_ path: FieldPath, _ percent: Istio.Percent?) {
        guard let value = percent?.value else { return }
        if value < 0 || value > 100 || (value > 0 && value < 0.0001) {
            istio(path, "percentage \(GoFormat.value(value)) is neither 0.0, nor in range [0.0001, 100.0]")
        }
    }
}

extension VirtualService {
    /// validateHTTPStatus: Istio accepts 200 through 600 although its message says 599.
    static func httpStatusError(_ status: Int) -> String? {
        status < 200 || status > 600 ? "HTTP status \(status) is not in range 200-599" : nil
    }
}

extension VirtualService.HTTPRedirect {
    func check(at path: FieldPath, matches: [VirtualService.HTTPMatchRequest], _ check: inout IstioCheck) {
        let empty: (String?) -> Bool = { ($0 ?? "").isEmpty }
        if empty(uri) && empty(prefixRewrite) && empty(authority) && port == nil && derivePort == nil && empty(scheme) {
            check.istio(path, "redirect must specify URI, authority, scheme, or port")
            return
        }
        if let redirectCode, redirectCode != 0, !(300...399).contains(Int(redirectCode)) {
            check.istio(path.appending("redirectCode"), "\(redirectCode) is not a valid redirect code, must be 3xx")
            return
        }
        if let scheme, !scheme.isEmpty, scheme != "http", scheme != "https" {
            check.istio(path.appending("scheme"), #"invalid redirect scheme, must be "http" or "https""#)
            return
        }
        if let port, port > 0, let error = IstioFormat.validatePort(Int(port)) {
            check.istio(path.appending("port"), error)
            return
        }
        if prefixRewrite != nil {
            // Not in every Istio release: prefixRewrite replaces the matched prefix,
            // so it needs uri prefix matches and cannot combine with uri.
            if !empty(uri) { check.istio(path, "redirect may only contain one of uri or prefixRewrite") }
            let allPrefix = !matches.isEmpty && matches.allSatisfy { if case .prefix = $0.uri?.kind { true } else { false } }
            if !allPrefix { check.istio(path.appending("prefixRewrite"), "prefixRewrite requires every match to have a uri prefix match") }
        }
    }
}

extension VirtualService.HTTPDirectResponse: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let size = (body?.string ?? "").utf8.count + ((body?.bytes ?? "").utf8.count * 3 / 4)
        if size > 1024 * 1024 {
            check.istio(path.appending("body"), "large direct_responses may impact control plane performance, must be less than 1MB")
        } else if size > 100 * 1024 {
            check.istioWarning(path.appending("body"), "large direct_responses may impact control plane performance")
        }
        check.istio(path.appending("status"), VirtualService.httpStatusError(Int(status)))
    }
}

extension VirtualService.HTTPRetry: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let attempts = self.attempts ?? 0
        if attempts < 0 { check.istio(path.appending("attempts"), "attempts cannot be negative") }
        if attempts == 0 && (perTryTimeout != nil || !(retryOn ?? "").isEmpty || retryRemoteLocalities != nil) {
            check.istio(path, "http retry policy configured when attempts are set to 0 (disabled)")
        }
        check.istio(path.appending("perTryTimeout"), perTryTimeout?.istioError)
        if let retryOn, !retryOn.isEmpty {
            for policy in retryOn.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            where !Self.isRetryOnPolicy(policy) {
                check.istio(path.appending("retryOn"), "\(IstioFormat.goQuote(policy)) is not a valid retryOn policy")
            }
        }
    }

    /// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on conditions.
    static let retryOnPolicies: Set<String> = [
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream",
        "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    ]

    /// A named condition, or an HTTP status code Go's net/http knows.
    static func isRetryOnPolicy(_ policy: String) -> Bool {
        if retryOnPolicies.contains(policy) { return true }
        guard let code = Int(policy) else { return false }
        return knownStatusCodes.contains(code)
    }

    /// The codes for which Go's http.StatusText is not empty.
    static let knownStatusCodes: Set<Int> = Set(
        [100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308]
            + Array(400...418) + [421, 422, 423, 424, 425, 426, 428, 429, 431, 451]
            + Array(500...508) + [510, 511])
}

extension VirtualService.HTTPRewrite: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let hasURI = !(uri ?? "").isEmpty
        if hasURI && uriRegexRewrite != nil {
            check.istio(path, "rewrite may only contain one of URI or UriRegexRewrite")
            return
        }
        if !hasURI && uriRegexRewrite == nil && (authority ?? "").isEmpty {
            check.istio(path, "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified")
            return
        }
        if let regexRewrite = uriRegexRewrite {
            let at = path.appending("uriRegexRewrite")
            if (regexRewrite.match ?? "").isEmpty || (regexRewrite.rewrite ?? "").isEmpty {
                check.istio(at, "UriRegexRewrite has errors\nUriRegexRewrite requires both Rewrite and Match fields to be specified")
            } else if let error = Istio.StringMatch.regexError(regexRewrite.match!, where: "HTTPRewrite.UriRegexRewrite.Match") {
                check.istio(at.appending("match"), "UriRegexRewrite has errors\n\(error)")
            }
        }
    }
}

extension VirtualService.TLSRoute {
    func check(at path: FieldPath, in spec: VirtualService.Spec, _ check: inout IstioCheck) {
        if match.isEmpty { check.istio(path.appending("match"), "TLS route must have at least one match condition") }
        for (index, match) in match.enumerated() {
            let at = path.appending("match").appending(index: index)
            if match.sniHosts.isEmpty {
                check.istio(at.appending("sniHosts"), "TLS match must have at least one SNI host")
            } else {
                for (h, sniHost) in match.sniHosts.enumerated() {
                    Self.checkSNIHost(sniHost, at: at.appending("sniHosts").appending(index: h), in: spec, &check)
                }
            }
            for (s, subnet) in (match.destinationSubnets ?? []).enumerated() {
                check.istio(at.appending("destinationSubnets").appending(index: s), IstioFormat.validateIPSubnet(subnet))
            }
            if let port = match.port, port != 0 { check.istio(at.appending("port"), IstioFormat.validatePort(Int(port))) }
            check.labels(at.appending("sourceLabels"), match.sourceLabels)
            check.gatewayNames(at.appending("gateways"), match.gateways)
        }
        if (route ?? []).isEmpty { check.istio(path.appending("route"), "TLS route is required") }
        check.routeDestinations((route ?? []).map { ($0.destination, $0.weight, nil) }, at: path.appending("route"))
    }

    /// validateSniHost: a (wildcard) domain within the VirtualService's hosts.
    static func checkSNIHost(_ sniHost: String, at path: FieldPath, in spec: VirtualService.Spec, _ check: inout IstioCheck) {
        // Istio's isGateway: true unless `mesh` is listed (also when no gateway is).
        let isGateway = !(spec.gateways ?? []).contains("mesh")
        let error = isGateway
            ? IstioFormat.validateWildcardDomainForGateway(sni: true, sniHost) : IstioFormat.validateWildcardDomain(sniHost)
        if let error {
            if IstioFormat.isIPAddress(sniHost) {
                check.istioWarning(path, "using an IP address (\(IstioFormat.goQuote(sniHost))) goes against SNI spec and most clients do not support this")
            } else {
                check.istio(path, error)
            }
            return
        }
        let hosts = spec.hosts ?? []
        if !hosts.contains(where: { IstioFormat.host(sniHost, isSubsetOf: $0) }) {
            check.istio(path, "SNI host \(IstioFormat.goQuote(sniHost)) is not a compatible subset of any of the virtual service hosts: [\(hosts.joined(separator: ", "))]")
        }
    }
}

extension VirtualService.TCPRoute: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        for (index, match) in (self.match ?? []).enumerated() {
            let at = path.appending("match").appending(index: index)
            for (s, subnet) in (match.destinationSubnets ?? []).enumerated() {
                check.istio(at.appending("destinationSubnets").appending(index: s), IstioFormat.validateIPSubnet(subnet))
            }
            if let port = match.port, port != 0 { check.istio(at.appending("port"), IstioFormat.validatePort(Int(port))) }
            check.labels(at.appending("sourceLabels"), match.sourceLabels)
            check.gatewayNames(at.appending("gateways"), match.gateways)
        }
        if (route ?? []).isEmpty { check.istio(path.appending("route"), "TCP route is required") }
        check.routeDestinations((route ?? []).map { ($0.destination, $0.weight, nil) }, at: path.appending("route"))
    }
}

/// Go's number formatting where Istio's messages print floats.
enum GoFormat {
    /// `%f`: six decimals.
    static func float(_ value: Double) -> String {
        let scaled = (abs(value) * 1_000_000).rounded()
        guard scaled < 9e18 else { return String(value) }
        let micro = Int64(scaled)
        let fraction = String(micro % 1_000_000)
        return (value < 0 ? "-" : "") + "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// `%v`: whole numbers without a fraction, others as the shortest form.
    static func value(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
