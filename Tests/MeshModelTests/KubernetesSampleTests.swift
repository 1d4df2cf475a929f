import MeshModel
import Testing

@Suite(.enabled(if: KubernetesManifests.available, "needs ../shared/istio beside the repository"))
struct KubernetesSampleTests {
    static let samples = [
        "samples/bookinfo/platform/kube/bookinfo.yaml", "samples/helloworld/helloworld.yaml",
        "samples/httpbin/httpbin.yaml", "samples/sleep/sleep.yaml", "samples/curl/curl.yaml",
        "pkg/kube/inject/testdata/inject/hello.yaml", "pkg/kube/inject/testdata/inject/hello.yaml.injected",
        "pkg/kube/inject/testdata/inject/hello-old-version.yaml.injected",
        "pkg/kube/inject/testdata/inject/hello-host-network.yaml.injected",
        "pkg/kube/inject/testdata/inject/hello-ignore.yaml.injected",
        "pkg/kube/inject/testdata/inject/traffic-annotations.yaml.injected",
    ]

    /// Every Kubernetes object in Istio's samples and injector outputs
    /// decodes, defaults and validates with no diagnostic at all (no unknown
    /// field), even in strict mode.
    @Test(arguments: samples)
    func decodesWithoutDiagnostics(file: String) throws {
        var checked = 0
        for document in try KubernetesManifests.documents(file) {
            guard let result = KubernetesManifests.check(document, strict: true) else { continue }
            let name = "\(document["kind"]?.stringValue ?? "?")/\(document["metadata"]?["name"]?.stringValue ?? "?")"
            #expect(result.diagnostics.map(\.description) == [], "\(file): \(name)")
            #expect(result.object != nil, "\(file): \(name)")
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test func bookinfoHasTheWholeTopology() throws {
        let kinds = try KubernetesManifests.documents("samples/bookinfo/platform/kube/bookinfo.yaml")
            .compactMap { $0["kind"]?.stringValue }
        #expect(kinds.filter { $0 == "Deployment" }.count == 6)
        #expect(kinds.filter { $0 == "Service" }.count == 4)
        #expect(kinds.filter { $0 == "ServiceAccount" }.count == 4)
    }

    /// Decoding keeps what the manifest says: the typed form agrees with the text.
    @Test func typedFormsMatchTheManifest() throws {
        let documents = try KubernetesManifests.documents("samples/httpbin/httpbin.yaml")
        let service = try #require(documents.first { $0["kind"] == "Service" })
        let typed = try ResourceCodec.decode(Service.self, from: service)
        #expect(typed.spec.ports?.first?.port == 8000)
        #expect(typed.spec.ports?.first?.targetPort == .int(8080))
        #expect(typed.spec.selector == ["app": "httpbin"])
        let deployment = try ResourceCodec.decode(
            Deployment.self, from: try #require(documents.first { $0["kind"] == "Deployment" }))
        #expect(deployment.spec.template.spec.serviceAccountName == "httpbin")
        #expect(deployment.spec.template.spec.containers.first?.ports?.first?.containerPort == 8080)
    }

    /// The injected pod carries the native sidecar: an init container with restartPolicy Always and probes.
    @Test func injectedPodKeepsItsSidecar() throws {
        let documents = try KubernetesManifests.documents("pkg/kube/inject/testdata/inject/hello.yaml.injected")
        let deployment = try ResourceCodec.decode(Deployment.self, from: try #require(documents.first))
        let proxy = try #require(deployment.spec.template.spec.initContainers?.first { $0.name == "istio-proxy" })
        #expect(proxy.restartPolicy == .always)
        #expect(proxy.readinessProbe?.httpGet?.port == .int(15021))
        #expect(proxy.env?.first { $0.name == "POD_NAME" }?.valueFrom?.fieldRef?.fieldPath == "metadata.name")
        #expect(proxy.securityContext?.runAsUser == 1337)
        #expect(proxy.resources?.limits?["memory"]?.value == 1_073_741_824)
        let volumes = deployment.spec.template.spec.volumes ?? []
        #expect(volumes.first { $0.name == "istio-token" }?.projected?.sources?.first?.serviceAccountToken?.audience == "istio-ca")
    }
}
