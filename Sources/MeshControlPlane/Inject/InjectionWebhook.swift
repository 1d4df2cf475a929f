import MeshHTTP
import MeshModel

/// meshd's `/inject` endpoint (Istio's pkg/kube/inject/webhook.go): an
/// AdmissionReview v1 with a Pod in, the same review out with `allowed`
/// and the sidecar as a base64 JSONPatch. A skipped pod is allowed with no
/// patch; a pod whose annotations cannot be honoured is refused.
public struct InjectionWebhook: HTTPHandler {
    public let settings: InjectionSettings
    let maxBodyBytes = 3 << 20

    public init(settings: InjectionSettings = InjectionSettings()) { self.settings = settings }

    public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        let body: [UInt8]
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch HTTPError.bodyTooLarge {
            return try await response.send(HTTPResponse(status: HTTPStatus(code: 413), text: "request body too large"))
        }
        try await response.send(respond(to: HTTPRequest(head: request.head, body: body)))
    }

    /// Answers one whole request.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard request.path == "/inject" || request.path.hasPrefix("/inject/") else {
            return HTTPResponse(status: .notFound, text: "404 page not found")
        }
        guard request.method == .post else { return HTTPResponse(status: HTTPStatus(code: 405), text: "method not allowed") }
        guard !request.body.isEmpty else { return HTTPResponse(status: .badRequest, text: "no body found") }
        let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first.map {
            String($0).trimmingSpaces().lowercased()
        }
        guard contentType == "application/json" else {
            return HTTPResponse(status: HTTPStatus(code: 415), text: "invalid Content-Type, want `application/json`")
        }
        guard let review = try? JSONValue(parsing: request.body), let admission = review["request"], admission.objectValue != nil
        else {
            return HTTPResponse(status: .badRequest, text: "could not decode body: not an AdmissionReview with a request")
        }
        let answer = Self.review(admission, settings: settings)
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: answer.serializedBytes())
    }

    /// The AdmissionReview answering `request` (pure).
    public static func review(_ request: JSONValue, settings: InjectionSettings) -> JSONValue {
        let uid = request["uid"]?.stringValue ?? ""
        guard var pod = request["object"], pod.objectValue != nil else {
            return AdmissionReview.response(uid: uid, allowed: false, message: "the request carries no object")
        }
        let namespace = request["namespace"]?.stringValue ?? pod["metadata"]?["namespace"]?.stringValue ?? "default"
        if (pod["metadata"]?["namespace"]?.stringValue ?? "").isEmpty { pod[path: "metadata.namespace"] = .string(namespace) }
        do throws(InjectionRejection) {
            let outcome = try SidecarInjector.inject(pod: pod, namespace: namespace,
                                                     workload: WorkloadIdentity.of(pod: pod, namespace: namespace),
                                                     settings: settings)
            guard case .injected(let injected) = outcome else { return AdmissionReview.response(uid: uid, allowed: true) }
            return AdmissionReview.response(uid: uid, allowed: true, patch: JSONPatchDiff.patch(from: pod, to: injected))
        } catch {
            return AdmissionReview.response(uid: uid, allowed: false, message: error.message)
        }
    }
}

/// A JSONPatch that turns one document into another: objects member by
/// member, anything else (arrays included) replaced whole. Not minimal,
/// always correct.
public enum JSONPatchDiff {
    public static func patch(from old: JSONValue, to new: JSONValue) -> JSONPatch {
        var operations: [JSONPatch.Operation] = []
        diff(old, new, pointer: "", into: &operations)
        return JSONPatch(operations)
    }

    static func diff(_ old: JSONValue, _ new: JSONValue, pointer: String, into operations: inout [JSONPatch.Operation]) {
        guard old != new else { return }
        guard case .object(let before) = old, case .object(let after) = new else {
            operations.append(.replace(path: pointer, value: new))
            return
        }
        for (key, _) in before where after[key] == nil {
            operations.append(.remove(path: pointer + "/" + JSONPatch.escape(key)))
        }
        for (key, value) in after {
            let path = pointer + "/" + JSONPatch.escape(key)
            if let previous = before[key] {
                diff(previous, value, pointer: path, into: &operations)
            } else {
                operations.append(.add(path: path, value: value))
            }
        }
    }
}
