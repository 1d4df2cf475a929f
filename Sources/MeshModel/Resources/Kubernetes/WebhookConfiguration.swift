/// MutatingWebhookConfiguration and ValidatingWebhookConfiguration
/// (admissionregistration.k8s.io/v1), cluster-scoped: which admission
/// webhooks the API server calls for which requests. Istio's sidecar
/// injector registers itself with one.
public struct MutatingWebhookConfiguration: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations", namespaced: false, hasStatus: false)

    public var metadata: ObjectMeta
    public var webhooks: [MutatingWebhook]?

    public init(metadata: ObjectMeta, webhooks: [MutatingWebhook]? = nil) {
        self.metadata = metadata
        self.webhooks = webhooks
    }

    public mutating func applyDefaults() {
        guard webhooks != nil else { return }
        for i in webhooks!.indices {
            webhooks![i].applyCommonDefaults()
            if webhooks![i].reinvocationPolicy == nil { webhooks![i].reinvocationPolicy = .never }
        }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        validateWebhooks(webhooks ?? [], at: path.appending("webhooks"), &validation)
    }
}

public struct ValidatingWebhookConfiguration: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations", namespaced: false, hasStatus: false)

    public var metadata: ObjectMeta
    public var webhooks: [ValidatingWebhook]?

    public init(metadata: ObjectMeta, webhooks: [ValidatingWebhook]? = nil) {
        self.metadata = metadata
        self.webhooks = webhooks
    }

    public mutating func applyDefaults() {
        guard webhooks != nil else { return }
        for i in webhooks!.indices { webhooks![i].applyCommonDefaults() }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        validateWebhooks(webhooks ?? [], at: path.appending("webhooks"), &validation)
    }
}

public struct MutatingWebhook: AdmissionWebhook {
    public var name: String
    public var clientConfig: WebhookClientConfig
    public var rules: [WebhookRule]?
    public var failurePolicy: WebhookFailurePolicy?
    public var matchPolicy: WebhookMatchPolicy?
    public var namespaceSelector: LabelSelectorSpec?
    public var objectSelector: LabelSelectorSpec?
    public var sideEffects: WebhookSideEffects?
    public var timeoutSeconds: Int32?
    public var admissionReviewVersions: [String]?
    /// Whether to call this webhook again when a later one changed the object.
    public var reinvocationPolicy: ReinvocationPolicy?
    public var matchConditions: [WebhookMatchCondition]?

    public init(name: String, clientConfig: WebhookClientConfig, rules: [WebhookRule]? = nil,
                sideEffects: WebhookSideEffects? = nil, admissionReviewVersions: [String]? = nil) {
        self.name = name
        self.clientConfig = clientConfig
        self.rules = rules
        self.sideEffects = sideEffects
        self.admissionReviewVersions = admissionReviewVersions
    }
}

public struct ValidatingWebhook: AdmissionWebhook {
    public var name: String
    public var clientConfig: WebhookClientConfig
    public var rules: [WebhookRule]?
    public var failurePolicy: WebhookFailurePolicy?
    public var matchPolicy: WebhookMatchPolicy?
    public var namespaceSelector: LabelSelectorSpec?
    public var objectSelector: LabelSelectorSpec?
    public var sideEffects: WebhookSideEffects?
    public var timeoutSeconds: Int32?
    public var admissionReviewVersions: [String]?
    public var matchConditions: [WebhookMatchCondition]?

    public init(name: String, clientConfig: WebhookClientConfig, rules: [WebhookRule]? = nil,
                sideEffects: WebhookSideEffects? = nil, admissionReviewVersions: [String]? = nil) {
        self.name = name
        self.clientConfig = clientConfig
        self.rules = rules
        self.sideEffects = sideEffects
        self.admissionReviewVersions = admissionReviewVersions
    }
}

/// What mutating and validating webhooks share, so the admission code and
/// the checks below treat both alike.
public protocol AdmissionWebhook: Codable, Sendable, Hashable {
    var name: String { get }
    var clientConfig: WebhookClientConfig { get set }
    var rules: [WebhookRule]? { get set }
    var failurePolicy: WebhookFailurePolicy? { get set }
    var matchPolicy: WebhookMatchPolicy? { get set }
    var namespaceSelector: LabelSelectorSpec? { get set }
    var objectSelector: LabelSelectorSpec? { get set }
    var sideEffects: WebhookSideEffects? { get }
    var timeoutSeconds: Int32? { get set }
    var admissionReviewVersions: [String]? { get }
}

