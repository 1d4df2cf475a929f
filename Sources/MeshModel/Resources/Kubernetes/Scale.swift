/// A Scale (autoscaling/v1): the `/scale` subresource of a Deployment, what
/// `kubectl scale` reads and writes. It is not stored: the API builds it
/// from the Deployment and writes `spec.replicas` back to it.
public struct Scale: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "autoscaling", versions: ["v1"], kind: "Scale", plural: "scale")

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public init(replicas: Int32? = nil) { self.replicas = replicas }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int32
        /// The label selector in its string form (`app=reviews,version=v1`).
        public var selector: String?
        public init(replicas: Int32, selector: String? = nil) {
            self.replicas = replicas
            self.selector = selector
        }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        validation.nonNegative(spec?.replicas, at: path.appending("spec").appending("replicas"))
    }
}
