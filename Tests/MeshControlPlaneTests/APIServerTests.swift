import MeshControlPlane
import MeshHTTP
import MeshModel
import Testing

/// Drives the API server's request handling in memory (no sockets).
struct APIHarness {
    let store = ResourceStore(options: StoreOptions(log: { _ in }))
    let server: APIServer

    init() {
        server = APIServer(store: store)
        server.setReady(true)
    }

    struct Reply {
        var code: Int
        var body: JSONValue
        var headers: HTTPHeaders
        var message: String { body["message"]?.stringValue ?? "" }
        var reason: String { body["reason"]?.stringValue ?? "" }
    }

    @discardableResult
    func call(_ method: HTTPMethod, _ target: String, _ body: JSONValue? = nil,
              contentType: String = "application/json", accept: String? = nil) async -> Reply {
        var headers: HTTPHeaders = ["Content-Type": contentType]
        if let accept { headers.add(name: "Accept", value: accept) }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: body?.serializedBytes() ?? [])
        let response = await server.respond(to: request)
        let parsed = (try? JSONValue(parsing: response.body)) ?? .string(response.bodyText)
        return Reply(code: response.status.code, body: parsed, headers: response.headers)
    }

    func raw(_ method: HTTPMethod, _ target: String, body: String, contentType: String) async -> Reply {
        let request = HTTPRequest(method: method, target: target, headers: ["Content-Type": contentType],
                                  body: Array(body.utf8))
        let response = await server.respond(to: request)
        return Reply(code: response.status.code, body: (try? JSONValue(parsing: response.body)) ?? .null,
                     headers: response.headers)
    }

    func namespace(_ name: String) async {
        let reply = await call(.post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        precondition(reply.code == 201, "namespace \(name): \(reply.body)")
    }
}

let reviewsVS: JSONValue = [
    "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
    "metadata": ["name": "reviews", "labels": ["app": "reviews"]],
    "spec": [
        "hosts": ["reviews"],
        "http": [["route": [
            ["destination": ["host": "reviews", "subset": "v1"], "weight": 90],
            ["destination": ["host": "reviews", "subset": "v2"], "weight": 10],
        ]]],
    ],
]

func configMap(_ name: String, labels: JSONValue = [:], data: JSONValue = ["k": "v"]) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": labels], "data": data]
}

@Suite struct APIDiscoveryTests {
    @Test func servesHealthVersionAndDiscovery() async {
        let api = APIHarness()
        #expect(await api.call(.get, "/healthz").code == 200)
        #expect(await api.call(.get, "/version").body["gitVersion"]?.stringValue?.hasPrefix("v1.31") == true)
        let groups = await api.call(.get, "/apis").body["groups"]?.arrayValue ?? []
        let istio = groups.first { $0["name"] == "networking.istio.io" }
        #expect(istio?["versions"]?.arrayValue?.compactMap { $0["version"]?.stringValue } == ["v1", "v1beta1", "v1alpha3"])
        #expect(istio?["preferredVersion"]?["version"] == "v1")
        let core = await api.call(.get, "/api/v1").body["resources"]?.arrayValue ?? []
        let pods = core.first { $0["name"] == "pods" }
        #expect(pods?["shortNames"] == ["po"])
        #expect(pods?["namespaced"] == true)
        #expect(await api.call(.get, "/apis/nope.example.com/v1").code == 404)
        #expect(await api.call(.get, "/nowhere").code == 404)
    }

    @Test func readyzFollowsTheDaemon() async {
        let api = APIHarness()
        api.server.setReady(false)
        #expect(await api.call(.get, "/readyz").code == 500)
        api.server.setReady(true)
        #expect(await api.call(.get, "/readyz").code == 200)
    }
}

