import MeshControlPlane
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization
import Testing

/// A user's own webhook: a tiny HTTP server on 127.0.0.1 (port 0) that
/// answers AdmissionReviews with `decide` and keeps what it was sent.
final class TestWebhook: Sendable {
    let http = HTTPServer()
    let listener: SocketListener
    let serving: Task<Void, any Error>
    let recorder = Recorder()

    final class Recorder: Sendable {
        let items = Mutex<[JSONValue]>([])
    }

    init(_ decide: @escaping @Sendable (_ request: JSONValue) -> JSONValue) throws {
        listener = try SocketListener.bind(.loopback(port: 0), group: EventLoopGroup.shared)
        let recorder = recorder
        let handler = HTTPSimpleHandler { request in
            let review = (try? JSONValue(parsing: request.body)) ?? .null
            recorder.items.withLock { $0.append(review) }
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"],
                                body: decide(review["request"] ?? .null).serializedBytes())
        }
        let http = http
        let listener = listener
        serving = Task { try await http.serve(listener, handler: handler) }
    }

    var port: Int { Int(listener.localAddress.port ?? 0) }
    var url: String { "http://127.0.0.1:\(port)/admit" }
    var requests: [JSONValue] { recorder.items.withLock { $0 } }

    func stop() async {
        serving.cancel()
        await http.shutdown(gracePeriod: .seconds(1))
    }

    /// Allows, adding label `key: value` with a JSONPatch.
    static func labelling(_ key: String, _ value: String) -> @Sendable (JSONValue) -> JSONValue {
        { request in
            let uid = request["uid"]?.stringValue ?? ""
            let hasLabels = request["object"]?["metadata"]?["labels"] != nil
            var operations: [JSONPatch.Operation] = []
            if !hasLabels { operations.append(.add(path: "/metadata/labels", value: .object([:]))) }
            operations.append(.add(path: "/metadata/labels/" + JSONPatch.escape(key), value: .string(value)))
            return AdmissionReview.response(uid: uid, allowed: true, patch: JSONPatch(operations))
        }
    }

    /// Denies with `message` when the object has label `forbidden`.
    static func denying(_ message: String) -> @Sendable (JSONValue) -> JSONValue {
        { request in
            let uid = request["uid"]?.stringValue ?? ""
            let forbidden = request["object"]?["metadata"]?["labels"]?["forbidden"] != nil
            return AdmissionReview.response(uid: uid, allowed: !forbidden, message: forbidden ? message : nil,
                                            code: forbidden ? 403 : nil)
        }
    }
}

