import FoundationEssentials

/// Converts between generic `JSONValue` objects and typed resources, and runs
/// the full check (decode, default, validate) the API and `validate` use.
///
/// Interim implementation through Foundation's JSON coders: it reports only
/// the first decoding error and does not detect unknown fields. The
/// field-tracking decoder replaces it.
public enum ResourceCodec {
    public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
        public var diagnostic: Diagnostic
        public var description: String { diagnostic.description }
    }

    /// The typed form of `object` (its `apiVersion` and `kind` are not checked here).
    public static func decode<T: Resource>(_ type: T.Type, from object: JSONValue) throws(DecodingFailure) -> T {
        var body = object
        body["apiVersion"] = nil
        body["kind"] = nil
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.serializedBytes()))
        } catch {
            throw DecodingFailure(diagnostic: .error(.root, "\(error)"))
        }
    }

    /// The generic form of `resource`, with `apiVersion` (its preferred
    /// version unless given) and `kind` first.
    public static func encode<T: Resource>(_ resource: T, apiVersion: String? = nil) -> JSONValue {
        var object = JSONObject()
        object["apiVersion"] = .string(apiVersion ?? T.descriptor.preferredAPIVersion)
        object["kind"] = .string(T.descriptor.kind)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        if let data = try? encoder.encode(resource), let body = try? JSONValue(parsing: [UInt8](data)),
            let fields = body.objectValue
        {
            for (key, value) in fields { object[key] = value }
        }
        return .object(object)
    }

    public static func check<T: Resource>(_ type: T.Type, _ object: JSONValue, options: CheckOptions) -> ResourceCheck {
        var resource: T
        do {
            resource = try decode(T.self, from: object)
        } catch {
            return ResourceCheck(object: nil, diagnostics: [error.diagnostic])
        }
        resource.applyDefaults()
        var validation = Validation(namespace: resource.metadata.namespace)
        resource.validate(at: .root, &validation)
        let apiVersion = object["apiVersion"]?.stringValue
        return ResourceCheck(
            object: validation.hasErrors ? nil : encode(resource, apiVersion: apiVersion),
            diagnostics: validation.diagnostics)
    }
}
