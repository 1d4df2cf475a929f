import MeshHTTP
import MeshModel

/// Reads request bodies in the media types the apiserver takes.
enum RequestBody {
    enum PatchType {
        case merge
        case json
    }

    /// The media type without parameters, lower-cased (`application/json`).
    static func mediaType(_ request: HTTPRequest) -> String {
        let raw = request.headers["content-type"] ?? "application/json"
        let type = raw.split(separator: ";").first.map(String.init) ?? raw
        return type.trimmingSpaces().lowercased()
    }

    /// An object body for POST and PUT: JSON, or YAML as kubectl can send.
    static func object(_ request: HTTPRequest) throws(StatusObject) -> JSONValue {
        let value: JSONValue
        switch mediaType(request) {
        case "application/json", "*/*":
            value = try json(request.body)
        case "application/yaml", "application/x-yaml", "text/yaml":
            do {
                value = try YAML.load(utf8: request.body).value
            } catch {
                throw .badRequest("the request body is not valid YAML: \(error)")
            }
        case let other:
            throw .unsupportedMediaType(other)
        }
        guard case .object = value else {
            throw .badRequest("the request body must be a JSON object, not \(value.typeName == "array" ? "an array" : "a \(value.typeName)")")
        }
        return value
    }

    static func json(_ bytes: [UInt8]) throws(StatusObject) -> JSONValue {
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty") }
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error)")
        }
    }

    static func patchType(_ request: HTTPRequest) throws(StatusObject) -> PatchType {
        switch mediaType(request) {
        case "application/merge-patch+json": return .merge
        case "application/json-patch+json": return .json
        case "application/strategic-merge-patch+json", "application/apply-patch+yaml":
            throw StatusObject(
                code: 415, reason: .unsupportedMediaType,
                message: "\(mediaType(request)) is not supported by meshlab: use application/merge-patch+json (kubectl patch --type=merge) or application/json-patch+json (--type=json)")
        case let other:
            throw .unsupportedMediaType(other)
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
