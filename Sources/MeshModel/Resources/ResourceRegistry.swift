/// The outcome of checking one object against its kind: the normalized object
/// (unknown fields pruned, defaults applied) when it is valid, and every
/// error and warning found.
public struct ResourceCheck: Sendable {
    public var object: JSONValue?
    public var diagnostics: [Diagnostic]

    public init(object: JSONValue?, diagnostics: [Diagnostic]) {
        self.object = object
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var isValid: Bool { object != nil && errors.isEmpty }
}

/// How strictly to check: kubectl's `--validate=strict` turns unknown fields
/// from warnings into errors.
public struct CheckOptions: Sendable, Hashable {
    public var strict: Bool
    public init(strict: Bool = false) { self.strict = strict }
}

/// One kind the API serves, with the function that checks objects of it.
public struct RegisteredResource: Sendable {
    public let descriptor: ResourceDescriptor
    private let checkObject: @Sendable (JSONValue, CheckOptions) -> ResourceCheck

    public init<T: Resource>(_ type: T.Type) {
        descriptor = T.descriptor
        checkObject = { object, options in ResourceCodec.check(T.self, object, options: options) }
    }

    /// Decodes, defaults and validates `object` as this kind.
    public func check(_ object: JSONValue, options: CheckOptions = CheckOptions()) -> ResourceCheck {
        checkObject(object, options)
    }
}

/// Every kind meshlab serves, and lookups by the names people and paths use.
public enum ResourceRegistry {
    public static let all: [RegisteredResource] = kubernetesResources + istioResources

    /// The kind served at `apiVersion` with `kind` (what a manifest names).
    public static func resource(apiVersion: String, kind: String) -> RegisteredResource? {
        all.first { $0.descriptor.kind == kind && $0.descriptor.serves(apiVersion: apiVersion) }
    }

    /// The kind behind a REST path's group and plural.
    public static func resource(group: String, plural: String) -> RegisteredResource? {
        all.first { $0.descriptor.group == group && $0.descriptor.plural == plural }
    }

    /// What `meshlab get NAME` accepts, as kubectl does: plural, singular,
    /// short name or kind, any case, optionally qualified by group
    /// (`virtualservices.networking.istio.io`).
    public static func resource(named name: String) -> RegisteredResource? {
        let lowered = name.lowercased()
        let (bare, group): (String, String?) =
            if let dot = lowered.firstIndex(of: ".") {
                (String(lowered[..<dot]), String(lowered[lowered.index(after: dot)...]))
            } else {
                (lowered, nil)
            }
        return all.first { entry in
            let d = entry.descriptor
            if let group, d.group != group { return false }
            return d.plural == bare || d.singular == bare || d.kind.lowercased() == bare || d.shortNames.contains(bare)
        }
    }
}