@Suite struct APICreateTests {
    @Test func createsAndServesEveryVersionOfAnIstioKind() async {
        let api = APIHarness()
        await api.namespace("shop")
        let created = await api.call(.post, "/apis/networking.istio.io/v1alpha3/namespaces/shop/virtualservices", reviewsVS)
        #expect(created.code == 201)
        #expect(created.body["apiVersion"] == "networking.istio.io/v1alpha3")
        #expect(created.body["metadata"]?["namespace"] == "shop")
        #expect(created.body["metadata"]?["uid"]?.stringValue?.count == 36)
        #expect(created.body["metadata"]?["generation"] == 1)
        let v1 = await api.call(.get, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews")
        #expect(v1.code == 200)
        #expect(v1.body["apiVersion"] == "networking.istio.io/v1")
        #expect(v1.body["spec"] == reviewsVS["spec"])
        // The store keeps one copy, in the preferred version.
        let stored = try? api.store.get(ObjectKey(GroupResource(group: "networking.istio.io", resource: "virtualservices"),
                                                  namespace: "shop", name: "reviews"))
        #expect(stored?["apiVersion"] == "networking.istio.io/v1")
    }

    @Test func refusesWhatTheAPIServerRefuses() async {
        let api = APIHarness()
        let missing = await api.call(.post, "/apis/networking.istio.io/v1/namespaces/nowhere/virtualservices", reviewsVS)
        #expect(missing.code == 404)
        #expect(missing.message == #"namespaces "nowhere" not found"#)

        await api.namespace("shop")
        #expect(await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", reviewsVS).code == 201)
        let again = await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", reviewsVS)
        #expect(again.code == 409)
        #expect(again.reason == "AlreadyExists")
        #expect(again.message == #"virtualservices.networking.istio.io "reviews" already exists"#)

        var otherNamespace = reviewsVS
        otherNamespace[path: "metadata.namespace"] = "elsewhere"
        let mismatch = await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", otherNamespace)
        #expect(mismatch.code == 400)
        #expect(mismatch.message == "the namespace of the provided object does not match the namespace sent on the request")

        let wrongKind = await api.call(.post, "/api/v1/namespaces/shop/configmaps", reviewsVS)
        #expect(wrongKind.code == 400)
        #expect(wrongKind.message.contains("does not match the expected API version (v1)"))

        let garbage = await api.raw(.post, "/api/v1/namespaces/shop/configmaps", body: "{nope", contentType: "application/json")
        #expect(garbage.code == 400)
        #expect(garbage.message.hasPrefix("the request body is not valid JSON: 1:2:"))

        let xml = await api.raw(.post, "/api/v1/namespaces/shop/configmaps", body: "<x/>", contentType: "application/xml")
        #expect(xml.code == 415)
        #expect(xml.reason == "UnsupportedMediaType")
    }

    @Test func invalidObjectsGetCauses() async {
        let api = APIHarness()
        await api.namespace("shop")
        var bad = reviewsVS
        bad[path: "spec.http[0].route[1].weight"] = -15
        let reply = await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", bad)
        #expect(reply.code == 422)
        #expect(reply.reason == "Invalid")
        #expect(reply.message.hasPrefix(#"VirtualService.networking.istio.io "reviews" is invalid: "#))
        let fields = reply.body["details"]?["causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(fields.contains("spec.http[0].route[1].weight"))
        #expect(api.store.stats().objects == 2)  // only the namespace and its default ServiceAccount
    }

    @Test func unknownFieldsWarnOrFailByFieldValidation() async {
        let api = APIHarness()
        await api.namespace("shop")
        var extra = configMap("settings")
        extra["dataa"] = ["x": "y"]
        let warned = await api.call(.post, "/api/v1/namespaces/shop/configmaps", extra)
        #expect(warned.code == 201)
        #expect(warned.headers["warning"] == #"299 - "unknown field \"dataa\"""#)
        #expect(warned.body["dataa"] == nil)
        extra[path: "metadata.name"] = "strict"
        let strict = await api.call(.post, "/api/v1/namespaces/shop/configmaps?fieldValidation=Strict", extra)
        #expect(strict.code == 422)
        #expect(strict.message.contains(#"unknown field \"dataa\""#) || strict.message.contains(#"unknown field "dataa""#))
    }

    @Test func generateNameAndDryRun() async {
        let api = APIHarness()
        await api.namespace("shop")
        let generated = await api.call(.post, "/api/v1/namespaces/shop/configmaps",
                                       ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "cfg-"]])
        #expect(generated.code == 201)
        let name = generated.body["metadata"]?["name"]?.stringValue ?? ""
        #expect(name.hasPrefix("cfg-") && name.count == 9)
        let dry = await api.call(.post, "/api/v1/namespaces/shop/configmaps?dryRun=All", configMap("ghost"))
        #expect(dry.code == 201)
        #expect(await api.call(.get, "/api/v1/namespaces/shop/configmaps/ghost").code == 404)
    }
}

