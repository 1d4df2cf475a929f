/// JSON merge patch (RFC 7386), what `application/merge-patch+json` PATCH applies:
/// objects merge key by key, `null` deletes, anything else replaces.
public func applyMergePatch(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
    guard case .object(let patchObject) = patch else { return patch }
    var result = target.objectValue ?? JSONObject()
    for (key, value) in patchObject {
        if value.isNull {
            result[key] = nil
        } else {
            result[key] = applyMergePatch(value, to: result[key] ?? .null)
        }
    }
    return .object(result)
}
