// The small types several Istio kinds share. Field names are the JSON names
// of Istio's protos (istio/api), which the CRDs use.

extension Istio {
    /// networking.Percent: a percentage as a double (`value: 12.5`).
    public struct Percent: Codable, Sendable, Hashable {
        public var value: Double?
        public init(value: Double? = nil) { self.value = value }
    }

    /// networking.PortSelector.
    public struct PortSelector: Codable, Sendable, Hashable {
        public var number: UInt32?
        public init(number: UInt32? = nil) { self.number = number }
    }

    /// networking.Destination: a service host, optionally a subset and port.
    public struct Destination: Codable, Sendable, Hashable {
        /// A registry host name; a short name resolves in the rule's namespace.
        public var host: String
        public var subset: String?
        public var port: PortSelector?

        public init(host: String, subset: String? = nil, port: PortSelector? = nil) {
            self.host = host
            self.subset = subset
            self.port = port
        }
    }

    /// networking.StringMatch: one of `exact`, `prefix` or `regex` (RE2, full
    /// match); `{}` (none set) matches any value that is present.
    public struct StringMatch: Codable, Sendable, Hashable {
        public var exact: String?
        public var prefix: String?
        public var regex: String?

        public init(exact: String? = nil, prefix: String? = nil, regex: String? = nil) {
            self.exact = exact
            self.prefix = prefix
            self.regex = regex
        }

        public enum Kind: Sendable, Hashable {
            case exact(String)
            case prefix(String)
            case regex(String)
            /// `{}`: the value only has to be present.
            case present
        }

        /// The match this is (on a valid object, at most one field is set).
        public var kind: Kind {
            if let exact { return .exact(exact) }
            if let prefix { return .prefix(prefix) }
            if let regex { return .regex(regex) }
            return .present
        }

        var setFields: [String] {
            [exact.map { _ in "exact" }, prefix.map { _ in "prefix" }, regex.map { _ in "regex" }].compactMap { $0 }
        }
    }

    /// networking.Headers: edits to request and response headers.
    public struct Headers: Codable, Sendable, Hashable {
        public var request: HeaderOperations?
        public var response: HeaderOperations?

        public init(request: HeaderOperations? = nil, response: HeaderOperations? = nil) {
            self.request = request
            self.response = response
        }
    }

    public struct HeaderOperations: Codable, Sendable, Hashable {
        /// Overwrite these headers.
        public var set: [String: String]?
        /// Append these values.
        public var add: [String: String]?
        public var remove: [String]?

        public init(set: [String: String]? = nil, add: [String: String]? = nil, remove: [String]? = nil) {
            self.set = set
            self.add = add
            self.remove = remove
        }
    }

    /// type.v1beta1.WorkloadSelector (`matchLabels`), used by DestinationRule
    /// and the security kinds.
    public struct WorkloadSelector: Codable, Sendable, Hashable {
        public var matchLabels: [String: String]?
        public init(matchLabels: [String: String]? = nil) { self.matchLabels = matchLabels }
    }

    /// networking.v1alpha3.WorkloadSelector (`labels`), used by ServiceEntry and Sidecar.
    public struct WorkloadLabelSelector: Codable, Sendable, Hashable {
        public var labels: [String: String]?
        public init(labels: [String: String]? = nil) { self.labels = labels }
    }

    /// type.v1beta1.PolicyTargetReference: the Service, ServiceEntry or
    /// Gateway a policy attaches to, in the policy's own namespace.
    public struct PolicyTargetReference: Codable, Sendable, Hashable {
        public var group: String?
        public var kind: String
        public var name: String
        public var namespace: String?

