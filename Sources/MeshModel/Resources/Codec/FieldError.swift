/// What a custom `init(from:)` throws to reject a value it was handed: the
/// codec turns it into a `Diagnostic` at the field path of that value, so the
/// type does not need to know where it sits.
///
/// ```swift
/// init(from decoder: any Decoder) throws {
///     let raw = try decoder.singleValueContainer().decode(JSONValue.self)
///     guard let text = raw.stringValue else { throw FieldError.typeMismatch(expected: "string", actual: raw) }
///     guard let parsed = Self.parse(text) else { throw FieldError.invalid(raw, "must be a valid duration") }
///     self = parsed
/// }
/// ```
public struct FieldError: Error, Sendable {
    private let make: @Sendable (FieldPath) -> Diagnostic

    public init(_ make: @escaping @Sendable (FieldPath) -> Diagnostic) { self.make = make }

    /// The diagnostic for a value found at `path`.
    public func diagnostic(at path: FieldPath) -> Diagnostic { make(path) }

    /// `Invalid value: <value>: <detail>`.
    public static func invalid(_ value: JSONValue, _ detail: String) -> FieldError {
        FieldError { .invalid($0, value: value, detail) }
    }

    /// `Unsupported value: <value>: supported values: "A", "B"`.
    public static func unsupported(_ value: JSONValue, supported: [String]) -> FieldError {
        FieldError { .unsupported($0, value: value, supported: supported) }
    }

    /// The structural-schema type error: `<path> in body must be of type <expected>: "<actual type>"`.
    public static func typeMismatch(expected: String, actual: JSONValue) -> FieldError {
        FieldError { .typeMismatch($0, expected: expected, actual: actual) }
    }

    /// `Required value[: detail]`.
    public static func required(_ detail: String? = nil) -> FieldError {
        FieldError { .required($0, detail) }
    }

    /// A message in the owning project's own words (Istio's Go validation).
    public static func message(_ text: String) -> FieldError {
        FieldError { .error($0, text) }
    }
}
