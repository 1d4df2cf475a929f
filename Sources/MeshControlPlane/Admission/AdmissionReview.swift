import MeshModel

/// What an admission request is about: the apiserver's admission.Attributes.
public struct AdmissionAttributes: Sendable, Equatable {
    public enum Operation: String, Sendable { case create = "CREATE", update = "UPDATE" }

    public var operation: Operation
    public var group: String
    public var version: String
    /// The plural (`pods`), without subresource.
    public var resource: String
    public var subresource: String?
    public var kind: String
    /// Empty for cluster-scoped objects.
    public var namespace: String
    public var name: String
    public var namespaced: Bool
    public var object: JSONValue
    public var oldObject: JSONValue?
    public var dryRun: Bool

    public init(operation: Operation, group: String, version: String, resource: String, subresource: String? = nil,
                kind: String, namespace: String, name: String, namespaced: Bool, object: JSONValue,
                oldObject: JSONValue? = nil, dryRun: Bool = false) {
        self.operation = operation
        self.group = group
        self.version = version
        self.resource = resource
        self.subresource = subresource
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.namespaced = namespaced
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
    }
}

/// admission.k8s.io/v1 AdmissionReview: the request the API server sends
/// and the response it reads back.
public enum AdmissionReview {
    public static let apiVersion = "admission.k8s.io/v1"

    /// The AdmissionReview sent to a webhook, with request `uid`.
    public static func request(_ attributes: AdmissionAttributes, uid: String) -> JSONValue {
        let kind: JSONValue = ["group": .string(attributes.group), "version": .string(attributes.version),
                               "kind": .string(attributes.kind)]
        let resource: JSONValue = ["group": .string(attributes.group), "version": .string(attributes.version),
                                   "resource": .string(attributes.resource)]
        var request: JSONObject = ["uid": .string(uid), "kind": kind, "resource": resource]
        if let subresource = attributes.subresource { request["subResource"] = .string(subresource) }
        request["requestKind"] = kind
        request["requestResource"] = resource
        if let subresource = attributes.subresource { request["requestSubResource"] = .string(subresource) }
        if !attributes.name.isEmpty { request["name"] = .string(attributes.name) }
        if !attributes.namespace.isEmpty { request["namespace"] = .string(attributes.namespace) }
        request["operation"] = .string(attributes.operation.rawValue)
        // meshlab's API has no authentication: every caller is the lab's administrator.
        request["userInfo"] = ["username": "system:admin", "groups": ["system:masters", "system:authenticated"]]
        request["object"] = attributes.object
        request["oldObject"] = attributes.oldObject ?? .null
        request["dryRun"] = .bool(attributes.dryRun)
        request["options"] = [
            "kind": .string(attributes.operation == .create ? "CreateOptions" : "UpdateOptions"), "apiVersion": "meta.k8s.io/v1",
        ]
        return ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "request": .object(request)]
    }

    /// A webhook's verdict.
    public struct Verdict: Sendable, Equatable {
        public var allowed: Bool
        /// The decoded JSONPatch, when the webhook sent one.
        public var patch: JSONPatch?
        /// `response.status` (a metav1.Status) as sent.
        public var status: JSONValue?
        public var warnings: [String]
    }

    /// Reads a webhook's AdmissionReview answer to the request with `uid`;
    /// the error says what is wrong with it, in the apiserver's words where it has them.
    public static func verdict(_ review: JSONValue, uid: String) throws(AdmissionReviewError) -> Verdict {
        guard review["apiVersion"]?.stringValue == apiVersion, review["kind"]?.stringValue == "AdmissionReview" else {
            throw AdmissionReviewError("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(review["apiVersion"]?.stringValue ?? ""), Kind=\(review["kind"]?.stringValue ?? "")")
        }
        guard let response = review["response"], response.objectValue != nil else {
            throw AdmissionReviewError("webhook response was absent")
        }
        let responseUID = response["uid"]?.stringValue ?? ""
        guard responseUID == uid else {
            throw AdmissionReviewError("expected response.uid=\"\(uid)\", got \"\(responseUID)\"")
        }
        var verdict = Verdict(allowed: response["allowed"]?.boolValue ?? false, patch: nil, status: response["status"],
                              warnings: (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let encoded = response["patch"]?.stringValue, !encoded.isEmpty {
            let patchType = response["patchType"]?.stringValue ?? ""
            guard patchType == "JSONPatch" else {
                throw AdmissionReviewError("expected patchType \"JSONPatch\", got \"\(patchType)\"")
            }
            guard let bytes = Base64.decode(encoded) else { throw AdmissionReviewError("the patch is not base64") }
            do {
                verdict.patch = try JSONPatch(json: try JSONValue(parsing: bytes))
            } catch let failure as JSONPatch.Failure {
                throw AdmissionReviewError("the patch is not a JSON patch: \(failure)")
            } catch {
                throw AdmissionReviewError("the patch is not JSON: \(error)")
            }
        }
        return verdict
    }

    /// A webhook server's answer: allowed, with an optional patch (base64 in `patch`).
    public static func response(uid: String, allowed: Bool, patch: JSONPatch? = nil, message: String? = nil,
                                code: Int? = nil) -> JSONValue {
        var response: JSONObject = ["uid": .string(uid), "allowed": .bool(allowed)]
        if let patch {
            response["patchType"] = "JSONPatch"
            response["patch"] = .string(Base64.encode(patch.json.serializedBytes()))
        }
        if let message {
            var status: JSONObject = ["message": .string(message)]
            if let code { status["code"] = .int(code) }
            response["status"] = .object(status)
        }
        return ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": .object(response)]
    }
}

public struct AdmissionReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