/// A webhook configuration as a user would apply it.
func webhookConfiguration(kind: String, name: String, webhook: String, clientConfig: JSONValue,
                          operations: [JSONValue] = ["CREATE"], failurePolicy: String? = nil,
                          namespaceSelector: JSONValue? = nil, objectSelector: JSONValue? = nil,
                          timeoutSeconds: Int? = nil) -> JSONValue {
    var hook: JSONObject = [
        "name": .string(webhook), "clientConfig": clientConfig,
        "rules": [["operations": .array(operations), "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
        "sideEffects": "None", "admissionReviewVersions": ["v1"],
    ]
    if let failurePolicy { hook["failurePolicy"] = .string(failurePolicy) }
    if let namespaceSelector { hook["namespaceSelector"] = namespaceSelector }
    if let objectSelector { hook["objectSelector"] = objectSelector }
    if let timeoutSeconds { hook["timeoutSeconds"] = .int(timeoutSeconds) }
    return ["apiVersion": "admissionregistration.k8s.io/v1", "kind": .string(kind), "metadata": ["name": .string(name)],
            "webhooks": [.object(hook)]]
}

func testPod(_ name: String, labels: JSONValue = [:]) -> JSONValue {
    ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": labels],
     "spec": ["containers": [["name": "app", "image": "fake.io/app:1"]]]]
}

extension APIHarness {
    func register(_ configuration: JSONValue) async {
        let plural = configuration["kind"]?.stringValue == "MutatingWebhookConfiguration"
            ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations"
        let reply = await call(.post, "/apis/admissionregistration.k8s.io/v1/\(plural)", configuration)
        precondition(reply.code == 201, "register: \(reply.body)")
    }
}

@Suite struct AdmissionWebhookTests {
    @Test func mutatingWebhookPatchesWhatIsStored() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        let webhook = try TestWebhook(TestWebhook.labelling("admitted-by", "test-webhook"))
        defer { Task { await webhook.stop() } }
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "label-pods",
                                                webhook: "label.test.meshlab.io", clientConfig: ["url": .string(webhook.url)]))

        let created = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("web"))
        #expect(created.code == 201, "\(created.body)")
        #expect(created.body[path: "metadata.labels"]?["admitted-by"] == "test-webhook")
        let stored = await api.call(.get, "/api/v1/namespaces/shop/pods/web")
        #expect(stored.body[path: "metadata.labels"]?["admitted-by"] == "test-webhook")

        // What the webhook got: a real AdmissionReview v1.
        let review = try #require(webhook.requests.first)
        #expect(review["apiVersion"] == "admission.k8s.io/v1")
        #expect(review["kind"] == "AdmissionReview")
        let request = try #require(review["request"])
        #expect(request["uid"]?.stringValue?.count == 36)
        #expect(request["kind"] == ["group": "", "version": "v1", "kind": "Pod"])
        #expect(request["resource"] == ["group": "", "version": "v1", "resource": "pods"])
        #expect(request["namespace"] == "shop")
        #expect(request["name"] == "web")
        #expect(request["operation"] == "CREATE")
        #expect(request["dryRun"] == false)
        #expect(request["oldObject"] == .null)
        #expect(request["userInfo"]?["username"] == "system:admin")
        #expect(request[path: "object.spec.containers"]?[0]?["name"] == "app")
        // Defaulted before the webhook sees it, as the apiserver does.
        #expect(request[path: "object.spec.restartPolicy"] == "Always")

        // Other kinds do not match the rule.
        let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]]
        #expect(await api.call(.post, "/api/v1/namespaces/shop/configmaps", configMap).code == 201)
        #expect(webhook.requests.count == 1)
    }

    @Test func validatingWebhookDeniesInKubernetesWords() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        let webhook = try TestWebhook(TestWebhook.denying("pods may not be forbidden"))
        defer { Task { await webhook.stop() } }
        await api.register(webhookConfiguration(kind: "ValidatingWebhookConfiguration", name: "deny-pods",
                                                webhook: "deny.test.meshlab.io", clientConfig: ["url": .string(webhook.url)],
                                                operations: ["CREATE", "UPDATE"]))

        let denied = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("bad", labels: ["forbidden": "yes"]))
        #expect(denied.code == 403)
        #expect(denied.message == #"admission webhook "deny.test.meshlab.io" denied the request: pods may not be forbidden"#)
        #expect(await api.call(.get, "/api/v1/namespaces/shop/pods/bad").code == 404)

        #expect(await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("good")).code == 201)
        // An UPDATE goes through it too, with the old object.
        let patched = await api.raw(.patch, "/api/v1/namespaces/shop/pods/good",
                                    body: #"{"metadata":{"labels":{"forbidden":"now"}}}"#, contentType: "application/merge-patch+json")
        #expect(patched.code == 403)
        let update = try #require(webhook.requests.last?["request"])
        #expect(update["operation"] == "UPDATE")
        #expect(update[path: "oldObject.metadata.name"] == "good")
        #expect(update[path: "object.metadata.labels"]?["forbidden"] == "now")
    }

    @Test func mutatingRunsBeforeValidatingAndInNameOrder() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        let first = try TestWebhook(TestWebhook.labelling("step", "a"))
        let second = try TestWebhook(TestWebhook.labelling("forbidden", "by-b"))
        let validator = try TestWebhook(TestWebhook.denying("b marked it"))
        defer { Task { await first.stop(); await second.stop(); await validator.stop() } }
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "b-second",
                                                webhook: "b.test.meshlab.io", clientConfig: ["url": .string(second.url)]))
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "a-first",
                                                webhook: "a.test.meshlab.io", clientConfig: ["url": .string(first.url)]))
        await api.register(webhookConfiguration(kind: "ValidatingWebhookConfiguration", name: "v",
                                                webhook: "v.test.meshlab.io", clientConfig: ["url": .string(validator.url)]))
        let reply = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("web"))
        #expect(reply.message == #"admission webhook "v.test.meshlab.io" denied the request: b marked it"#)
        // b saw a's patch: a ran first.
        #expect(second.requests.first?[path: "request.object.metadata.labels"]?["step"] == "a")
    }

    @Test func failurePolicyDecidesWhenTheWebhookIsDown() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        // Nothing listens on port 1 of the loopback.
        let down: JSONValue = ["url": "http://127.0.0.1:1/admit"]
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "down-ignored",
                                                webhook: "ignored.test.meshlab.io", clientConfig: down, failurePolicy: "Ignore"))
        #expect(await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("one")).code == 201)

        await api.register(webhookConfiguration(kind: "ValidatingWebhookConfiguration", name: "down-failing",
                                                webhook: "failing.test.meshlab.io", clientConfig: down, timeoutSeconds: 2))
        let failed = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("two"))
        #expect(failed.code == 500)
        #expect(failed.reason == "InternalError")
        #expect(failed.message == #"Internal error occurred: failed calling webhook "failing.test.meshlab.io": failed to call webhook: Post "http://127.0.0.1:1/admit?timeout=2s": dial tcp 127.0.0.1:1: connect: connection refused"#)
    }

    @Test func httpsWebhooksWaitForMeshTLS() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "tls",
                                                webhook: "tls.test.meshlab.io", clientConfig: ["url": "https://127.0.0.1:8443/x"]))
        let failed = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("web"))
        #expect(failed.code == 500)
        #expect(failed.message.contains("TLS webhooks arrive with MeshTLS"), "\(failed.message)")
    }

    @Test func selectorsPickNamespacesAndObjects() async throws {
        let api = APIHarness()
        await api.namespace("plain")
        await api.call(.post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": ["name": "team-a", "labels": ["team": "a"]]])
        let webhook = try TestWebhook(TestWebhook.labelling("seen", "yes"))
        defer { Task { await webhook.stop() } }
        await api.register(webhookConfiguration(
            kind: "MutatingWebhookConfiguration", name: "selective", webhook: "selective.test.meshlab.io",
            clientConfig: ["url": .string(webhook.url)],
            namespaceSelector: ["matchLabels": ["team": "a"]],
            objectSelector: ["matchExpressions": [["key": "skip", "operator": "DoesNotExist"]]]))

        let inPlain = await api.call(.post, "/api/v1/namespaces/plain/pods", testPod("p"))
        #expect(inPlain.body[path: "metadata.labels"]?["seen"] == nil)
        let inTeam = await api.call(.post, "/api/v1/namespaces/team-a/pods", testPod("t"))
        #expect(inTeam.body[path: "metadata.labels"]?["seen"] == "yes")
        let skipped = await api.call(.post, "/api/v1/namespaces/team-a/pods", testPod("s", labels: ["skip": "1"]))
        #expect(skipped.code == 201)
        #expect(skipped.body[path: "metadata.labels"]?["seen"] == nil)
        #expect(webhook.requests.count == 1)
    }

    @Test func serviceReferenceGoesThroughTheServicePortAndEndpoints() async throws {
        let api = APIHarness()
        await api.namespace("shop")
        await api.namespace("hooks")
        let webhook = try TestWebhook(TestWebhook.labelling("via", "service"))
        defer { Task { await webhook.stop() } }
        await api.call(.post, "/api/v1/namespaces/hooks/services", [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "labeller"],
            "spec": ["ports": [["name": "https-webhook", "port": 443, "targetPort": 9443]]],
        ])
        let clientConfig: JSONValue = ["service": ["namespace": "hooks", "name": "labeller", "path": "/admit"]]
        await api.register(webhookConfiguration(kind: "MutatingWebhookConfiguration", name: "svc",
                                                webhook: "svc.test.meshlab.io", clientConfig: clientConfig))
        let noEndpoints = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("early"))
        #expect(noEndpoints.message.hasSuffix(#"no endpoints available for service "labeller""#), "\(noEndpoints.message)")

        await api.call(.post, "/api/v1/namespaces/hooks/endpoints", [
            "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "labeller"],
            "subsets": [["addresses": [["ip": "127.0.0.1"]], "ports": [["name": "https-webhook", "port": .int(webhook.port)]]]],
        ])
        let created = await api.call(.post, "/api/v1/namespaces/shop/pods", testPod("web"))
        #expect(created.code == 201, "\(created.body)")
        #expect(created.body[path: "metadata.labels"]?["via"] == "service")
    }

    @Test func patchesRoundTripThroughBase64() throws {
        for text in ["", "a", "ab", "abc", "abcd", #"[{"op":"add"}]"#] {
            #expect(Base64.decode(Base64.encode(Array(text.utf8))) == Array(text.utf8))
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
        #expect(Base64.decode("a=bc") == nil)
        #expect(Base64.decode("abc") == nil)
    }
}
