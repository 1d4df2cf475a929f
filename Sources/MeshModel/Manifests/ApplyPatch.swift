/// The annotation where `apply` keeps the manifest it applied last, as kubectl does.
public let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

/// kubectl's client-side apply as a JSON merge patch (RFC 7386), computed
/// three ways:
/// - fields the manifest sets that differ from the live object are set;
/// - fields the last applied manifest set and this one no longer does are
///   removed (`null`);
/// - fields only the server or other writers set (a Service's clusterIP, a
///   scaled Deployment's replicas when the manifest leaves them out, status)
///   are left alone.
///
/// Lists are replaced whole, as JSON merge patch replaces them (kubectl's
/// strategic merge would merge some lists by key, e.g. containers by name).
/// An empty patch means the object is unchanged.
public func threeWayMergePatch(original: JSONValue?, modified: JSONValue, current: JSONValue) -> JSONObject {
    var patch = JSONObject()
    guard let modifiedObject = modified.objectValue else { return patch }
    let currentObject = current.objectValue ?? JSONObject()
    for (key, wanted) in modifiedObject {
        let live = currentObject[key]
        if case .object = wanted, case .object? = live {
            let nested = threeWayMergePatch(original: original?[key], modified: wanted, current: live!)
            if !nested.isEmpty { patch[key] = .object(nested) }
        } else if live != wanted {
            patch[key] = wanted
        }
    }
    for (key, _) in original?.objectValue ?? JSONObject() where modifiedObject[key] == nil && currentObject[key] != nil {
        patch[key] = .null
    }
    return patch
}