        public init(group: String? = nil, kind: String, name: String, namespace: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }
}

extension ProtoDuration {
    /// agent.ValidateDuration, which istiod applies beyond the CRD's 1ms minimum:
    /// whole milliseconds only.
    var istioError: String? {
        if nanoseconds < 1_000_000 { return "duration must be greater than 1ms" }
        return nanoseconds % 1_000_000 != 0 ? "only durations to ms precision are supported" : nil
    }
}

// MARK: Checks

extension Istio.Destination: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        check.istio(path.appending("host"),
            host == "*" ? "invalid destination host \(host)" : IstioFormat.validateWildcardDomain(host))
        if let subset, !subset.isEmpty { check.istio(path.appending("subset"), Self.subsetNameError(subset)) }
        if let number = port?.number { check.istio(path.appending("port").appending("number"), IstioFormat.validatePort(Int(number))) }
    }

    /// validateSubsetName.
    static func subsetNameError(_ name: String) -> String? {
        if name.isEmpty { return "subset name cannot be empty" }
        return IstioFormat.isDNS1123Label(name) ? nil : "subset name is invalid: \(name)"
    }
}

extension Istio.StringMatch {
    /// The CRD's `oneOf` over exact, prefix and regex.
    func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        check.oneOf(path, setFields)
    }

    /// validateStringMatch: a prefix must not be empty (unless `allowEmptyPrefix`,
    /// as for `uri`), a regex must be valid RE2.
    func istioError(where name: String, allowEmptyPrefix: Bool = false) -> String? {
        switch kind {
        case .prefix(let prefix) where prefix.isEmpty && !allowEmptyPrefix:
            return "\(IstioFormat.goQuote(name)): prefix string match should not be empty"
        case .regex(let regex):
            if regex.isEmpty { return "\(IstioFormat.goQuote(name)): regex string match should not be empty" }
            return Self.regexError(regex, where: name)
        default:
            return nil
        }
    }

    /// validateStringRegexp: RE2 syntax, at most 1024 bytes.
    static func regexError(_ regex: String, where name: String) -> String? {
        if regex.utf8.count > 1024 { return "\(IstioFormat.goQuote(name)): regex is too large, max length allowed is 1024" }
        guard let error = RE2Syntax.error(in: regex) else { return nil }
        return "\(IstioFormat.goQuote(name)): \(error); Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"
    }
}

extension Istio.Headers {
    /// The header edits of a route or destination (ValidateHTTPHeader*).
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let request = path.appending("request")
        let response = path.appending("response")
        for (operation, names) in [("set", self.request?.set), ("add", self.request?.add)] {
            for (name, value) in (names ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = request.appending(operation).appending(key: name)
                check.istio(at, IstioFormat.validateHeaderOperationNameAllowingAuthority(name))
                check.istio(at, IstioFormat.validateHeaderValue(value))
            }
        }
        for (index, name) in (self.request?.remove ?? []).enumerated() {
            check.istio(request.appending("remove").appending(index: index), IstioFormat.validateHeaderOperationName(name))
        }
        for (operation, names) in [("set", self.response?.set), ("add", self.response?.add)] {
            for (name, value) in (names ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = response.appending(operation).appending(key: name)
                check.istio(at, IstioFormat.validateHeaderOperationName(name))
                check.istio(at, IstioFormat.validateHeaderValue(value))
            }
        }
        for (index, name) in (self.response?.remove ?? []).enumerated() {
            check.istio(response.appending("remove").appending(index: index), IstioFormat.validateHeaderOperationName(name))
        }
    }
}

extension Istio.WorkloadSelector: IstioCheckable {
    /// The CRD's matchLabels rules, then validateWorkloadSelector.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let labelsPath = path.appending("matchLabels")
        check.matchLabels(labelsPath, matchLabels)
        for (key, value) in (matchLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            if key.isEmpty {
                check.istio(labelsPath, "empty key is not supported in selector: \(IstioFormat.goQuote("\(key)=\(value)"))")
            }
            if key.contains("*") || value.contains("*") {
                check.istio(labelsPath.appending(key: key), "wildcard is not supported in selector: \(IstioFormat.goQuote("\(key)=\(value)"))")
            }
        }
        if (matchLabels ?? [:]).isEmpty { check.istioWarning(path, "workload selector specified without labels") }
    }
}