@Suite struct APIUpdateTests {
    @Test func putChecksResourceVersionAndKeepsStatus() async {
        let api = APIHarness()
        await api.namespace("shop")
        let created = await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", reviewsVS)
        let rv = created.body["metadata"]?["resourceVersion"]?.stringValue ?? ""

        var changed = created.body
        changed[path: "spec.http[0].route[0].weight"] = 50
        changed[path: "spec.http[0].route[1].weight"] = 50
        changed["status"] = ["observedGeneration": 7]
        let updated = await api.call(.put, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews", changed)
        #expect(updated.code == 200)
        #expect(updated.body["metadata"]?["generation"] == 2)
        #expect(updated.body["status"] == nil)  // status is a subresource: PUT on the object ignores it

        var stale = changed
        stale[path: "metadata.resourceVersion"] = .string(rv)
        let conflict = await api.call(.put, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews", stale)
        #expect(conflict.code == 409)
        #expect(conflict.reason == "Conflict")

        var unpinned = changed
        unpinned[path: "metadata.resourceVersion"] = nil
        unpinned[path: "spec.hosts"] = ["reviews", "reviews.shop"]
        let refused = await api.call(.put, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews", unpinned)
        #expect(refused.code == 422)  // custom resources need a resourceVersion on PUT
        #expect(refused.message.hasSuffix("metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"))
        unpinned[path: "metadata.resourceVersion"] = updated.body["metadata"]?["resourceVersion"]
        #expect(await api.call(.put, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews", unpinned).code == 200)

        let latest = await api.call(.get, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews")
        let status = await api.call(.put, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews/status",
                                    ["apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                                     "metadata": ["name": "reviews", "resourceVersion": latest.body["metadata"]?["resourceVersion"] ?? nil],
                                     "spec": ["hosts": ["changed"]],
                                     "status": ["observedGeneration": 3]])
        #expect(status.code == 200)
        #expect(status.body["status"]?["observedGeneration"] == 3)
        #expect(status.body["spec"]?["hosts"] == ["reviews", "reviews.shop"])
    }

    @Test func putNeedsTheSameName() async {
        let api = APIHarness()
        await api.namespace("shop")
        await api.call(.post, "/api/v1/namespaces/shop/configmaps", configMap("a"))
        let reply = await api.call(.put, "/api/v1/namespaces/shop/configmaps/a", configMap("b"))
        #expect(reply.code == 400)
        #expect(reply.message == "the name of the object (b) does not match the name on the URL (a)")
        #expect(await api.call(.put, "/api/v1/namespaces/shop/configmaps/zzz", configMap("zzz")).code == 404)
        // Built-in kinds may be replaced without naming a resourceVersion.
        #expect(await api.call(.put, "/api/v1/namespaces/shop/configmaps/a", configMap("a", data: ["k": "2"])).code == 200)
    }

    @Test func patchesMergeAndJSON() async {
        let api = APIHarness()
        await api.namespace("shop")
        await api.call(.post, "/api/v1/namespaces/shop/configmaps", configMap("cfg", data: ["a": "1", "b": "2"]))
        let merged = await api.call(.patch, "/api/v1/namespaces/shop/configmaps/cfg",
                                    ["data": ["a": nil, "c": "3"]], contentType: "application/merge-patch+json")
        #expect(merged.code == 200)
        #expect(merged.body["data"] == ["b": "2", "c": "3"])
        let json = await api.call(.patch, "/api/v1/namespaces/shop/configmaps/cfg",
                                  [["op": "replace", "path": "/data/b", "value": "20"]],
                                  contentType: "application/json-patch+json")
        #expect(json.body["data"]?["b"] == "20")
        let failed = await api.call(.patch, "/api/v1/namespaces/shop/configmaps/cfg",
                                    [["op": "test", "path": "/data/b", "value": "nope"]],
                                    contentType: "application/json-patch+json")
        #expect(failed.code == 422)
        let strategic = await api.call(.patch, "/api/v1/namespaces/shop/configmaps/cfg", ["data": [:]],
                                       contentType: "application/strategic-merge-patch+json")
        #expect(strategic.code == 415)
        let invalid = await api.call(.patch, "/api/v1/namespaces/shop/configmaps/cfg", ["data": ["k": 5]],
                                     contentType: "application/merge-patch+json")
        #expect(invalid.code == 422)
        #expect(await api.call(.get, "/api/v1/namespaces/shop/configmaps/cfg").body["data"] == ["c": "3", "b": "20"])
    }
}

@Suite struct APIReadDeleteTests {
    @Test func listsWithSelectorsAcrossNamespaces() async {
        let api = APIHarness()
        await api.namespace("a")
        await api.namespace("b")
        await api.call(.post, "/api/v1/namespaces/a/configmaps", configMap("one", labels: ["tier": "web"]))
        await api.call(.post, "/api/v1/namespaces/b/configmaps", configMap("two", labels: ["tier": "db"]))
        await api.call(.post, "/api/v1/namespaces/b/configmaps", configMap("three", labels: ["tier": "web"]))
        let all = await api.call(.get, "/api/v1/configmaps")
        #expect(all.body["kind"] == "ConfigMapList")
        #expect(all.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["one", "three", "two"])
        let web = await api.call(.get, "/api/v1/configmaps?labelSelector=tier%3Dweb")
        #expect(web.body["items"]?.arrayValue?.count == 2)
        let inB = await api.call(.get, "/api/v1/namespaces/b/configmaps?labelSelector=tier+in+(web,db)")
        #expect(inB.body["items"]?.arrayValue?.count == 2)
        let byName = await api.call(.get, "/api/v1/configmaps?fieldSelector=metadata.name%3Dtwo")
        #expect(byName.body["items"]?.arrayValue?.count == 1)
        #expect(await api.call(.get, "/api/v1/configmaps?labelSelector=tier%3D%3D%3D").code == 400)
        #expect(await api.call(.get, "/api/v1/configmaps?fieldSelector=spec.x%3D1").code == 400)
    }

    @Test func servesTablesToKubectl() async {
        let api = APIHarness()
        await api.namespace("shop")
        await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", reviewsVS)
        let table = await api.call(.get, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices",
                                   accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        #expect(table.body["kind"] == "Table")
        #expect(table.body["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            == ["Name", "Gateways", "Hosts", "Age"])
        #expect(table.body["rows"]?[0]?["cells"]?[0] == "reviews")
        #expect(table.body["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
    }

    @Test func deletesAndCascadesNamespaces() async {
        let api = APIHarness()
        await api.namespace("shop")
        await api.call(.post, "/api/v1/namespaces/shop/configmaps", configMap("cfg"))
        await api.call(.post, "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", reviewsVS)
        let deleted = await api.call(.delete, "/api/v1/namespaces/shop/configmaps/cfg")
        #expect(deleted.code == 200)
        #expect(deleted.body["metadata"]?["name"] == "cfg")
        #expect(await api.call(.get, "/api/v1/namespaces/shop/configmaps/cfg").code == 404)
        #expect(await api.call(.delete, "/api/v1/namespaces/shop/configmaps/cfg").code == 404)
        #expect(await api.call(.delete, "/api/v1/namespaces/shop").code == 200)
        #expect(await api.call(.get, "/apis/networking.istio.io/v1/virtualservices").body["items"] == [])
        await api.namespace("default")
        let forbidden = await api.call(.delete, "/api/v1/namespaces/default")
        #expect(forbidden.code == 403)
        #expect(forbidden.message == #"namespaces "default" is forbidden: this namespace may not be deleted"#)
    }

    @Test func deletePreconditions() async {
        let api = APIHarness()
        await api.namespace("shop")
        await api.call(.post, "/api/v1/namespaces/shop/configmaps", configMap("cfg"))
        let refused = await api.call(.delete, "/api/v1/namespaces/shop/configmaps/cfg",
                                     ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": "not-it"]])
        #expect(refused.code == 409)
        #expect(await api.call(.get, "/api/v1/namespaces/shop/configmaps/cfg").code == 200)
    }

    @Test func clusterScopedKindsRefuseNamespacedPaths() async {
        let api = APIHarness()
        #expect(await api.call(.get, "/api/v1/namespaces/default/namespaces").code == 404)
        #expect(await api.call(.post, "/api/v1/configmaps", configMap("x")).code == 405)
        #expect(await api.call(.get, "/api/v1/namespaces/x/configmaps/y/status").code == 404)
    }
}
