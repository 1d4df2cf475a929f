/// What a resource's `validate` needs to know and where it puts what it finds.
public struct Validation: Sendable {
    /// The namespace the object will live in (nil for cluster-scoped
    /// objects): Istio resolves short host names and checks targetRefs against it.
    public var namespace: String?
    public private(set) var diagnostics: [Diagnostic] = []

    public init(namespace: String?) { self.namespace = namespace }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    public mutating func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// Shorthand for an error in Istio's own words at `path`.
    public mutating func error(_ path: FieldPath, _ message: String) { add(.error(path, message)) }

    public mutating func warning(_ path: FieldPath, _ message: String) {
        add(Diagnostic(.warning, at: path, message))
    }
}

/// A value that checks its own semantic rules (the ones a schema's types
/// cannot express: weights, exclusive fields, regex validity, modes).
public protocol Validatable {
    /// Adds to `validation` everything wrong with `self`, which sits at `path`.
    func validate(at path: FieldPath, _ validation: inout Validation)
}
