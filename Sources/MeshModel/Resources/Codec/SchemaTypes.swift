/// A closed set of string values, as a CRD schema's `enum:` or a Kubernetes
/// string type with fixed constants (`restartPolicy`, `mtls.mode`).
///
/// The codec decodes it from a JSON string only and rejects anything else in
/// Kubernetes' words: `Unsupported value: "BLAH": supported values: "A", "B"`.
/// The order of the cases is the order of that list.
public protocol SchemaEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable where RawValue == String {}

extension SchemaEnum {
    /// The raw values in declaration order, for `Unsupported value` messages.
    public static var supportedValues: [String] { allCases.map(\.rawValue) }
}

/// A value the codec can stand in for a required field that was missing or
/// wrong, so that decoding goes on and reports the rest of the document.
///
/// Structs and enums need nothing: the codec builds their stand-in by decoding
/// an empty object. Only types with a custom `init(from:)` that would reject
/// that (an `IntOrString`, a `Duration`) conform.
public protocol SchemaPlaceholder {
    static var schemaPlaceholder: Self { get }
}

/// The outcome of decoding one value with `ValueCodec`.
public struct Decoded<Value> {
    /// The typed value; nil when any error was found (a stand-in built to keep
    /// going is not a value anyone should use).
    public var value: Value?
    /// Errors first (in the order found), then unknown-field warnings in document order.
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// A coding key for any name or index: what `codingPath` is built from.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension FieldPath {
    /// The path as the `codingPath` a `Decoder` or `Encoder` reports.
    var codingKeys: [any CodingKey] {
        components.map { component -> any CodingKey in
            switch component {
            case .field(let name), .mapKey(let name): AnyCodingKey(stringValue: name)
            case .index(let i): AnyCodingKey(intValue: i)
            }
        }
    }
}