/// Where to call: a URL, or a Service in the cluster.
public struct WebhookClientConfig: Codable, Sendable, Hashable {
    public var url: String?
    public var service: ServiceReference?
    /// Base64 PEM bundle of the CAs that sign the webhook's serving certificate.
    public var caBundle: String?

    public init(url: String? = nil, service: ServiceReference? = nil, caBundle: String? = nil) {
        self.url = url
        self.service = service
        self.caBundle = caBundle
    }

    public struct ServiceReference: Codable, Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var path: String?
        public var port: Int32?

        public init(namespace: String, name: String, path: String? = nil, port: Int32? = nil) {
            self.namespace = namespace
            self.name = name
            self.path = path
            self.port = port
        }
    }
}

/// Which requests a webhook sees: operations on resources of API groups and versions.
public struct WebhookRule: Codable, Sendable, Hashable {
    public var operations: [WebhookOperation]?
    public var apiGroups: [String]?
    public var apiVersions: [String]?
    public var resources: [String]?
    public var scope: WebhookScope?

    public init(operations: [WebhookOperation]? = nil, apiGroups: [String]? = nil, apiVersions: [String]? = nil,
                resources: [String]? = nil, scope: WebhookScope? = nil) {
        self.operations = operations
        self.apiGroups = apiGroups
        self.apiVersions = apiVersions
        self.resources = resources
        self.scope = scope
    }
}

public struct WebhookMatchCondition: Codable, Sendable, Hashable {
    public var name: String
    public var expression: String
}

public enum WebhookOperation: String, SchemaEnum {
    case all = "*"
    case connect = "CONNECT"
    case create = "CREATE"
    case delete = "DELETE"
    case update = "UPDATE"
}

public enum WebhookScope: String, SchemaEnum {
    case all = "*"
    case cluster = "Cluster"
    case namespaced = "Namespaced"
}

public enum WebhookFailurePolicy: String, SchemaEnum {
    case fail = "Fail"
    case ignore = "Ignore"
}

public enum WebhookMatchPolicy: String, SchemaEnum {
    case equivalent = "Equivalent"
    case exact = "Exact"
}

/// v1 allows only these two; `Some` and `Unknown` were v1beta1's.
public enum WebhookSideEffects: String, SchemaEnum {
    case none = "None"
    case noneOnDryRun = "NoneOnDryRun"
}

public enum ReinvocationPolicy: String, SchemaEnum {
    case ifNeeded = "IfNeeded"
    case never = "Never"
}

// MARK: Defaults and validation (k8s.io/kubernetes pkg/apis/admissionregistration)

extension AdmissionWebhook {
    mutating func applyCommonDefaults() {
        if failurePolicy == nil { failurePolicy = .fail }
        if matchPolicy == nil { matchPolicy = .equivalent }
        if namespaceSelector == nil { namespaceSelector = LabelSelectorSpec() }
        if objectSelector == nil { objectSelector = LabelSelectorSpec() }
        if timeoutSeconds == nil { timeoutSeconds = 10 }
        if rules != nil {
            for i in rules!.indices where rules![i].scope == nil { rules![i].scope = .all }
        }
        if clientConfig.service != nil && clientConfig.service!.port == nil { clientConfig.service!.port = 443 }
    }

    static var supportedReviewVersions: [String] { ["v1", "v1beta1"] }

    func validate(at path: FieldPath, _ validation: inout Validation) {
        let namePath = path.appending("name")
        if name.isEmpty {
            validation.add(.required(namePath))
        } else {
            validation.invalid(namePath, name, KubernetesNames.dns1123SubdomainErrors(name))
            if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
                validation.add(.invalid(namePath, value: .string(name), "should be a domain with at least three segments separated by dots"))
            }
        }
        for (i, rule) in (rules ?? []).enumerated() {
            rule.validate(at: path.appending("rules").appending(index: i), &validation)
        }
        if sideEffects == nil {
            validation.add(.required(path.appending("sideEffects"), "must specify one of None, NoneOnDryRun"))
        }
        validateReviewVersions(at: path.appending("admissionReviewVersions"), &validation)
        if let timeout = timeoutSeconds, timeout < 1 || timeout > 30 {
            validation.add(.invalid(path.appending("timeoutSeconds"), value: .int(Int(timeout)),
                                    "the timeout value must be between 1 and 30 seconds"))
        }
        clientConfig.validate(at: path.appending("clientConfig"), &validation)
        namespaceSelector?.validate(at: path.appending("namespaceSelector"), &validation)
        objectSelector?.validate(at: path.appending("objectSelector"), &validation)
    }

    private func validateReviewVersions(at path: FieldPath, _ validation: inout Validation) {
        let versions = admissionReviewVersions ?? []
        if versions.isEmpty {
            validation.add(.required(path, "must specify one of v1, v1beta1"))
            return
        }
        var seen: Set<String> = []
        for (i, version) in versions.enumerated() {
            validation.invalid(path.appending(index: i), version, KubernetesNames.dns1035LabelErrors(version))
            if !seen.insert(version).inserted { validation.add(.duplicate(path.appending(index: i), value: .string(version))) }
        }
        if !versions.contains(where: Self.supportedReviewVersions.contains) {
            validation.add(.invalid(path, rendered: GoLiteral.stringSlice(versions), "must include at least one of v1, v1beta1"))
        }
    }
}

