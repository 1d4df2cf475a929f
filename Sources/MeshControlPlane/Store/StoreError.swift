import MeshModel
import MeshSystem

/// Why a store operation failed. `description` uses the apiserver's wording,
/// so the API can put it straight into a `Status` message; the cases carry
/// what the API needs for the Status `reason`, `code` and `details`.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 404 NotFound: `pods "web" not found`.
    case notFound(GroupResource, name: String)
    /// 409 AlreadyExists: `pods "web" already exists`.
    case alreadyExists(GroupResource, name: String)
    /// 409 Conflict: a stale `metadata.resourceVersion` or a failed delete
    /// precondition. `reason` is the text after the colon.
    case conflict(GroupResource, name: String, currentResourceVersion: String, reason: String)
    /// 422 Invalid: the object breaks a rule the store itself enforces
    /// (name present, uid immutable, resourceVersion a number).
    case invalid(GroupResource, name: String, errors: [Diagnostic])
    /// 400 BadRequest: a `resourceVersion` query parameter that is not a number.
    case badResourceVersion(String)
    /// 410 Gone, reason Expired: a watch from a resourceVersion older than the
    /// retained history. Clients re-list and watch from the list's version.
    case expired(requested: UInt64, oldest: UInt64)
    /// The watcher fell more than `capacity` events behind and was closed;
    /// the API ends the watch stream and the client re-lists.
    case watchOverflow(capacity: Int)
    /// Another process holds the store's lock file.
    case locked(directory: String, holder: String)
    /// Damage in the state directory that is not a torn tail (which is repaired).
    case corrupt(file: String, offset: Int, reason: String)
    /// A system call on the state directory failed.
    case io(SystemError, path: String)
    /// The store was closed, or stopped accepting writes after an I/O failure it
    /// could not undo; `reason` says which.
    case unavailable(reason: String)

    public var description: String {
        switch self {
        case .notFound(let resource, let name):
            "\(resource) \"\(name)\" not found"
        case .alreadyExists(let resource, let name):
            "\(resource) \"\(name)\" already exists"
        case .conflict(let resource, let name, _, let reason):
            "Operation cannot be fulfilled on \(resource) \"\(name)\": \(reason)"
        case .invalid(let resource, let name, let errors):
            "\(resource) \"\(name)\" is invalid: "
                + (errors.count == 1 ? errors[0].description : "[" + errors.map(\.description).joined(separator: ", ") + "]")
        case .badResourceVersion(let text):
            "invalid resource version \"\(text)\": must be a non-negative integer"
        case .expired(let requested, let oldest):
            "too old resource version: \(requested) (\(oldest))"
        case .watchOverflow(let capacity):
            "watch closed: the watcher fell more than \(capacity) events behind; list again and watch from the list's resourceVersion"
        case .locked(let directory, let holder):
            "store \(directory) is in use by another process (\(holder)); stop it first (meshlab down)"
        case .corrupt(let file, let offset, let reason):
            "store file \(file) is damaged at byte \(offset): \(reason); move the state directory aside to start empty"
        case .io(let error, let path):
            "\(path): \(error)"
        case .unavailable(let reason):
            "store unavailable: \(reason)"
        }
    }

    /// The reason text of a stale-update conflict.
    static let modifiedReason =
        "the object has been modified; please apply your changes to the latest version and try again"
}
