/// One finding about a document: an error that rejects it, or a warning
/// (such as an unknown field) that lets it through.
///
/// Messages follow Kubernetes' field errors (k8s.io/apimachinery
/// pkg/util/validation/field) so they read like the apiserver's and Istio's:
/// `spec.mtls.mode: Unsupported value: "BLAH": supported values: "UNSET", "DISABLE"`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    /// Where in the document; root for problems with the whole object.
    public var path: FieldPath
    /// The text after the path, e.g. `Required value` or `must be >= 0`.
    public var message: String
    /// Where to point in the source when that differs from `path`: an unknown
    /// field's message names the field itself and has no path prefix, but its
    /// line is the field's line.
    public var sourcePath: FieldPath?

    public init(_ severity: Severity, at path: FieldPath, _ message: String, sourcePath: FieldPath? = nil) {
        self.severity = severity
        self.path = path
        self.message = message
        self.sourcePath = sourcePath
    }

    /// `path: message`, or just the message for the whole object.
    public var description: String { path.isRoot ? message : "\(path): \(message)" }

    /// `FILE:LINE: kind/name: path: message`, the form `meshlab apply` and
    /// `meshlab validate` print. `object` is e.g. `VirtualService/reviews`.
    public func rendered(object: String?, locations: SourceLocations?) -> String {
        var parts: [String] = []
        if let locations { parts.append(locations.position(of: sourcePath ?? path)) }
        if let object { parts.append(object) }
        parts.append(description)
        return parts.joined(separator: ": ")
    }
}

// Kubernetes' field error types. The value is quoted as Go's %q would for
// strings and printed plainly for numbers and booleans.
extension Diagnostic {
    public static func required(_ path: FieldPath, _ detail: String? = nil) -> Diagnostic {
        Diagnostic(.error, at: path, "Required value" + (detail.map { ": " + $0 } ?? ""))
    }

    public static func invalid(_ path: FieldPath, value: JSONValue, _ detail: String) -> Diagnostic {
        Diagnostic(.error, at: path, "Invalid value: \(quoted(value)): \(detail)")
    }

    public static func unsupported(_ path: FieldPath, value: JSONValue, supported: [String]) -> Diagnostic {
        let list = supported.map { quoted(.string($0)) }.joined(separator: ", ")
        return Diagnostic(.error, at: path, "Unsupported value: \(quoted(value)): supported values: \(list)")
    }

    public static func duplicate(_ path: FieldPath, value: JSONValue) -> Diagnostic {
        Diagnostic(.error, at: path, "Duplicate value: \(quoted(value))")
    }

    public static func forbidden(_ path: FieldPath, _ detail: String) -> Diagnostic {
        Diagnostic(.error, at: path, "Forbidden: \(detail)")
    }

    /// An error in Istio's own words (its Go validation), e.g. `weight must be >= 0`.
    public static func error(_ path: FieldPath, _ message: String) -> Diagnostic {
        Diagnostic(.error, at: path, message)
    }

    /// kubectl's warning for a field the schema does not know.
    public static func unknownField(_ path: FieldPath) -> Diagnostic {
        Diagnostic(.warning, at: .root, "unknown field \"\(path)\"", sourcePath: path)
    }

    /// The structural-schema type error, as the apiserver words it for a
    /// custom resource: `spec.replicas: Invalid value: "string": spec.replicas
    /// in body must be of type integer: "string"`.
    public static func typeMismatch(_ path: FieldPath, expected: String, actual: JSONValue) -> Diagnostic {
        let name = path.isRoot ? "body" : "\(path) in body"
        let got = quoted(.string(actual.typeName))
        return Diagnostic(.error, at: path, "Invalid value: \(got): \(name) must be of type \(expected): \(got)")
    }

    /// `Not found: "value"`: a reference to something that does not exist
    /// (a volume mount naming no volume).
    public static func notFound(_ path: FieldPath, value: JSONValue) -> Diagnostic {
        Diagnostic(.error, at: path, "Not found: \(quoted(value))")
    }

    /// `Too long: must have at most N bytes` (annotations, ConfigMap data).
    public static func tooLong(_ path: FieldPath, maxBytes: Int) -> Diagnostic {
        Diagnostic(.error, at: path, "Too long: must have at most \(maxBytes) bytes")
    }

    /// A value rendered as Go's `%v`/`%q` would in a Kubernetes message.
    public static func quoted(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            var out = ""
            JSONValue.writeQuoted(s, to: &out)
            return out
        default:
            return value.serialized()
        }
    }
}
