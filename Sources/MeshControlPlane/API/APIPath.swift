import MeshModel

/// A parsed Kubernetes REST path.
///
/// The shapes the apiserver serves, and so do we:
/// ```
/// /api                                   discovery: core versions
/// /api/v1                                discovery: core resources
/// /apis                                  discovery: groups
/// /apis/{group}/{version}                discovery: a group's resources
/// /api/v1/{resource}[/{name}]            cluster-scoped, or namespaced across all namespaces (list)
/// /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
/// /apis/{group}/{version}/... the same below the group version
/// ```
/// `namespaces` is itself a cluster-scoped resource: `/api/v1/namespaces/{name}`.
public enum APIPath: Equatable, Sendable {
    case coreVersions
    case groups
    case groupVersion(group: String, version: String)
    case resource(ResourcePath)

    public struct ResourcePath: Equatable, Sendable {
        public var group: String
        public var version: String
        public var plural: String
        /// nil: cluster-scoped, or all namespaces.
        public var namespace: String?
        public var name: String?
        /// `status` for `/pods/web/status`.
        public var subresource: String?

        public init(group: String, version: String, plural: String, namespace: String? = nil,
                    name: String? = nil, subresource: String? = nil) {
            self.group = group
            self.version = version
            self.plural = plural
            self.namespace = namespace
            self.name = name
            self.subresource = subresource
        }

        public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    }

    /// Parses `path` (without the query), or nil when it is not an API path.
    public init?(_ path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = segments.first else { return nil }
        let group: String
        let version: String
        var rest: ArraySlice<String>
        switch first {
        case "api":
            if segments.count == 1 {
                self = .coreVersions
                return
            }
            group = ""
            version = segments[1]
            rest = segments[2...]
        case "apis":
            if segments.count == 1 {
                self = .groups
                return
            }
            guard segments.count >= 3 else { return nil }
            group = segments[1]
            version = segments[2]
            rest = segments[3...]
        default:
            return nil
        }
        if rest.isEmpty {
            self = .groupVersion(group: group, version: version)
            return
        }
        var resource = ResourcePath(group: group, version: version, plural: "")
        // `namespaces/{ns}/{resource}...` scopes a namespaced resource; a bare
        // `namespaces[/{name}]` is the Namespace resource itself.
        if rest.first == "namespaces" && rest.count >= 3 {
            resource.namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        resource.plural = rest.removeFirst()
        if let name = rest.first {
            resource.name = name
            rest = rest.dropFirst()
        }
        if let sub = rest.first {
            resource.subresource = sub
            rest = rest.dropFirst()
        }
        guard rest.isEmpty, !resource.plural.isEmpty else { return nil }
        self = .resource(resource)
    }

    /// The collection path for objects of `descriptor` (in `namespace` when namespaced).
    public static func collection(_ descriptor: ResourceDescriptor, namespace: String?) -> String {
        let base = descriptor.group.isEmpty ? "/api/\(descriptor.versions[0])" : "/apis/\(descriptor.group)/\(descriptor.versions[0])"
        if descriptor.namespaced, let namespace { return "\(base)/namespaces/\(namespace)/\(descriptor.plural)" }
        return "\(base)/\(descriptor.plural)"
    }

    /// The path of one object.
    public static func object(_ descriptor: ResourceDescriptor, namespace: String?, name: String) -> String {
        collection(descriptor, namespace: namespace) + "/" + name
    }
}