extension Istio.WorkloadLabelSelector {
    /// The CRD's rules on `labels`, then ValidateAlphaWorkloadSelector; `kind`
    /// names the resource in the "applies to all" warning (`sidecar`, `service entry`).
    func check(at path: FieldPath, kind: String, _ check: inout IstioCheck) {
        let labelsPath = path.appending("labels")
        for (key, value) in (labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            check.maxLength(labelsPath.appending(key: key), value, 63)
            if value.contains("*") { check.cel(labelsPath.appending(key: key), type: "string", "wildcard is not supported in selector") }
            if key.isEmpty {
                check.istio(labelsPath, "empty key is not supported in selector: \(IstioFormat.goQuote("\(key)=\(value)"))")
            }
            if key.contains("*") || value.contains("*") {
                check.istio(labelsPath.appending(key: key), "wildcard is not supported in selector: \(IstioFormat.goQuote("\(key)=\(value)"))")
            }
        }
        if (labels ?? [:]).isEmpty {
            check.istioWarning(path, "\(kind): workload selector specified without labels, will be applied to all services in namespace")
        }
    }
}

extension Istio.PolicyTargetReference: IstioCheckable {
    /// The CRD's patterns and CEL rule, then validatePolicyTargetReference.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if let group {
            check.maxLength(path.appending("group"), group, 253)
            check.pattern(path.appending("group"), group, #"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#,
                matches: group.isEmpty || group.split(separator: ".", omittingEmptySubsequences: false)
                    .allSatisfy { IstioFormat.isLowercaseDNS1123Label(String($0)) })
        }
        check.minLength(path.appending("kind"), kind)
        check.maxLength(path.appending("kind"), kind, 63)
        check.pattern(path.appending("kind"), kind, #"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"#, matches: Self.isKindName(kind))
        check.minLength(path.appending("name"), name)
        check.maxLength(path.appending("name"), name, 253)
        if let namespace, !namespace.isEmpty {
            check.cel(path.appending("namespace"), type: "string", "cross namespace referencing is not currently supported")
            check.istio(path.appending("namespace"), "targetRef namespace must not be set; cross namespace referencing is not supported")
        }
        let allowed = [("core", "Service"), ("networking.istio.io", "ServiceEntry"), ("gateway.networking.k8s.io", "Gateway")]
        let canonicalGroup = (group ?? "").isEmpty ? "core" : group!
        if !allowed.contains(where: { $0 == (canonicalGroup, kind) }) {
            check.istio(path, "targetRef must be to one of [core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1/Gateway] but was \(group ?? "")/\(kind)")
        }
    }

    static func isKindName(_ kind: String) -> Bool {
        let bytes = Array(kind.utf8)
        guard let first = bytes.first, let last = bytes.last,
            (65...90).contains(first) || (97...122).contains(first), IstioFormat.isAlphanumeric(last)
        else { return false }
        return bytes.allSatisfy { IstioFormat.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}

extension IstioCheck {
    /// The selector / targetRef / targetRefs rules the policy kinds share:
    /// the CRD's "only one of" CEL rule and each reference's own checks.
    mutating func policyTargets(at path: FieldPath, selector: Istio.WorkloadSelector?,
                                targetRef: Istio.PolicyTargetReference?, targetRefs: [Istio.PolicyTargetReference]?) {
        let count = [selector != nil, targetRef != nil, targetRefs != nil].filter { $0 }.count
        if count > 1 {
            cel(path, type: "object", "only one of targetRefs or selector can be set")
            istio(path, "only one of targetRefs or workloadSelector can be set")
        }
        selector.check(at: path.appending("selector"), &self)
        targetRef.check(at: path.appending("targetRef"), &self)
        if let targetRefs {
            maxItems(path.appending("targetRefs"), count: targetRefs.count, 16)
            targetRefs.check(at: path.appending("targetRefs"), &self)
        }
    }
}
