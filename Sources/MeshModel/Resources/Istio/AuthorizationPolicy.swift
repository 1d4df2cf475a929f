/// security.istio.io AuthorizationPolicy: which requests a workload allows,
/// denies, audits or hands to an external authorizer
/// (proto security/v1beta1/authorization_policy.proto).
///
/// Evaluation: a matching CUSTOM policy that denies wins, then any matching
/// DENY, then: no ALLOW policy allows, a matching ALLOW allows, else deny.
public struct AuthorizationPolicy: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "security.istio.io", versions: ["v1", "v1beta1"], kind: "AuthorizationPolicy",
        plural: "authorizationpolicies", shortNames: ["ap"])

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
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { check in
            Self.checkDryRun(metadata, action: spec.action ?? .allow, at: path, &check)
            spec.check(at: path.appending("spec"), &check)
        }
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var selector: Istio.WorkloadSelector?
        public var targetRef: Istio.PolicyTargetReference?
        public var targetRefs: [Istio.PolicyTargetReference]?
        /// `spec: {}` is an ALLOW policy without rules: it allows nothing.
        public var rules: [Rule]?
        /// Default ALLOW.
        public var action: Action?
        /// The extension provider a CUSTOM action calls.
        public var provider: ExtensionProvider?

        public init(selector: Istio.WorkloadSelector? = nil, rules: [Rule]? = nil, action: Action? = nil) {
            self.selector = selector
            self.rules = rules
            self.action = action
        }
    }

    public enum Action: String, SchemaEnum {
        case allow = "ALLOW"
        case deny = "DENY"
        /// Logs the decision, never changes it.
        case audit = "AUDIT"
        case custom = "CUSTOM"
    }

    public struct ExtensionProvider: Codable, Sendable, Hashable {
        public var name: String?
    }

    /// Matches when any source, any operation and every condition match;
    /// `{}` matches every request.
    public struct Rule: Codable, Sendable, Hashable {
        public var from: [From]?
        public var to: [To]?
        public var when: [Condition]?

        public init(from: [From]? = nil, to: [To]? = nil, when: [Condition]? = nil) {
            self.from = from
            self.to = to
            self.when = when
        }

        public struct From: Codable, Sendable, Hashable {
            public var source: Source?
            public init(source: Source? = nil) { self.source = source }
        }

        public struct To: Codable, Sendable, Hashable {
            public var operation: Operation?
            public init(operation: Operation? = nil) { self.operation = operation }
        }
    }

    /// Who sent the request; the fields are ANDed, the values in one field ORed.
    /// Values match exactly, by `prefix*`, by `*suffix`, or `*` (present).
    public struct Source: Codable, Sendable, Hashable {
        /// Peer identities without `spiffe://` (`cluster.local/ns/x/sa/y`).
        public var principals: [String]?
        public var notPrincipals: [String]?
        /// JWT `iss/sub`.
        public var requestPrincipals: [String]?
        public var notRequestPrincipals: [String]?
        public var namespaces: [String]?
        public var notNamespaces: [String]?
        /// `namespace/name` (or a name in the policy's namespace).
        public var serviceAccounts: [String]?
        public var notServiceAccounts: [String]?
        public var ipBlocks: [String]?
        public var notIpBlocks: [String]?
        public var remoteIpBlocks: [String]?
        public var notRemoteIpBlocks: [String]?
        public var trustDomains: [String]?
        public var notTrustDomains: [String]?

        public init(principals: [String]? = nil, namespaces: [String]? = nil) {
            self.principals = principals
            self.namespaces = namespaces
        }
    }

    /// What the request does; fields ANDed, values ORed.
    public struct Operation: Codable, Sendable, Hashable {
        public var hosts: [String]?
        public var notHosts: [String]?
        /// Port numbers as strings.
        public var ports: [String]?
        public var notPorts: [String]?
        public var methods: [String]?
        public var notMethods: [String]?
        public var paths: [String]?
        public var notPaths: [String]?

        public init(methods: [String]? = nil, paths: [String]? = nil) {
            self.methods = methods
            self.paths = paths
        }
    }

    /// An Istio attribute (`request.headers[x]`, `source.ip`, ...) and the values it must (not) have.
    public struct Condition: Codable, Sendable, Hashable {
        public var key: String
        public var values: [String]?
        public var notValues: [String]?

        public init(key: String, values: [String]? = nil, notValues: [String]? = nil) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }
    }

    /// checkDryRunAnnotation: `istio.io/dry-run` is for ALLOW and DENY policies only, and is a boolean.
    static func checkDryRun(_ metadata: ObjectMeta, action: Action, at path: FieldPath, _ check: inout IstioCheck) {
        let key = "istio.io/dry-run"
        guard let value = metadata.annotations?[key] else { return }
        let at = path.appending("metadata").appending("annotations").appending(key: key)
        let name = "\(metadata.namespace ?? "")/\(metadata.name ?? "")"
        switch action {
        case .allow, .deny:
            if !["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"].contains(value) {
                check.istio(at, "\(name) has annotation \(key) with invalid value (\(value)): strconv.ParseBool: parsing \(IstioFormat.goQuote(value)): invalid syntax")
            }
        default:
            check.istio(at, "the annotation \(key) currently only supports action ALLOW/DENY, found action \(action.rawValue) in \(name)")
        }
    }
}

