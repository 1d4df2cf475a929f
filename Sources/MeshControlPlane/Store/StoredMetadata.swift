import FoundationEssentials
import MeshModel

/// The metadata the store owns, and the apiserver's rules for it, as pure
/// functions over JSON (no clock, no randomness, no state):
///
/// - `uid` and `creationTimestamp` are set on create (whatever the client
///   sent is overwritten) and kept by every update;
/// - `generation` is 1 on create and goes up by one when anything outside
///   `metadata` and `status` changes, as for custom resources (Kubernetes'
///   built-in kinds compare `spec`, which for meshlab's kinds is the same);
///   `apiVersion` and `kind` are not compared, so re-applying a v1beta1
///   manifest as v1 does not count as a change;
/// - `resourceVersion` is stamped at commit time from the global revision.
enum StoredMetadata {
    /// Where `object` lives: its `metadata.namespace` ("" when absent) and `metadata.name`.
    static func key(of object: JSONValue, _ resource: GroupResource) throws(StoreError) -> ObjectKey {
        guard object.objectValue != nil else {
            throw .invalid(resource, name: "", errors: [.invalid(.root, value: .string(object.typeName), "must be an object")])
        }
        guard let metadata = object["metadata"], let fields = metadata.objectValue else {
            throw .invalid(resource, name: "", errors: [.required("metadata")])
        }
        let name = fields["name"]?.stringValue ?? ""
        guard !name.isEmpty else {
            throw .invalid(resource, name: "", errors: [.required("metadata.name", "name or generateName is required")])
        }
        let namespace: String
        switch fields["namespace"] {
        case nil, .null?: namespace = ""
        case .string(let s)?: namespace = s
        case let other?:
            throw .invalid(resource, name: name, errors: [.invalid("metadata.namespace", value: other, "must be a string")])
        }
        return ObjectKey(resource, namespace: namespace, name: name)
    }

    /// The client's `metadata.resourceVersion`: nil when absent or empty (an
    /// unconditional update), an error when it is not a decimal revision.
    static func requestedRevision(of object: JSONValue, _ key: ObjectKey) throws(StoreError) -> UInt64? {
        switch object["metadata"]?["resourceVersion"] {
        case nil, .null?, .string("")?:
            return nil
        case .string(let text)?:
            if let revision = UInt64(text) { return revision }
            throw .invalid(key.resource, name: key.name, errors: [
                .invalid("metadata.resourceVersion", value: .string(text), "must be a decimal integer"),
            ])
        case let other?:
            throw .invalid(key.resource, name: key.name, errors: [
                .invalid("metadata.resourceVersion", value: other, "must be a string"),
            ])
        }
    }

    /// `object` as created: fresh `uid` and `creationTimestamp`, generation 1,
    /// no resourceVersion yet (the commit stamps it).
    static func forCreate(_ object: JSONValue, uid: String, creationTimestamp: String) -> JSONValue {
        updatingMetadata(object) { metadata in
            metadata["uid"] = .string(uid)
            metadata["resourceVersion"] = nil
            metadata["generation"] = .int(1)
            metadata["creationTimestamp"] = .string(creationTimestamp)
        }
    }

    /// `object` as it would replace `stored`: uid, creationTimestamp and
    /// resourceVersion carried over, generation bumped when the content
    /// changed. Equal to `stored` exactly when the update changes nothing.
    static func forUpdate(_ object: JSONValue, replacing stored: JSONValue, _ key: ObjectKey) throws(StoreError) -> JSONValue {
        let storedMetadata = stored["metadata"]?.objectValue ?? JSONObject()
        if case .string(let uid)? = object["metadata"]?["uid"], !uid.isEmpty, uid != storedMetadata["uid"]?.stringValue {
            throw .invalid(key.resource, name: key.name, errors: [
                .invalid("metadata.uid", value: .string(uid), "field is immutable"),
            ])
        }
        let storedGeneration = storedMetadata["generation"]?.intValue ?? 1
        let generation = contentChanged(stored, object) ? storedGeneration + 1 : storedGeneration
        return updatingMetadata(object) { metadata in
            metadata["uid"] = storedMetadata["uid"]
            metadata["resourceVersion"] = storedMetadata["resourceVersion"]
            metadata["generation"] = .int(generation)
            metadata["creationTimestamp"] = storedMetadata["creationTimestamp"]
        }
    }

    /// `object` with `metadata.resourceVersion` set to `revision`.
    static func stamped(_ object: JSONValue, revision: UInt64) -> JSONValue {
        updatingMetadata(object) { $0["resourceVersion"] = .string(String(revision)) }
    }

    /// The stored object's revision (the store always writes it).
    static func revision(of object: JSONValue) -> UInt64 {
        object["metadata"]?["resourceVersion"]?.stringValue.flatMap { UInt64($0) } ?? 0
    }

    /// Whether anything but metadata, status, apiVersion and kind differs.
    static func contentChanged(_ old: JSONValue, _ new: JSONValue) -> Bool {
        let ignored: Set<String> = ["metadata", "status", "apiVersion", "kind"]
        let oldFields = old.objectValue ?? JSONObject()
        let newFields = new.objectValue ?? JSONObject()
        let keys = Set(oldFields.keys).union(newFields.keys).subtracting(ignored)
        return keys.contains { oldFields[$0] != newFields[$0] }
    }

    private static func updatingMetadata(_ object: JSONValue, _ change: (inout JSONObject) -> Void) -> JSONValue {
        guard var fields = object.objectValue else { return object }
        var metadata = fields["metadata"]?.objectValue ?? JSONObject()
        change(&metadata)
        fields["metadata"] = .object(metadata)
        return .object(fields)
    }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes writes timestamps.
    static func timestamp(_ date: Date) -> String {
        Timestamp.format(epochSeconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }
}