func validateWebhooks(_ webhooks: [some AdmissionWebhook], at path: FieldPath, _ validation: inout Validation) {
    var names: Set<String> = []
    for (i, webhook) in webhooks.enumerated() {
        let webhookPath = path.appending(index: i)
        webhook.validate(at: webhookPath, &validation)
        if !webhook.name.isEmpty && !names.insert(webhook.name).inserted {
            validation.add(.duplicate(webhookPath.appending("name"), value: .string(webhook.name)))
        }
    }
}

extension WebhookRule {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        let operations = (self.operations ?? []).map(\.rawValue)
        let lists: [(String, [String])] = [("operations", operations), ("apiGroups", apiGroups ?? []),
                                           ("apiVersions", apiVersions ?? []), ("resources", resources ?? [])]
        for (field, values) in lists {
            if values.isEmpty {
                validation.add(.required(path.appending(field)))
            } else if values.count > 1 && values.contains("*") && field != "resources" {
                validation.add(.invalid(path.appending(field), rendered: GoLiteral.stringSlice(values),
                                        "if '*' is present, must not specify other \(field)"))
            }
        }
        for (i, version) in (apiVersions ?? []).enumerated() where version.isEmpty {
            validation.add(.required(path.appending("apiVersions").appending(index: i)))
        }
        for (i, resource) in (resources ?? []).enumerated() where resource.isEmpty {
            validation.add(.required(path.appending("resources").appending(index: i)))
        }
    }
}

extension WebhookClientConfig {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        switch (url, service) {
        case (nil, nil), (.some, .some):
            validation.add(.required(path, "exactly one of url or service is required"))
        case (.some(let url), nil):
            validateURL(url, at: path.appending("url"), &validation)
        case (nil, .some(let service)):
            let servicePath = path.appending("service")
            if service.name.isEmpty { validation.add(.required(servicePath.appending("name"), "service name is required")) }
            if service.namespace.isEmpty {
                validation.add(.required(servicePath.appending("namespace"), "service namespace is required"))
            }
            if let path = service.path, !path.isEmpty && !path.hasPrefix("/") {
                validation.add(.invalid(servicePath.appending("path"), value: .string(path), "must start with a '/'"))
            }
            if let port = service.port, !(1...65535).contains(port) {
                validation.add(.invalid(servicePath.appending("port"), value: .int(Int(port)),
                                        "port is not valid: must be between 1 and 65535, inclusive"))
            }
        }
        if let caBundle, !caBundle.isEmpty, Base64.decodedLength(caBundle) == nil {
            validation.add(.invalid(path.appending("caBundle"), value: .string("..."), "illegal base64 data"))
        }
    }

    /// Kubernetes' webhook URL rules: https only, a host, no user info,
    /// no query, no fragment. meshlab also takes http:// (with a warning):
    /// its API server calls webhooks in plain text until MeshTLS serves https.
    private func validateURL(_ url: String, at path: FieldPath, _ validation: inout Validation) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            validation.add(.invalid(path, value: .string(url), "'https' is the only allowed URL scheme"))
            return
        }
        switch url[..<schemeEnd.lowerBound].lowercased() {
        case "https":
            break
        case "http":
            validation.warning(path, "http:// webhooks are a meshlab allowance: Kubernetes accepts only https")
        default:
            validation.add(.invalid(path, value: .string(url), "'https' is the only allowed URL scheme"))
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.isEmpty { validation.add(.invalid(path, value: .string(url), "host must be specified")) }
        if authority.contains("@") { validation.add(.invalid(path, value: .string(url), "user information is not permitted in the URL")) }
        if rest.contains("#") { validation.add(.invalid(path, value: .string(url), "fragments are not permitted in the URL")) }
        if rest.contains("?") { validation.add(.invalid(path, value: .string(url), "query parameters are not permitted in the URL")) }
    }
}
