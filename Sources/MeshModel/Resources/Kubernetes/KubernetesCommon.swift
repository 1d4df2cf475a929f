/// Types several Kubernetes kinds share, and the small helpers their
/// validation uses to word messages as the apiserver does.

/// A port's transport protocol (core/v1 Protocol).
public enum PortProtocol: String, SchemaEnum {
    case sctp = "SCTP"
    case tcp = "TCP"
    case udp = "UDP"
}

/// A reference by name to an object in the same namespace (an image pull secret).
public struct LocalObjectReference: Codable, Sendable, Hashable {
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

/// A reference to any object (an endpoint's target pod, a service account's secret).
public struct ObjectReference: Codable, Sendable, Hashable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil,
                apiVersion: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
    }
}

/// The status of a condition (`True`, `False`, `Unknown`).
public enum ConditionStatus: String, SchemaEnum {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}

/// Go's `%#v` renderings, which Kubernetes puts in some `Invalid value` messages.
enum GoLiteral {
    /// `[]string{"*", "CREATE"}`.
    static func stringSlice(_ values: [String]) -> String {
        "[]string{" + values.map { Diagnostic.quoted(.string($0)) }.joined(separator: ", ") + "}"
    }

    /// `map[string]string{"app":"web", "version":"v1"}`, keys sorted as Go prints maps.
    static func stringMap(_ map: [String: String]) -> String {
        "map[string]string{"
            + map.keys.sorted().map { Diagnostic.quoted(.string($0)) + ":" + Diagnostic.quoted(.string(map[$0]!)) }
            .joined(separator: ", ") + "}"
    }
}

extension Diagnostic {
    /// `Invalid value: <rendered>: <detail>` with the value already rendered
    /// (a Go map or slice literal).
    static func invalid(_ path: FieldPath, rendered: String, _ detail: String) -> Diagnostic {
        Diagnostic(.error, at: path, "Invalid value: \(rendered): \(detail)")
    }
}

extension Validation {
    /// `must be greater than or equal to 0` for a negative value (ValidateNonnegativeField).
    mutating func nonNegative(_ value: (some BinaryInteger)?, at path: FieldPath) {
        if let value, value < 0 { add(.invalid(path, value: .int(Int(value)), "must be greater than or equal to 0")) }
    }

    /// One `Invalid value` per message, for the syntax checks of `KubernetesNames`.
    mutating func invalid(_ path: FieldPath, _ value: String, _ messages: [String]) {
        for message in messages { add(.invalid(path, value: .string(value), message)) }
    }

    /// `must be between 1 and 65535, inclusive` for a port out of range.
    mutating func port(_ port: (some BinaryInteger)?, at path: FieldPath) {
        guard let port else { return }
        for message in KubernetesNames.portNumberErrors(Int(port)) { add(.invalid(path, value: .int(Int(port)), message)) }
    }

    /// A port given by number or by name: the number must be in range, the name an IANA service name.
    mutating func portNumberOrName(_ port: IntOrString, at path: FieldPath) {
        switch port {
        case .int(let number): self.port(number, at: path)
        case .string(let name): invalid(path, name, KubernetesNames.portNameErrors(name))
        }
    }
}
