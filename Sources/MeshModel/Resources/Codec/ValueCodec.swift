/// Decodes any `Decodable` from a `JSONValue` and encodes any `Encodable` to
/// one, with Kubernetes' schema behaviour: field-path errors in the
/// apiserver's words, unknown fields found, deterministic output.
/// `ResourceCodec` builds the whole-object check on it; see there for the rules.
public enum ValueCodec {
    /// `value`, which sits at `path` in its document, as a `T`, with every
    /// problem found. `Decoded.value` is nil when there was any error.
    /// Unknown fields are warnings, or errors when `strict` (kubectl's
    /// `--validate=strict`).
    public static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, at path: FieldPath = .root, strict: Bool = false
    ) -> Decoded<T> {
        let context = DecodingContext()
        var result: T?
        do {
            result = try context.decode(T.self, from: value, at: path)
        } catch {
            context.record(error, at: path, value: value)
        }
        var unknown = context.unknownFields(in: value, at: path)
        if strict {
            for i in unknown.indices { unknown[i].severity = .error }
        }
        var diagnostics = context.diagnostics + unknown
        if result == nil && !diagnostics.contains(where: { $0.severity == .error }) {
            diagnostics.insert(.error(path, "cannot be decoded as \(T.self)"), at: 0)
        }
        let failed = diagnostics.contains { $0.severity == .error }
        return Decoded(value: failed ? nil : result, diagnostics: diagnostics)
    }

    /// `value` as JSON: struct fields in the order the type encodes them
    /// (its `CodingKeys` order when synthesized), map keys sorted, nil
    /// optionals left out.
    public static func encode<T: Encodable>(_ value: T) -> JSONValue {
        let node = EncodingNode()
        do {
            try node.encode(value, at: .root)
        } catch {
            // Only a hand-written `encode(to:)` can throw, and the model's do not.
            assertionFailure("encoding \(T.self) failed: \(error)")
        }
        return node.value
    }
}