// MARK: - Checks (ValidateAuthorizationPolicy and the CRD)

extension AuthorizationPolicy.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        check.policyTargets(at: path, selector: selector, targetRef: targetRef, targetRefs: targetRefs)
        if let rules { check.maxItems(path.appending("rules"), count: rules.count, 512) }
        let action = self.action ?? .allow

        if action == .custom {
            if rules == nil {
                check.istio(path.appending("rules"),
                    "CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request")
            } else if (provider?.name ?? "").isEmpty {
                check.istio(path.appending("provider"), "`provider.name` must not be empty")
            }
            for (r, rule) in (rules ?? []).enumerated() {
                let rulePath = path.appending("rules").appending(index: r)
                for (f, from) in (rule.from ?? []).enumerated() {
                    guard let source = from.source else { continue }
                    let at = rulePath.appending("from").appending(index: f).appending("source")
                    let unsupported: [(String, [String]?)] = [
                        ("Namespaces", source.namespaces), ("NotNamespaces", source.notNamespaces), ("Principals", source.principals),
                        ("NotPrincipals", source.notPrincipals), ("RequestPrincipals", source.requestPrincipals),
                        ("NotRequestPrincipals", source.notRequestPrincipals),
                    ]
                    for (name, values) in unsupported where !(values ?? []).isEmpty {
                        check.istio(at, "From.\(name) is currently not supported with CUSTOM action")
                    }
                }
                for (w, condition) in (rule.when ?? []).enumerated()
                where ["source.namespace", "source.principal"].contains(condition.key) || condition.key.hasPrefix("request.auth.") {
                    check.istio(rulePath.appending("when").appending(index: w),
                        "\(condition.key) is currently not supported with CUSTOM action")
                }
            }
        }
        if provider != nil && action != .custom {
            check.istio(path.appending("provider"), "`provider` must not be with non CUSTOM action, found \(action.rawValue)")
        }
        if action == .deny && rules == nil {
            check.istio(path.appending("rules"),
                "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request")
        }
        for (index, rule) in (rules ?? []).enumerated() {
            rule.check(at: path.appending("rules").appending(index: index), index: index, action: action, &check)
        }
    }
}

