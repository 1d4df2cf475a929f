import MeshControlPlane
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Testing

@Suite struct InjectionWebhookTests {
    let webhook = InjectionWebhook()

    func review(_ pod: JSONValue, namespace: String = "mesh") -> JSONValue {
        AdmissionReview.request(AdmissionAttributes(
            operation: .create, group: "", version: "v1", resource: "pods", kind: "Pod", namespace: namespace,
            name: pod["metadata"]?["name"]?.stringValue ?? "", namespaced: true, object: pod), uid: "0f8e-uid")
    }

    func post(_ body: JSONValue, contentType: String = "application/json") -> HTTPResponse {
        webhook.respond(to: HTTPRequest(method: .post, target: "/inject", headers: ["Content-Type": contentType],
                                        body: body.serializedBytes()))
    }

    @Test func answersWithABase64JSONPatchThatInjects() throws {
        let pod = testPod("web", labels: ["app": "web", "version": "v2"])
        let response = post(review(pod))
        #expect(response.status.code == 200)
        let answer = try JSONValue(parsing: response.body)
        let verdict = try AdmissionReview.verdict(answer, uid: "0f8e-uid")
        #expect(verdict.allowed)
        #expect(answer[path: "response.patchType"] == "JSONPatch")
        let patched = try #require(verdict.patch).apply(to: pod)
        #expect(patched[path: "spec.initContainers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["istio-init", "istio-proxy"])
        #expect(patched[path: "metadata.labels"]?["service.istio.io/canonical-name"] == "web")
        #expect(patched[path: "metadata.labels"]?["service.istio.io/canonical-revision"] == "v2")
        #expect(patched[path: "spec.containers"] == pod[path: "spec.containers"])
        // The webhook fills in the namespace from the request before injecting, as Istio's does.
        var inNamespace = pod
        inNamespace[path: "metadata.namespace"] = "mesh"
        let expected = try SidecarInjector.inject(
            pod: inNamespace, namespace: "mesh", workload: WorkloadIdentity(name: "web", namespace: "mesh", apiVersion: "v1", kind: "Pod"))
        #expect(expected == .injected(try verdict.patch!.apply(to: inNamespace)))
    }

    @Test func refusesWhatIstioRefuses() throws {
        #expect(post(review(testPod("web")), contentType: "text/plain").status.code == 415)
        #expect(post(review(testPod("web")), contentType: "text/plain").bodyText == "invalid Content-Type, want `application/json`")
        #expect(webhook.respond(to: HTTPRequest(method: .post, target: "/inject", headers: ["Content-Type": "application/json"],
                                                body: Array("{".utf8))).status.code == 400)
        #expect(webhook.respond(to: HTTPRequest(method: .post, target: "/other", headers: ["Content-Type": "application/json"],
                                                body: Array("{}".utf8))).status.code == 404)

        var bad = testPod("web")
        bad[path: "metadata.annotations"] = ["traffic.sidecar.istio.io/excludeInboundPorts": "80,x"]
        let answer = try JSONValue(parsing: post(review(bad)).body)
        #expect(answer[path: "response.allowed"] == false)
        #expect(answer[path: "response.status.message"]?.stringValue?.hasPrefix(
            "invalid value '80,x' for annotation 'traffic.sidecar.istio.io/excludeInboundPorts': excludeInboundPorts invalid: failed parsing port 'x'") == true)

        var host = testPod("web")
        host[path: "spec.hostNetwork"] = true
        let skipped = try JSONValue(parsing: post(review(host)).body)
        #expect(skipped[path: "response.allowed"] == true)
        #expect(skipped[path: "response.patch"] == nil)
    }

    @Test func selectionFollowsIstio() throws {
        func outcome(_ labels: JSONValue = [:], annotations: JSONValue = [:], namespace: String = "mesh",
                     policy: InjectionSettings.Policy = .enabled) throws -> Bool {
            var pod = testPod("web", labels: labels)
            pod[path: "metadata.annotations"] = annotations
            let result = try SidecarInjector.inject(pod: pod, namespace: namespace,
                                                    workload: WorkloadIdentity.of(pod: pod, namespace: namespace),
                                                    settings: InjectionSettings(policy: policy))
            if case .injected = result { return true }
            return false
        }
        #expect(try outcome())
        #expect(try !outcome(namespace: "kube-system"))
        #expect(try !outcome(["sidecar.istio.io/inject": "false"]))
        #expect(try !outcome(annotations: ["sidecar.istio.io/inject": "false"]))
        // The label wins over the annotation.
        #expect(try outcome(["sidecar.istio.io/inject": "true"], annotations: ["sidecar.istio.io/inject": "false"]))
        #expect(try !outcome(policy: .disabled))
        #expect(try outcome(["sidecar.istio.io/inject": "true"], policy: .disabled))
    }

    @Test func workloadOfAPodFollowsItsController() {
        let replicaSetPod: JSONValue = ["metadata": [
            "generateName": "web-5d4b8c9f7-", "labels": ["pod-template-hash": "5d4b8c9f7"],
            "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4b8c9f7", "controller": true]],
        ]]
        #expect(WorkloadIdentity.of(pod: replicaSetPod, namespace: "shop")
            == WorkloadIdentity(name: "web", namespace: "shop", apiVersion: "apps/v1", kind: "Deployment"))
        #expect(WorkloadIdentity.of(pod: replicaSetPod, namespace: "shop").owner
            == "kubernetes://apis/apps/v1/namespaces/shop/deployments/web")
        #expect(WorkloadIdentity.of(pod: ["metadata": ["name": "solo"]], namespace: "shop").owner
            == "kubernetes://apis/v1/namespaces/shop/pods/solo")
    }
}

