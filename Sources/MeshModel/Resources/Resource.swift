/// The static facts about one kind of resource: what the REST paths, the
/// CLI's short names and discovery are built from.
public struct ResourceDescriptor: Sendable, Hashable {
    /// API group, "" for the core group (`/api/v1`).
    public var group: String
    /// Served versions; the first is preferred and is what the store keeps.
    /// Istio's networking kinds serve v1, v1beta1 and v1alpha3 with one schema.
    public var versions: [String]
    public var kind: String
    /// The REST resource name, e.g. `virtualservices`.
    public var plural: String
    public var shortNames: [String]
    public var namespaced: Bool
    /// Whether `status` is a subresource: written only through `/status`,
    /// kept as is by updates of the main resource (ConfigMaps and
    /// ServiceAccounts have no status).
    public var hasStatus: Bool

    public init(group: String, versions: [String], kind: String, plural: String,
                shortNames: [String] = [], namespaced: Bool = true, hasStatus: Bool = true) {
        self.group = group
        self.versions = versions
        self.kind = kind
        self.plural = plural
        self.shortNames = shortNames
        self.namespaced = namespaced
        self.hasStatus = hasStatus
    }

    public var singular: String { kind.lowercased() }

    /// Whether the kind comes from a CustomResourceDefinition in a real
    /// cluster (Istio's do), which changes a few apiserver rules.
    public var isCustomResource: Bool { !["", "apps", "admissionregistration.k8s.io"].contains(group) }
    public var listKind: String { kind + "List" }

    /// `v1` for the core group, `group/version` otherwise.
    public func apiVersion(_ version: String) -> String { group.isEmpty ? version : "\(group)/\(version)" }
    public var preferredAPIVersion: String { apiVersion(versions[0]) }

    public func serves(apiVersion: String) -> Bool { versions.contains { self.apiVersion($0) == apiVersion } }

    /// How Kubernetes names the resource in messages: `pods`,
    /// `virtualservices.networking.istio.io`.
    public var qualifiedPlural: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

/// A typed Kubernetes or Istio resource. `apiVersion` and `kind` are not
/// fields of the type: the descriptor says them, and the codec writes them.
public protocol Resource: Codable, Sendable, Validatable {
    static var descriptor: ResourceDescriptor { get }
    var metadata: ObjectMeta { get set }
    /// Fills in what the apiserver defaults (a Service's `type: ClusterIP`,
    /// a Deployment's strategy); called before validation.
    mutating func applyDefaults()
    /// The syntax of `metadata.name`: DNS-1123 subdomain unless the kind says otherwise.
    static var nameRule: NameRule { get }
}

extension Resource {
    public mutating func applyDefaults() {}
    public static var nameRule: NameRule { .dns1123Subdomain }
}
