/// Converts between generic `JSONValue` objects and typed resources, and runs
/// the full check (decode, default, validate) the API and `validate` use.
///
/// # Writing a resource type for it
///
/// - Model the schema with plain `Codable` structs. A property that may be
///   absent is an Optional; a non-optional property is *required*: when it is
///   missing (or `null`) the codec reports `<path>: Required value` and goes on.
///   Use `Int32`/`Int64`/`UInt32` as the schema declares: values out of range
///   are errors. `Double` for `number`.
/// - Closed string sets are `enum X: String, SchemaEnum { case a = "A", ... }`:
///   a bad value reads `Unsupported value: "BLAH": supported values: "A", "B"`.
/// - Shared value types (Resources/Values/): `ProtoDuration` (Istio durations,
///   Go syntax, >= 1ms as the CRDs' CEL rule), `IntOrString`, `Quantity`,
///   `LabelSelectorSpec` (matchLabels/matchExpressions, validates itself).
/// - Free-form subtrees are `JSONValue` (kept whole, no unknown-field checks inside).
///   `[String: X]` is a map: all its keys are data, paths render as `labels[app]`.
/// - A type with a custom `init(from:)` should read its raw value with
///   `decoder.singleValueContainer().decode(JSONValue.self)`, inspect it, and
///   throw `FieldError.invalid(...)` / `.typeMismatch(...)` / `.message(...)`:
///   the codec puts the error at the right path. Do not probe with `try?` on
///   keyed containers: a keyed `decode` records its error and returns a stand-in
///   instead of throwing. If such a type is used for a required field, conform
///   it to `SchemaPlaceholder` so decoding can continue past a missing value.
/// - Semantic rules go in `validate(at:_:)` (`Validatable`); the path passed
///   in is where the value sits: `validation.add(.invalid(path.appending("weight"), ...))`.
///   `Resource.validate` is called with `.root`, so paths start at `spec...`.
/// - `applyDefaults()` fills what the apiserver defaults; it runs before validation.
/// - Encoding writes fields in declaration (`CodingKeys`) order, sorts map keys,
///   omits nil optionals, and writes integral doubles as integers (as Go does).
///
/// # Using it
///
/// ```swift
/// let result = ResourceCodec.check(VirtualService.self, object, options: CheckOptions(strict: false))
/// result.object        // normalized JSON (apiVersion, kind first; pruned; defaulted) or nil when invalid
/// result.diagnostics   // errors and warnings, paths relative to the object root
/// let vs = try ResourceCodec.decode(VirtualService.self, from: object)   // throws on errors
/// let json = ResourceCodec.encode(vs)
/// ValueCodec.decode(HTTPRoute.self, from: value, at: "spec.http[0]")      // any Decodable, any subtree
/// ```
///
/// Decoding reports as much as it can in one pass: a wrong optional field is
/// reported and treated as absent, a wrong or missing required one is reported
/// and replaced by a stand-in, a bad list or map entry is reported and skipped.
/// Unknown fields (keys no type asked for) are warnings, errors under
/// `CheckOptions(strict: true)`. When decoding finds errors, defaulting and
/// semantic validation do not run (they would judge stand-ins).
///
/// Integers: a JSON number without fraction (`10.0`) is accepted for an
/// integer field, as the structural schema accepts it and as a YAML `10.0`
/// reaches a built-in type's decoder as `10`; `1.5` is a type error.
public enum ResourceCodec {
    /// Why `decode` refused an object: every error found (never empty).
    public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
        public var diagnostics: [Diagnostic]
        /// The first error.
        public var diagnostic: Diagnostic { diagnostics.first ?? .error(.root, "cannot be decoded") }
        public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// The typed form of `object` (its `apiVersion` and `kind` are not checked
    /// here). Unknown fields are ignored; any error throws.
    public static func decode<T: Resource>(_ type: T.Type, from object: JSONValue) throws(DecodingFailure) -> T {
        let decoded = ValueCodec.decode(T.self, from: body(of: object))
        guard let value = decoded.value else { throw DecodingFailure(diagnostics: decoded.errors) }
        return value
    }

    /// The generic form of `resource`, with `apiVersion` (its preferred
    /// version unless given) and `kind` first.
    public static func encode<T: Resource>(_ resource: T, apiVersion: String? = nil) -> JSONValue {
        var object = JSONObject()
        object["apiVersion"] = .string(apiVersion ?? T.descriptor.preferredAPIVersion)
        object["kind"] = .string(T.descriptor.kind)
        if case .object(let fields) = ValueCodec.encode(resource) {
            for (key, value) in fields { object[key] = value }
        }
        return .object(object)
    }

    /// Decodes, defaults and validates `object` as a `T`: what `apply`, the
    /// API's admission and `validate` run.
    public static func check<T: Resource>(_ type: T.Type, _ object: JSONValue, options: CheckOptions) -> ResourceCheck {
        guard case .object = object else {
            return ResourceCheck(object: nil, diagnostics: [.typeMismatch(.root, expected: "object", actual: object)])
        }
        let decoded = ValueCodec.decode(T.self, from: body(of: object), strict: options.strict)
        var diagnostics = decoded.diagnostics
        guard var resource = decoded.value else { return ResourceCheck(object: nil, diagnostics: diagnostics) }
        resource.applyDefaults()
        var validation = Validation(namespace: resource.metadata.namespace)
        resource.metadata.validate(at: "metadata", nameRule: T.nameRule, &validation)
        resource.validate(at: .root, &validation)
        diagnostics += validation.diagnostics
        let valid = !diagnostics.contains { $0.severity == .error }
        let apiVersion = object["apiVersion"]?.stringValue.flatMap { T.descriptor.serves(apiVersion: $0) ? $0 : nil }
        return ResourceCheck(object: valid ? encode(resource, apiVersion: apiVersion) : nil, diagnostics: diagnostics)
    }

    /// The object without `apiVersion` and `kind` (the type says those), and
    /// with empty metadata when it has none, so that a missing name reads
    /// `metadata.name: Required value` as the apiserver words it.
    private static func body(of object: JSONValue) -> JSONValue {
        var body = object
        body["apiVersion"] = nil
        body["kind"] = nil
        if body["metadata"] == nil || body["metadata"] == .null { body["metadata"] = .object(JSONObject()) }
        return body
    }
}
