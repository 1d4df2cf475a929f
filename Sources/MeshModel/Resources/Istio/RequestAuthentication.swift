/// security.istio.io RequestAuthentication: which JWTs a workload accepts
/// (proto security/v1/request_authentication.proto). A request with an
/// invalid token is rejected (401); one without a token passes with no
/// request principal, so pair it with an AuthorizationPolicy to require one.
public struct RequestAuthentication: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "security.istio.io", versions: ["v1", "v1beta1"], kind: "RequestAuthentication",
        plural: "requestauthentications", shortNames: ["ra"])

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
        public var selector: Istio.WorkloadSelector?
        public var targetRef: Istio.PolicyTargetReference?
        public var targetRefs: [Istio.PolicyTargetReference]?
        public var jwtRules: [JWTRule]?

        public init(selector: Istio.WorkloadSelector? = nil, jwtRules: [JWTRule]? = nil) {
            self.selector = selector
            self.jwtRules = jwtRules
        }
    }

    /// How to find, verify and pass on one issuer's tokens. Without
    /// `fromHeaders`/`fromParams`, the token is read from
    /// `Authorization: Bearer` or `?access_token=`.
    public struct JWTRule: Codable, Sendable, Hashable {
        /// May be omitted when `jwksUri` is given.
        public var issuer: String?
        /// Empty accepts the service's own name.
        public var audiences: [String]?
        public var jwksUri: String?
        /// The deprecated snake-case spelling the CRD still accepts.
        public var jwksUriSnakeCase: String?
        /// An inline JSON Web Key Set.
        public var jwks: String?
        public var fromHeaders: [JWTHeader]?
        public var fromParams: [String]?
        public var fromCookies: [String]?
        public var outputPayloadToHeader: String?
        public var forwardOriginalToken: Bool?
        public var outputClaimToHeaders: [ClaimToHeader]?
        /// How long to wait for the JWKS fetch (default 5s).
        public var timeout: ProtoDuration?
        /// Claims split on spaces before matching (besides `scope` and `permission`).
        public var spaceDelimitedClaims: [String]?
        public var presence: Presence?

        public init(issuer: String? = nil, jwksUri: String? = nil) {
            self.issuer = issuer
            self.jwksUri = jwksUri
        }

        enum CodingKeys: String, CodingKey {
            case issuer, audiences, jwksUri, jwksUriSnakeCase = "jwks_uri", jwks, fromHeaders, fromParams, fromCookies,
                outputPayloadToHeader, forwardOriginalToken, outputClaimToHeaders, timeout, spaceDelimitedClaims, presence
        }
    }

    public struct JWTHeader: Codable, Sendable, Hashable {
        public var name: String
        /// Stripped before decoding (e.g. `Bearer `).
        public var prefix: String?
    }

    public struct ClaimToHeader: Codable, Sendable, Hashable {
        public var header: String
        public var claim: String
    }

    /// Whether a token is required.
    public enum Presence: String, SchemaEnum {
        case unspecified = "PRESENCE_UNSPECIFIED"
        case required = "REQUIRED"
        case optional = "OPTIONAL"
    }
}

// MARK: - Checks (ValidateRequestAuthentication and the CRD)

extension RequestAuthentication.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        check.policyTargets(at: path, selector: selector, targetRef: targetRef, targetRefs: targetRefs)
        if let jwtRules { check.maxItems(path.appending("jwtRules"), count: jwtRules.count, 4096) }
        jwtRules.check(at: path.appending("jwtRules"), &check)
    }
}

extension RequestAuthentication.JWTRule: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        checkSchema(at: path, &check)

        if (issuer ?? "").isEmpty && (jwksUri ?? jwksUriSnakeCase ?? "").isEmpty {
            check.istio(path.appending("issuer"), "issuer must be set")
        }
        for (index, audience) in (audiences ?? []).enumerated() where audience.isEmpty {
            check.istio(path.appending("audiences").appending(index: index), "audience must be non-empty string")
        }
        if let uri = jwksUri ?? jwksUriSnakeCase, !uri.isEmpty, let scheme = Self.scheme(of: uri), !["http", "https"].contains(scheme) {
            check.istio(path.appending("jwksUri"), "URI scheme \(IstioFormat.goQuote(scheme)) is not supported")
        }
        if let jwks, !jwks.isEmpty {
            do {
                _ = try JSONValue(parsing: jwks)
            } catch {
                check.istio(path.appending("jwks"), "jwks parse error: \(error)")
            }
        }
        for (index, header) in (fromHeaders ?? []).enumerated() where header.name.isEmpty {
            check.istio(path.appending("fromHeaders").appending(index: index).appending("name"), "location header name must be non-empty string")
        }
        for (index, param) in (fromParams ?? []).enumerated() where param.isEmpty {
            check.istio(path.appending("fromParams").appending(index: index), "location query must be non-empty string")
        }
        for (index, cookie) in (fromCookies ?? []).enumerated() where cookie.isEmpty {
            check.istio(path.appending("fromCookies").appending(index: index), "cookie name must be non-empty string")
        }
        for (index, claimToHeader) in (outputClaimToHeaders ?? []).enumerated() {
            let at = path.appending("outputClaimToHeaders").appending(index: index)
            if claimToHeader.claim.isEmpty || claimToHeader.header.isEmpty {
                check.istio(at, "outputClaimToHeaders header and claim value must be non-empty string")
                continue
            }
            check.istio(at.appending("header"), IstioFormat.validateHeaderName(claimToHeader.header))
        }
        check.istio(path.appending("timeout"), timeout?.istioError)
    }

    /// The CRD: non-empty strings, the header name pattern, URL schemes, one JWKS source.
    private func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        if let issuer { check.minLength(path.appending("issuer"), issuer) }
        for (field, values) in [("audiences", audiences), ("fromParams", fromParams), ("fromCookies", fromCookies),
                                ("spaceDelimitedClaims", spaceDelimitedClaims)] {
            for (index, value) in (values ?? []).enumerated() { check.minLength(path.appending(field).appending(index: index), value) }
        }
        for (field, uri) in [("jwksUri", jwksUri), ("jwks_uri", jwksUriSnakeCase)] {
            guard let uri else { continue }
            check.minLength(path.appending(field), uri)
            check.maxLength(path.appending(field), uri, 2048)
            if !["http", "https"].contains(Self.scheme(of: uri) ?? "") {
                check.cel(path.appending(field), type: "string", "url must have scheme http:// or https://")
            }
        }
        for (index, header) in (fromHeaders ?? []).enumerated() {
            check.minLength(path.appending("fromHeaders").appending(index: index).appending("name"), header.name)
        }
        for (index, claimToHeader) in (outputClaimToHeaders ?? []).enumerated() {
            let at = path.appending("outputClaimToHeaders").appending(index: index)
            check.minLength(at.appending("claim"), claimToHeader.claim)
            check.minLength(at.appending("header"), claimToHeader.header)
            if !claimToHeader.header.isEmpty {
                check.pattern(at.appending("header"), claimToHeader.header, "^[-_A-Za-z0-9]+$",
                    matches: IstioFormat.isHeaderToken(claimToHeader.header))
            }
        }
        if [jwksUri, jwksUriSnakeCase, jwks].compactMap({ $0 }).count > 1 {
            check.cel(path, type: "object", "only one of jwks or jwksUri can be set")
        }
    }

    /// The scheme Go's url.Parse finds (lower-cased), or nil when there is none.
    static func scheme(of uri: String) -> String? {
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let scheme = uri[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return scheme.lowercased()
    }
}