/// The whole path: the API server in process calls meshd's injector over
/// HTTP on 127.0.0.1, found through the istiod Service and its Endpoints,
/// as registered by `istio-sidecar-injector`.
@Suite struct InjectionEndToEndTests {
    @Test func podsInLabelledNamespacesAreInjectedThroughTheWebhook() async throws {
        let api = APIHarness()
        let injector = try await InjectorService.start(api: api.server, address: .loopback, port: 0)
        let serving = Task { try await injector.run() }

        // Registration and the istiod Service are in place.
        let registration = await api.call(.get, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector")
        #expect(registration.code == 200)
        #expect(registration.body[path: "webhooks"]?.arrayValue?.count == 4)
        let endpoints = await api.call(.get, "/api/v1/namespaces/istio-system/endpoints/istiod")
        #expect(endpoints.body[path: "subsets"]?[0]?["addresses"]?[0]?["ip"] == "127.0.0.1")
        let service = await api.call(.get, "/api/v1/namespaces/istio-system/services/istiod")
        #expect(service.body[path: "spec.selector"] == nil)
        #expect(service.body[path: "spec.ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } == [15010, 15012, 443, 15014])

        await api.call(.post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": ["name": "mesh", "labels": ["istio-injection": "enabled"]]])
        await api.call(.post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": ["name": "revved", "labels": ["istio.io/rev": "default"]]])
        await api.namespace("plain")

        func initContainers(_ reply: APIHarness.Reply) -> [String] {
            (reply.body[path: "spec.initContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        let injected = await api.call(.post, "/api/v1/namespaces/mesh/pods", testPod("web", labels: ["app": "web"]))
        #expect(injected.code == 201, "\(injected.body)")
        #expect(initContainers(injected) == ["istio-init", "istio-proxy"])
        #expect(injected.body[path: "metadata.labels"]?["security.istio.io/tlsMode"] == "istio")
        #expect(injected.body[path: "metadata.annotations"]?["sidecar.istio.io/status"] != nil)
        let proxy = injected.body[path: "spec.initContainers"]?[1]
        #expect(proxy?["restartPolicy"] == "Always")
        #expect(proxy?[path: "securityContext.runAsUser"] == 1337)
        let stored = await api.call(.get, "/api/v1/namespaces/mesh/pods/web")
        #expect(initContainers(stored) == ["istio-init", "istio-proxy"])

        #expect(initContainers(await api.call(.post, "/api/v1/namespaces/revved/pods", testPod("r"))) == ["istio-init", "istio-proxy"])
        let plain = await api.call(.post, "/api/v1/namespaces/plain/pods", testPod("web"))
        #expect(plain.code == 201)
        #expect(initContainers(plain) == [])
        // In an unlabelled namespace a pod can ask for itself; in an injected one it can opt out.
        let asked = await api.call(.post, "/api/v1/namespaces/plain/pods", testPod("asks", labels: ["sidecar.istio.io/inject": "true"]))
        #expect(initContainers(asked) == ["istio-init", "istio-proxy"])
        let optedOut = await api.call(.post, "/api/v1/namespaces/mesh/pods", testPod("out", labels: ["sidecar.istio.io/inject": "false"]))
        #expect(optedOut.code == 201)
        #expect(initContainers(optedOut) == [])

        // A pod the injector refuses is refused by the API server, in Kubernetes' words.
        var bad = testPod("bad")
        bad[path: "metadata.annotations"] = ["traffic.sidecar.istio.io/includeOutboundIPRanges": "bad"]
        let refused = await api.call(.post, "/api/v1/namespaces/mesh/pods", bad)
        #expect(refused.code == 400)
        #expect(refused.message.hasPrefix(#"admission webhook "namespace.sidecar-injector.istio.io" denied the request: invalid value 'bad'"#),
                "\(refused.message)")

        // Starting again (a daemon restart) keeps one registration.
        let again = try await InjectorService.start(api: api.server, address: .loopback, port: 0)
        let registrations = await api.call(.get, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations")
        #expect(registrations.body["items"]?.arrayValue?.count == 1)
        await again.stop()
        serving.cancel()
        await injector.stop()
    }
}
