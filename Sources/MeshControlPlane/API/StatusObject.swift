import MeshModel

/// A Kubernetes `Status` (metav1.Status): how the apiserver reports failure,
/// with the `reason` and `code` clients switch on.
public struct StatusObject: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case invalid = "Invalid"
        case badRequest = "BadRequest"
        case methodNotAllowed = "MethodNotAllowed"
        case unsupportedMediaType = "UnsupportedMediaType"
        case notAcceptable = "NotAcceptable"
        case gone = "Gone"
        case expired = "Expired"
        case forbidden = "Forbidden"
        case internalError = "InternalError"
        case requestEntityTooLarge = "RequestEntityTooLarge"
        case timeout = "Timeout"
        case serviceUnavailable = "ServiceUnavailable"
    }

    /// One field problem in an Invalid status (metav1.StatusCause).
    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String
    }

    public var code: Int
    public var reason: Reason
    public var message: String
    /// `details`: what the failure was about.
    public var kind: String?
    public var group: String?
    public var name: String?
    public var causes: [Cause]

    public init(code: Int, reason: Reason, message: String, kind: String? = nil, group: String? = nil,
                name: String? = nil, causes: [Cause] = []) {
        self.code = code
        self.reason = reason
        self.message = message
        self.kind = kind
        self.group = group
        self.name = name
        self.causes = causes
    }

    public var description: String { message }

    public var json: JSONValue {
        var object: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(message), "reason": .string(reason.rawValue),
        ]
        var details = JSONObject()
        if let name { details["name"] = .string(name) }
        if let group { details["group"] = .string(group) }
        if let kind { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(causes.map {
                ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
            })
        }
        if !details.isEmpty { object["details"] = .object(details) }
        object["code"] = .int(code)
        return .object(object)
    }

    /// Reads a Status the API sent back (what the CLI shows the user).
    public init?(json: JSONValue) {
        guard json["kind"]?.stringValue == "Status", let message = json["message"]?.stringValue else { return nil }
        self.message = message
        code = json["code"]?.intValue ?? 500
        reason = json["reason"]?.stringValue.flatMap(Reason.init(rawValue:)) ?? .internalError
        kind = json["details"]?["kind"]?.stringValue
        group = json["details"]?["group"]?.stringValue
        name = json["details"]?["name"]?.stringValue
        causes = (json["details"]?["causes"]?.arrayValue ?? []).map {
            Cause(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "",
                  field: $0["field"]?.stringValue ?? "")
        }
    }

    // The apiserver's wording, e.g. `pods "web" not found`.

    public static func notFound(_ descriptor: ResourceDescriptor, name: String) -> StatusObject {
        StatusObject(code: 404, reason: .notFound, message: "\(descriptor.qualifiedPlural) \"\(name)\" not found",
                     kind: descriptor.plural, group: descriptor.group.isEmpty ? nil : descriptor.group, name: name)
    }

    public static func alreadyExists(_ descriptor: ResourceDescriptor, name: String) -> StatusObject {
        StatusObject(code: 409, reason: .alreadyExists,
                     message: "\(descriptor.qualifiedPlural) \"\(name)\" already exists",
                     kind: descriptor.plural, group: descriptor.group.isEmpty ? nil : descriptor.group, name: name)
    }

    public static func conflict(_ descriptor: ResourceDescriptor, name: String) -> StatusObject {
        StatusObject(
            code: 409, reason: .conflict,
            message: "Operation cannot be fulfilled on \(descriptor.qualifiedPlural) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            kind: descriptor.plural, group: descriptor.group.isEmpty ? nil : descriptor.group, name: name)
    }

    /// `Kind.group "name" is invalid: [path: msg, path: msg]` with one cause per error.
    public static func invalid(_ descriptor: ResourceDescriptor, name: String, errors: [Diagnostic]) -> StatusObject {
        let qualifiedKind = descriptor.group.isEmpty ? descriptor.kind : "\(descriptor.kind).\(descriptor.group)"
        let list = errors.map(\.description)
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        return StatusObject(
            code: 422, reason: .invalid, message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)",
            kind: descriptor.kind, group: descriptor.group.isEmpty ? nil : descriptor.group, name: name,
            causes: errors.map { Cause(reason: causeReason($0.message), message: $0.message, field: $0.path.description) })
    }

    public static func badRequest(_ message: String) -> StatusObject {
        StatusObject(code: 400, reason: .badRequest, message: message)
    }

    public static func methodNotAllowed(_ method: String) -> StatusObject {
        StatusObject(code: 405, reason: .methodNotAllowed,
                     message: "the server does not allow this method on the requested resource")
    }

    public static func unsupportedMediaType(_ contentType: String) -> StatusObject {
        StatusObject(code: 415, reason: .unsupportedMediaType,
                     message: "the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json (got \"\(contentType)\")")
    }

    public static func pathNotFound(_ path: String) -> StatusObject {
        StatusObject(code: 404, reason: .notFound, message: "the server could not find the requested resource")
    }

    public static func expired(_ message: String) -> StatusObject {
        StatusObject(code: 410, reason: .expired, message: message)
    }

    public static func internalError(_ message: String) -> StatusObject {
        StatusObject(code: 500, reason: .internalError, message: "Internal error occurred: \(message)")
    }

    /// metav1.CauseType for a field error message.
    static func causeReason(_ message: String) -> String {
        for (prefix, type) in [
            ("Required value", "FieldValueRequired"), ("Unsupported value", "FieldValueNotSupported"),
            ("Duplicate value", "FieldValueDuplicate"), ("Forbidden", "FieldValueForbidden"),
            ("Invalid value", "FieldValueInvalid"),
        ] where message.hasPrefix(prefix) {
            return type
        }
        return "FieldValueInvalid"
    }
}
