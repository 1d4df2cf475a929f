import MeshHTTP
import MeshModel

/// Controllers write through the API server in this process, not straight
/// into the store, so that what they create is admitted as a client's
/// object would be: defaulted, validated, bound to the node, checked by
/// ServiceAccount admission, allocated a ClusterIP (and, once there are
/// webhooks, injected with a sidecar). Kubernetes' controllers go through
/// the apiserver for the same reason. Reads go to the store directly.
struct LocalAPI: Sendable {
    let server: APIServer

    var store: ResourceStore { server.store }

    @discardableResult
    func create(_ descriptor: ResourceDescriptor, _ object: JSONValue) async throws(StatusObject) -> JSONValue {
        let namespace = object["metadata"]?["namespace"]?.stringValue
        return try await send(.post, APIPath.collection(descriptor, namespace: namespace), body: object)
    }

    /// PUT of the whole object (pinned to its resourceVersion when it carries one).
    @discardableResult
    func update(_ descriptor: ResourceDescriptor, _ object: JSONValue) async throws(StatusObject) -> JSONValue {
        try await send(.put, path(descriptor, object), body: object)
    }

    /// PUT of `/status`.
    @discardableResult
    func updateStatus(_ descriptor: ResourceDescriptor, _ object: JSONValue) async throws(StatusObject) -> JSONValue {
        try await send(.put, path(descriptor, object) + "/status", body: object)
    }

    /// A JSON merge patch.
    @discardableResult
    func patch(_ descriptor: ResourceDescriptor, namespace: String?, name: String,
               _ patch: JSONValue) async throws(StatusObject) -> JSONValue {
        try await send(.patch, APIPath.object(descriptor, namespace: namespace, name: name), body: patch,
                       contentType: "application/merge-patch+json")
    }

    /// Deletes the object if it is still the one with `uid` (when given);
    /// one that is already gone is not an error.
    func delete(_ descriptor: ResourceDescriptor, namespace: String?, name: String, uid: String? = nil) async throws(StatusObject) {
        let body: JSONValue? = uid.map { ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": .string($0)]] }
        do throws(StatusObject) {
            try await send(.delete, APIPath.object(descriptor, namespace: namespace, name: name), body: body)
        } catch {
            if error.code != 404 { throw error }
        }
    }

    private func path(_ descriptor: ResourceDescriptor, _ object: JSONValue) -> String {
        APIPath.object(descriptor, namespace: object["metadata"]?["namespace"]?.stringValue,
                       name: object["metadata"]?["name"]?.stringValue ?? "")
    }

    @discardableResult
    private func send(_ method: HTTPMethod, _ target: String, body: JSONValue?,
                      contentType: String = "application/json") async throws(StatusObject) -> JSONValue {
        let request = HTTPRequest(method: method, target: target, headers: ["Content-Type": contentType],
                                  body: body?.serializedBytes() ?? [])
        let response = await server.respond(to: request)
        let object = (try? JSONValue(parsing: response.body)) ?? .null
        guard (200..<300).contains(response.status.code) else {
            throw StatusObject(json: object)
                ?? StatusObject(code: response.status.code, reason: .internalError, message: response.bodyText)
        }
        return object
    }
}
