/// Which kind of object: an API group and the resource's plural name, as
/// Kubernetes' schema.GroupResource. The version is not part of it: all
/// versions of a kind share one collection, as in the apiserver.
public struct GroupResource: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// "" for the core group (pods, services, namespaces).
    public var group: String
    /// The plural, lowercase: `pods`, `deployments`, `virtualservices`.
    public var resource: String

    public init(group: String = "", resource: String) {
        self.group = group
        self.resource = resource
    }

    /// The store cascades deletes of these (a deleted namespace takes its objects with it).
    public static let namespaces = GroupResource(resource: "namespaces")

    /// How Kubernetes names it in messages: `pods`, `virtualservices.networking.istio.io`.
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public static func < (lhs: GroupResource, rhs: GroupResource) -> Bool {
        (lhs.group, lhs.resource) < (rhs.group, rhs.resource)
    }
}

/// One object's identity in the store.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public var resource: GroupResource
    /// "" for cluster-scoped objects (namespaces themselves, webhook configurations).
    public var namespace: String
    public var name: String

    public init(_ resource: GroupResource, namespace: String = "", name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// `pods/default/web`, `namespaces/prod`.
    public var description: String {
        namespace.isEmpty ? "\(resource)/\(name)" : "\(resource)/\(namespace)/\(name)"
    }
}
