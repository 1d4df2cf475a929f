import MeshControlPlane
import MeshModel
import Testing

@Suite struct APIPathTests {
    typealias R = APIPath.ResourcePath

    @Test(arguments: [
        ("/api", APIPath.coreVersions),
        ("/apis", .groups),
        ("/api/v1", .groupVersion(group: "", version: "v1")),
        ("/apis/networking.istio.io/v1", .groupVersion(group: "networking.istio.io", version: "v1")),
        ("/api/v1/namespaces", .resource(R(group: "", version: "v1", plural: "namespaces"))),
        ("/api/v1/namespaces/default", .resource(R(group: "", version: "v1", plural: "namespaces", name: "default"))),
        ("/api/v1/namespaces/default/pods",
         .resource(R(group: "", version: "v1", plural: "pods", namespace: "default"))),
        ("/api/v1/namespaces/default/pods/web/status",
         .resource(R(group: "", version: "v1", plural: "pods", namespace: "default", name: "web", subresource: "status"))),
        ("/api/v1/pods", .resource(R(group: "", version: "v1", plural: "pods"))),
        ("/apis/apps/v1/namespaces/shop/deployments/cart",
         .resource(R(group: "apps", version: "v1", plural: "deployments", namespace: "shop", name: "cart"))),
        ("/apis/networking.istio.io/v1alpha3/namespaces/x/virtualservices/",
         .resource(R(group: "networking.istio.io", version: "v1alpha3", plural: "virtualservices", namespace: "x"))),
    ])
    func parsesKubernetesPaths(path: String, expected: APIPath) {
        #expect(APIPath(path) == expected)
    }

    @Test(arguments: ["/", "/healthz", "/apis/apps", "/api/v1/namespaces/a/pods/b/status/extra"])
    func rejectsOtherPaths(path: String) {
        #expect(APIPath(path) == nil)
    }
}

@Suite struct MergePatchTests {
    // The examples of RFC 7386 appendix A.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func followsRFC7386(target: String, patch: String, expected: String) throws {
        let result = applyMergePatch(try JSONValue(parsing: patch), to: try JSONValue(parsing: target))
        #expect(result == (try JSONValue(parsing: expected)))
    }
}

@Suite struct StatusObjectTests {
    let pods = ResourceDescriptor(group: "", versions: ["v1"], kind: "Pod", plural: "pods")
    let vs = ResourceDescriptor(group: "networking.istio.io", versions: ["v1"], kind: "VirtualService",
                                plural: "virtualservices")

    @Test func wordsMessagesAsTheAPIServerDoes() {
        #expect(StatusObject.notFound(pods, name: "web").message == #"pods "web" not found"#)
        #expect(StatusObject.alreadyExists(vs, name: "r").message
            == #"virtualservices.networking.istio.io "r" already exists"#)
        #expect(StatusObject.conflict(pods, name: "web").code == 409)
        let invalid = StatusObject.invalid(vs, name: "r", errors: [
            .error("spec.http[0].route[1].weight", "weight must be >= 0"), .required("spec.hosts"),
        ])
        #expect(invalid.message
            == #"VirtualService.networking.istio.io "r" is invalid: [spec.http[0].route[1].weight: weight must be >= 0, spec.hosts: Required value]"#)
        #expect(invalid.causes.map(\.reason) == ["FieldValueInvalid", "FieldValueRequired"])
    }

    @Test func roundTripsThroughJSON() {
        let status = StatusObject.notFound(vs, name: "r")
        let back = StatusObject(json: status.json)
        #expect(back == status)
        #expect(status.json["code"] == 404)
        #expect(status.json["details"]?["group"] == "networking.istio.io")
    }
}