extension AuthorizationPolicy.Rule {
    func check(at path: FieldPath, index i: Int, action: AuthorizationPolicy.Action, _ check: inout IstioCheck) {
        if let from { check.maxItems(path.appending("from"), count: from.count, 512) }
        if let from, from.isEmpty { check.istio(path.appending("from"), "`from` must not be empty, found at rule \(i)") }
        var tcpRulesInFrom = false
        var tcpRulesInTo = false
        var fromRuleExists = false
        var toRuleExists = false
        for (index, from) in (from ?? []).enumerated() {
            let at = path.appending("from").appending(index: index).appending("source")
            guard let source = from.source else {
                check.istio(at, "`from.source` must not be nil, found at rule \(i)")
                continue
            }
            fromRuleExists = true
            source.checkSchema(at: at, &check)
            let fields = source.fields
            if fields.allSatisfy({ ($0.1 ?? []).isEmpty }) {
                check.istio(at, "`from.source` must not be empty, found at rule \(i)")
            }
            for (name, values) in fields {
                let fieldPath = at.appending(name)
                if ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"].contains(name) {
                    for error in AuthorizationPolicy.ipErrors(values ?? []) { check.istio(fieldPath, error) }
                }
                check.istio(fieldPath, AuthorizationPolicy.emptyValueError(name, values))
            }
            let tcpFields = ["principals", "notPrincipals", "ipBlocks", "notIpBlocks", "namespaces", "notNamespaces",
                             "remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts"]
            if fields.contains(where: { tcpFields.contains($0.0) && $0.1 != nil }) { tcpRulesInFrom = true }
        }
        if let to, to.isEmpty { check.istio(path.appending("to"), "`to` must not be empty, found at rule \(i)") }
        for (index, to) in (to ?? []).enumerated() {
            let at = path.appending("to").appending(index: index).appending("operation")
            guard let operation = to.operation else {
                check.istio(at, "`to.operation` must not be nil, found at rule \(i)")
                continue
            }
            toRuleExists = true
            let fields = operation.fields
            if fields.allSatisfy({ ($0.1 ?? []).isEmpty }) {
                check.istio(at, "`to.operation` must not be empty, found at rule \(i)")
            }
            for (name, values) in fields {
                let fieldPath = at.appending(name)
                if name == "ports" || name == "notPorts" {
                    for error in AuthorizationPolicy.portErrors(values ?? []) { check.istio(fieldPath, error) }
                }
                check.istio(fieldPath, AuthorizationPolicy.emptyValueError(name, values))
                if name == "paths" || name == "notPaths",
                    (values ?? []).contains(where: AuthorizationPolicy.isUnsupportedPathTemplate)
                {
                    check.istio(fieldPath, "invalid or unsupported path template, found in \(AuthorizationPolicy.goFieldName(name))")
                }
            }
            if operation.ports != nil || operation.notPorts != nil { tcpRulesInTo = true }
        }
        for (index, condition) in (when ?? []).enumerated() {
            let at = path.appending("when").appending(index: index)
            if condition.key.isEmpty {
                check.istio(at.appending("key"), "`key` must not be empty")
            } else if (condition.values ?? []).isEmpty && (condition.notValues ?? []).isEmpty {
                check.istio(at, "at least one of `values` or `notValues` must be set for key \(condition.key)")
            } else {
                if let error = AuthorizationPolicy.attributeError(condition.key, condition.values ?? []) {
                    check.istio(at.appending("values"), "invalid `value` for `key` \(condition.key): \(error)")
                }
                if let error = AuthorizationPolicy.attributeError(condition.key, condition.notValues ?? []) {
                    check.istio(at.appending("notValues"), "invalid `notValue` for `key` \(condition.key): \(error)")
                }
            }
        }
        if ((fromRuleExists && !toRuleExists && !tcpRulesInFrom) || (toRuleExists && !tcpRulesInTo)) && action == .deny {
            check.istioWarning(path,
                "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port")
        }
    }
}

extension AuthorizationPolicy.Source {
    var fields: [(String, [String]?)] {
        [("principals", principals), ("requestPrincipals", requestPrincipals), ("namespaces", namespaces),
         ("serviceAccounts", serviceAccounts), ("ipBlocks", ipBlocks), ("remoteIpBlocks", remoteIpBlocks),
         ("trustDomains", trustDomains), ("notPrincipals", notPrincipals), ("notRequestPrincipals", notRequestPrincipals),
         ("notNamespaces", notNamespaces), ("notServiceAccounts", notServiceAccounts), ("notIpBlocks", notIpBlocks),
         ("notRemoteIpBlocks", notRemoteIpBlocks), ("notTrustDomains", notTrustDomains)]
    }

    /// The CRD: service accounts are limited and exclude principals and namespaces.
    func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        for (name, values) in [("serviceAccounts", serviceAccounts), ("notServiceAccounts", notServiceAccounts)] {
            guard let values else { continue }
            check.maxItems(path.appending(name), count: values.count, 16)
            for (index, value) in values.enumerated() { check.maxLength(path.appending(name).appending(index: index), value, 320) }
        }
        if (serviceAccounts != nil || notServiceAccounts != nil)
            && (principals != nil || notPrincipals != nil || namespaces != nil || notNamespaces != nil)
        {
            check.cel(path, type: "object", "Cannot set serviceAccounts with namespaces or principals")
        }
    }
}

