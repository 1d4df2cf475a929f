/// A ServiceAccount (core/v1): the identity a pod runs as, and so the
/// SPIFFE ID in its workload certificate.
public struct ServiceAccount: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "ServiceAccount", plural: "serviceaccounts", shortNames: ["sa"], hasStatus: false)

    public var metadata: ObjectMeta
    public var secrets: [ObjectReference]?
    public var imagePullSecrets: [LocalObjectReference]?
    public var automountServiceAccountToken: Bool?

    public init(metadata: ObjectMeta) { self.metadata = metadata }

    public func validate(at path: FieldPath, _ validation: inout Validation) {}
}
