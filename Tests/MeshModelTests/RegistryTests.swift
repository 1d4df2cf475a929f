import MeshModel
import Testing

@Suite struct RegistryTests {
    @Test(arguments: [
        ("ns", "Namespace"), ("po", "Pod"), ("pods", "Pod"), ("deploy", "Deployment"), ("deployments.apps", "Deployment"),
        ("svc", "Service"), ("sa", "ServiceAccount"), ("ep", "Endpoints"), ("cm", "ConfigMap"), ("configmap", "ConfigMap"),
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration"),
        ("ValidatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
    ])
    func findsKubernetesKindsByTheNamesKubectlAccepts(name: String, kind: String) {
        #expect(ResourceRegistry.resource(named: name)?.descriptor.kind == kind)
    }

    @Test func findsKindsByManifestAndPath() {
        #expect(ResourceRegistry.resource(apiVersion: "apps/v1", kind: "Deployment")?.descriptor.plural == "deployments")
        #expect(ResourceRegistry.resource(apiVersion: "v1", kind: "Deployment") == nil)
        #expect(ResourceRegistry.resource(group: "", plural: "endpoints")?.descriptor.kind == "Endpoints")
        #expect(ResourceRegistry.resource(group: "admissionregistration.k8s.io", plural: "mutatingwebhookconfigurations")?
            .descriptor.namespaced == false)
        #expect(ResourceRegistry.resource(group: "", plural: "namespaces")?.descriptor.namespaced == false)
        #expect(ResourceRegistry.resource(group: "", plural: "pods")?.descriptor.namespaced == true)
    }

    @Test func everyKubernetesKindIsRegisteredOnce() {
        let kinds = ResourceRegistry.all.map(\.descriptor.kind)
        for kind in ["Namespace", "Pod", "Deployment", "Service", "ServiceAccount", "Endpoints", "ConfigMap",
                     "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
            #expect(kinds.filter { $0 == kind }.count == 1, "\(kind)")
        }
        let shortNames = ResourceRegistry.all.flatMap(\.descriptor.shortNames)
        #expect(Set(shortNames).count == shortNames.count)
    }

    @Test func checksThroughTheRegistryEntry() throws {
        let entry = try #require(ResourceRegistry.resource(apiVersion: "v1", kind: "ConfigMap"))
        let result = entry.check(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["k": "v"]])
        #expect(result.isValid)
        #expect(result.object == ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["k": "v"]])
        let bad = entry.check("not an object")
        #expect(bad.errors.map(\.description) == [#"Invalid value: "string": body must be of type object: "string""#])
    }
}