extension AuthorizationPolicy.Operation {
    var fields: [(String, [String]?)] {
        [("ports", ports), ("methods", methods), ("paths", paths), ("hosts", hosts),
         ("notPorts", notPorts), ("notMethods", notMethods), ("notPaths", notPaths), ("notHosts", notHosts)]
    }
}

extension AuthorizationPolicy {
    /// The Go field name Istio's messages use (`NotPrincipals`).
    static func goFieldName(_ name: String) -> String { name.prefix(1).uppercased() + name.dropFirst() }

    /// security.CheckEmptyValues.
    static func emptyValueError(_ name: String, _ values: [String]?) -> String? {
        (values ?? []).contains("") ? "empty value not allowed, found in \(goFieldName(name))" : nil
    }

    /// security.ValidateIPs.
    static func ipErrors(_ values: [String]) -> [String] {
        values.compactMap { value in
            if value.contains("/") {
                return IstioFormat.isCIDR(value) ? nil : "bad CIDR range (\(value)): netip.ParsePrefix(\(IstioFormat.goQuote(value))): invalid prefix"
            }
            return IstioFormat.isIPAddress(value) ? nil : "bad IP address (\(value))"
        }
    }

    /// security.ValidatePorts.
    static func portErrors(_ values: [String]) -> [String] {
        values.compactMap { value in
            guard let port = UInt32(value) else {
                return "bad port (\(value)): strconv.ParseUint: parsing \(IstioFormat.goQuote(value)): invalid syntax"
            }
            return port > 65535 ? "bad port (\(value)): <nil>" : nil
        }
    }

    /// security.CheckValidPathTemplate: `{*}` and `{**}` are the only
    /// template operators; `/*`, `*/`, `{name}` and `{name=*}` are not.
    static func isUnsupportedPathTemplate(_ path: String) -> Bool {
        guard path.contains("{*}") || path.contains("{**}") else { return false }
        if path.contains("/*") || path.contains("*/") { return true }
        let bytes = Array(path.utf8)
        let isWord: (UInt8) -> Bool = { IstioFormat.isAlphanumeric($0) || $0 == UInt8(ascii: "_") }
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "{") {
            var end = index + 1
            while end < bytes.count && isWord(bytes[end]) { end += 1 }
            // `{word*}`
            if end < bytes.count && bytes[end] == UInt8(ascii: "}") { return true }
            // `/{word+=*}` or `/{word+=**}`
            if index > 0 && bytes[index - 1] == UInt8(ascii: "/") && end > index + 1 && end + 1 < bytes.count
                && bytes[end] == UInt8(ascii: "=") && bytes[end + 1] == UInt8(ascii: "*")
            {
                var close = end + 2
                if close < bytes.count && bytes[close] == UInt8(ascii: "*") { close += 1 }
                if close < bytes.count && bytes[close] == UInt8(ascii: "}") { return true }
            }
        }
        return false
    }

    /// security.ValidateAttribute: the keys Istio knows, and the value formats some need.
    static func attributeError(_ key: String, _ values: [String]) -> String? {
        if values.contains("") { return "empty value not allowed, found in \(key)" }
        let mapKeyError = { () -> String? in
            let open = key.firstIndex(of: "[").map { key.distance(from: key.startIndex, to: $0) } ?? -1
            return key.hasSuffix("]") && open > 0 && open < key.count - 2 ? nil : "bad key (\(key)): should have format a[b]"
        }
        switch key {
        case _ where key.hasPrefix("request.headers"): return mapKeyError()
        case "source.ip", "remote.ip", "destination.ip": return ipErrors(values).first
        case "source.namespace", "source.principal", "request.auth.principal", "request.auth.audiences",
            "request.auth.presenter", "connection.sni", "source.trustDomain":
            return nil
        case _ where key.hasPrefix("request.auth.claims"): return mapKeyError()
        case "destination.port": return portErrors(values).first
        case _ where key.hasPrefix("experimental.envoy.filters."): return mapKeyError()
        case "destination.namespace": return "attribute \(key) is replaced by the metadata.namespace"
        case _ where key.hasPrefix("destination.labels"): return "attribute \(key) is replaced by the workload selector"
        case "destination.name", "destination.user": return "deprecated attribute \(key): only supported in v1alpha1"
        default: return "unknown attribute: \(key)"
        }
    }
}
