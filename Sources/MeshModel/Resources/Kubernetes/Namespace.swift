/// A Namespace (core/v1), cluster-scoped. Deleting one deletes its objects.
public struct Namespace: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "Namespace", plural: "namespaces", shortNames: ["ns"], namespaced: false)
    public static var nameRule: NameRule { .dns1123Label }

    /// The label Kubernetes puts on every namespace, so selectors can pick namespaces by name.
    public static let nameLabel = "kubernetes.io/metadata.name"

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta) { self.metadata = metadata }

    public struct Spec: Codable, Sendable, Hashable {
        public var finalizers: [String]?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var phase: Phase?
        public var conditions: [JSONValue]?
    }

    public enum Phase: String, SchemaEnum {
        case active = "Active"
        case terminating = "Terminating"
    }

    public mutating func applyDefaults() {
        if let name = metadata.name, !name.isEmpty {
            metadata.labels = (metadata.labels ?? [:]).merging([Self.nameLabel: name]) { _, new in new }
        }
        if status?.phase == nil { status = Status(phase: .active, conditions: status?.conditions) }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {}
}
