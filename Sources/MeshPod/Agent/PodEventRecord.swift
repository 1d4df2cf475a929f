/// An event about a pod, worded as kubelet words it (`Started`, `Killing`,
/// `BackOff`, `Unhealthy`, `Failed`); the recorder adds the pod and the time.
public struct PodEventRecord: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case normal = "Normal"
        case warning = "Warning"
    }

    public var type: Severity
    public var reason: String
    public var message: String
    /// The part of the pod it is about: `spec.containers{web}`, `spec.initContainers{istio-proxy}`.
    public var fieldPath: String?

    public init(_ type: Severity, _ reason: String, _ message: String, fieldPath: String? = nil) {
        self.type = type
        self.reason = reason
        self.message = message
        self.fieldPath = fieldPath
    }

    public var description: String { "\(type.rawValue) \(reason): \(message)" + (fieldPath.map { " (\($0))" } ?? "") }
}
