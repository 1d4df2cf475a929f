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

    public init(_ severity: Severity, at path: FieldPath, _ message: String) {
        self.severity = severity
        self.path = path
        self.message = message
    }

    /// `path: message`, or just the message for the whole object.
    public var description: String { path.isRoot ? message : "\(path): \(message)" }

    /// `FILE:LINE: kind/name: path: message`, the form `meshlab apply` and
    /// `meshlab validate` print. `object` is e.g. `VirtualService/reviews`.
    public func rendered(object: String?, locations: SourceLocations?) -> String {
        var parts: [String] = []
        if let locations { parts.append(locations.position(of: path)) }
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
        Diagnostic(.warning, at: .root, "unknown field \"\(path)\"")
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
