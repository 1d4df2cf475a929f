import MeshControlPlane
import MeshHTTP
import MeshModel
import Testing

/// An API server over a given store and options, called in memory.
struct StrategyHarness {
    let store: ResourceStore
    let server: APIServer

    init(store: ResourceStore = ResourceStore(options: StoreOptions(log: { _ in })),
         options: APIServerOptions = APIServerOptions()) {
        self.store = store
        server = APIServer(store: store, options: options)
    }

    @discardableResult
    func call(_ method: HTTPMethod, _ target: String, _ body: JSONValue? = nil,
              contentType: String = "application/json", accept: String? = nil) async -> APIHarness.Reply {
        var headers: HTTPHeaders = ["Content-Type": contentType]
        if let accept { headers.add(name: "Accept", value: accept) }
        let response = await server.respond(to: HTTPRequest(method: method, target: target, headers: headers,
                                                            body: body?.serializedBytes() ?? []))
        return APIHarness.Reply(code: response.status.code, body: (try? JSONValue(parsing: response.body)) ?? .null,
                                headers: response.headers)
    }

    func namespace(_ name: String) async {
        let reply = await call(.post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        precondition(reply.code == 201, "namespace \(name): \(reply.body)")
    }

    @discardableResult
    func service(_ name: String, namespace: String = "shop", clusterIP: String? = nil, type: String? = nil,
                 query: String = "") async -> APIHarness.Reply {
        var spec: JSONObject = ["selector": ["app": .string(name)], "ports": [["port": 80]]]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        if let type {
            spec["type"] = .string(type)
            if type == "ExternalName" { spec["externalName"] = "example.com" }
        }
        return await call(.post, "/api/v1/namespaces/\(namespace)/services\(query)", [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": .object(spec),
        ])
    }
}

extension APIHarness.Reply {
    var clusterIP: String? { body[path: "spec.clusterIP"]?.stringValue }
}

@Suite struct ServiceClusterIPTests {
    @Test func allocatesFromTheServiceRangeSkippingReservedAddresses() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        let first = await api.service("a")
        #expect(first.code == 201)
        #expect(first.clusterIP == "10.96.0.2")  // .1 is kubernetes.default's
        #expect(first.body[path: "spec.clusterIPs"] == ["10.96.0.2"])
        #expect(first.body[path: "spec.ipFamilies"] == ["IPv4"])
        #expect(first.body[path: "spec.ipFamilyPolicy"] == "SingleStack")
        var addresses: [String] = []
        for i in 0..<10 { addresses.append(await api.service("s\(i)").clusterIP ?? "") }
        #expect(!addresses.contains("10.96.0.10"))  // kube-dns's
        #expect(Set(addresses).count == 10)
        // ... which a Service may still ask for by name.
        let dns = await api.service("kube-dns", clusterIP: "10.96.0.10")
        #expect(dns.code == 201 && dns.clusterIP == "10.96.0.10")
        let again = await api.service("kube-dns2", clusterIP: "10.96.0.10")
        #expect(again.code == 422)
    }

    @Test func headlessAndExternalNameServicesGetNoAddress() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        let headless = await api.service("db", clusterIP: "None")
        #expect(headless.code == 201)
        #expect(headless.clusterIP == "None")
        #expect(headless.body[path: "spec.clusterIPs"] == ["None"])
        let external = await api.service("ext", type: "ExternalName")
        #expect(external.code == 201)
        #expect(external.clusterIP == nil)
        #expect(await api.service("next").clusterIP == "10.96.0.2")
    }

    @Test func requestedAddressesAreCheckedInKubernetesWords() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        #expect(await api.service("a", clusterIP: "10.96.3.4").clusterIP == "10.96.3.4")
        let taken = await api.service("b", clusterIP: "10.96.3.4")
        #expect(taken.code == 422)
        #expect(taken.message == #"Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.3.4"}: failed to allocate IP 10.96.3.4: provided IP is already allocated"#)
        let outside = await api.service("c", clusterIP: "10.0.0.1")
        #expect(outside.code == 422)
        #expect(outside.message == #"Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16"#)
        #expect(await api.service("d", clusterIP: "10.96.255.255").code == 422)  // broadcast
        // A failed create gives nothing back wrongly: b's request did not take it from a.
        #expect(await api.service("e", clusterIP: "10.96.3.4").code == 422)
    }

    @Test func addressIsKeptByUpdatesAndImmutable() async throws {
        let api = StrategyHarness()
        await api.namespace("shop")
        let created = await api.service("web")
        let ip = try #require(created.clusterIP)
        // A PUT of the manifest without the address keeps it (kubectl replace).
        var manifest: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
            "spec": ["selector": ["app": "web"], "ports": [["port": 8080]]],
        ]
        let replaced = await api.call(.put, "/api/v1/namespaces/shop/services/web", manifest)
        #expect(replaced.code == 200)
        #expect(replaced.clusterIP == ip)
        #expect(replaced.body[path: "spec.clusterIPs"] == [.string(ip)])
        #expect(replaced.body[path: "spec.ports[0].port"] == 8080)

        manifest[path: "spec.clusterIP"] = "10.96.0.99"
        let changed = await api.call(.put, "/api/v1/namespaces/shop/services/web", manifest)
        #expect(changed.code == 422)
        #expect(changed.message == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set"#)
        let patched = await api.call(.patch, "/api/v1/namespaces/shop/services/web", ["spec": ["clusterIPs": ["10.96.0.98"]]],
                                     contentType: "application/merge-patch+json")
        #expect(patched.code == 422)
        // The refused updates did not take those addresses.
        #expect(await api.service("other", clusterIP: "10.96.0.99").code == 201)
    }

    @Test func changingTypeToAndFromExternalNameTakesAndGivesAnAddress() async throws {
        let api = StrategyHarness()
        await api.namespace("shop")
        #expect(await api.service("web", type: "ExternalName").clusterIP == nil)
        let path = "/api/v1/namespaces/shop/services/web"
        let merge = "application/merge-patch+json"
        let clusterIP = await api.call(.patch, path, ["spec": ["type": "ClusterIP", "externalName": nil]], contentType: merge)
        #expect(clusterIP.code == 200, "\(clusterIP.body)")
        let ip = try #require(clusterIP.clusterIP)
        #expect(ip.hasPrefix("10.96."))
        let external = await api.call(.patch, path, ["spec": ["type": "ExternalName", "externalName": "example.com"]],
                                      contentType: merge)
        #expect(external.code == 200, "\(external.body)")
        #expect(external.clusterIP == nil && external.body[path: "spec.clusterIPs"] == nil)
        #expect(external.body[path: "spec.ipFamilies"] == nil && external.body[path: "spec.ipFamilyPolicy"] == nil)
        #expect(await api.service("other", clusterIP: ip).code == 201)
    }

    @Test func deleteAndNamespaceDeleteGiveAddressesBack() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        await api.namespace("tmp")
        await api.service("a", clusterIP: "10.96.7.7")
        #expect(await api.call(.delete, "/api/v1/namespaces/shop/services/a").code == 200)
        #expect(await api.service("b", clusterIP: "10.96.7.7").code == 201)

        await api.service("c", namespace: "tmp", clusterIP: "10.96.8.8")
        #expect(await api.call(.delete, "/api/v1/namespaces/tmp").code == 200)
        #expect(await api.service("d", clusterIP: "10.96.8.8").code == 201)
    }

    @Test func addressesFreedBehindTheAllocatorsBackAreFoundAgain() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        await api.service("a", clusterIP: "10.96.9.9")
        // Removed from the store directly (not through the API): the next request re-reads the store.
        _ = try? api.store.delete(ObjectKey(GroupResource(resource: "services"), namespace: "shop", name: "a"))
        #expect(await api.service("b", clusterIP: "10.96.9.9").code == 201)
    }

    @Test func poolIsRebuiltFromTheStoreOnStartup() async {
        let store = ResourceStore(options: StoreOptions(log: { _ in }))
        let before = StrategyHarness(store: store)
        await before.namespace("shop")
        await before.service("a")
        await before.service("b", clusterIP: "10.96.0.3")
        let after = StrategyHarness(store: store)
        #expect(await after.service("c", clusterIP: "10.96.0.2").code == 422)
        #expect(await after.service("d").clusterIP == "10.96.0.4")
    }

    @Test func dryRunHoldsNothingAndTheRangeIsSettable() async {
        let api = StrategyHarness(options: APIServerOptions(serviceCIDR: IPv4CIDR("10.100.0.0/29")!))
        await api.namespace("shop")
        let dry = await api.service("a", clusterIP: "10.100.0.5", query: "?dryRun=All")
        #expect(dry.code == 201 && dry.clusterIP == "10.100.0.5")
        #expect(await api.service("b", clusterIP: "10.100.0.5").code == 201)
        // 10.100.0.0/29: hosts .1-.6; .1 is reserved, .5 taken: .2 .3 .4 .6, then full.
        var got: [String] = []
        for i in 0..<4 { got.append(await api.service("s\(i)").clusterIP ?? "") }
        #expect(got == ["10.100.0.2", "10.100.0.3", "10.100.0.4", "10.100.0.6"])
        let full = await api.service("s4")
        #expect(full.code == 500)
        #expect(full.message == "Internal error occurred: failed to allocate a serviceIP: range is full")
    }
}

@Suite struct PodStrategyTests {
    func pod(_ name: String, serviceAccount: String? = nil, image: String = "nginx:1") -> JSONValue {
        var spec: JSONObject = ["containers": [["name": "app", "image": .string(image), "ports": [["containerPort": 80]]]]]
        if let serviceAccount { spec["serviceAccountName"] = .string(serviceAccount) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    @Test func podsAreBoundToTheLabNodeAndNeedTheirServiceAccount() async {
        let api = StrategyHarness(options: APIServerOptions(nodeName: "lab-node"))
        await api.namespace("shop")
        // The namespace's default account exists as soon as the namespace does.
        let created = await api.call(.post, "/api/v1/namespaces/shop/pods", pod("web"))
        #expect(created.code == 201, "\(created.body)")
        #expect(created.body[path: "spec.nodeName"] == "lab-node")
        #expect(created.body[path: "spec.serviceAccountName"] == "default")

        let missing = await api.call(.post, "/api/v1/namespaces/shop/pods", pod("robot", serviceAccount: "robot"))
        #expect(missing.code == 403)
        #expect(missing.reason == "Forbidden")
        #expect(missing.message == #"pods "robot" is forbidden: error looking up service account shop/robot: serviceaccount "robot" not found"#)
        await api.call(.post, "/api/v1/namespaces/shop/serviceaccounts",
                       ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "robot"]])
        #expect(await api.call(.post, "/api/v1/namespaces/shop/pods", pod("robot", serviceAccount: "robot")).code == 201)
    }

    @Test func podSpecIsImmutableButForImages() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        #expect(await api.call(.post, "/api/v1/namespaces/shop/pods", pod("web")).code == 201)
        let path = "/api/v1/namespaces/shop/pods/web"
        let merge = "application/merge-patch+json"

        let image = await api.call(.patch, path, ["spec": ["containers": [["name": "app", "image": "nginx:2", "ports": [["containerPort": 80]]]]]],
                                   contentType: merge)
        #expect(image.code == 200, "\(image.body)")
        #expect(image.body[path: "spec.containers[0].image"] == "nginx:2")
        #expect(await api.call(.patch, path, ["metadata": ["labels": ["tier": "web"]]], contentType: merge).code == 200)

        let ports = await api.call(.patch, path, ["spec": ["containers": [["name": "app", "image": "nginx:2", "ports": [["containerPort": 81]]]]]],
                                   contentType: merge)
        #expect(ports.code == 422)
        #expect(ports.message.hasPrefix(#"Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"#))
        #expect(ports.message.contains("- spec.containers[0].ports[0].containerPort: 80\n+ spec.containers[0].ports[0].containerPort: 81"))

        let added = await api.call(.patch, path, ["spec": ["containers": [["name": "app", "image": "nginx:2"], ["name": "two", "image": "x"]]]],
                                   contentType: merge)
        #expect(added.code == 422)
        #expect(added.message == #"Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers"#)

        #expect(await api.call(.patch, path, ["spec": ["activeDeadlineSeconds": 100]], contentType: merge).code == 200)
        #expect(await api.call(.patch, path, ["spec": ["activeDeadlineSeconds": 50]], contentType: merge).code == 200)
        let longer = await api.call(.patch, path, ["spec": ["activeDeadlineSeconds": 70]], contentType: merge)
        #expect(longer.message.hasSuffix("spec.activeDeadlineSeconds: Invalid value: 70: must be less than or equal to previous value"))

        // Status is the node agent's to write, and is not held to the spec rules.
        let status = await api.call(.patch, path + "/status", ["status": ["phase": "Running", "podIP": "10.44.0.5"]], contentType: merge)
        #expect(status.code == 200)
        #expect(status.body[path: "status.podIP"] == "10.44.0.5")
    }
}

@Suite struct DeploymentAPITests {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
        "spec": [
            "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "app", "image": "nginx"]]]],
        ],
    ]

    @Test func selectorIsImmutable() async {
        let api = StrategyHarness()
        await api.namespace("shop")
        #expect(await api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", Self.deployment).code == 201)
        var changed = Self.deployment
        changed[path: "spec.selector.matchLabels.app"] = "other"
        changed[path: "spec.template.metadata.labels.app"] = "other"
        let reply = await api.call(.put, "/apis/apps/v1/namespaces/shop/deployments/web", changed)
        #expect(reply.code == 422)
        #expect(reply.message == #"Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#)
        var replicas = Self.deployment
        replicas[path: "spec.replicas"] = 5
        #expect(await api.call(.put, "/apis/apps/v1/namespaces/shop/deployments/web", replicas).code == 200)
    }

    @Test func scaleSubresourceReadsAndWritesReplicas() async throws {
        let api = StrategyHarness()
        await api.namespace("shop")
        await api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", Self.deployment)
        let path = "/apis/apps/v1/namespaces/shop/deployments/web/scale"
        let scale = await api.call(.get, path)
        #expect(scale.code == 200)
        #expect(scale.body["kind"] == "Scale" && scale.body["apiVersion"] == "autoscaling/v1")
        #expect(scale.body[path: "metadata.name"] == "web" && scale.body[path: "metadata.namespace"] == "shop")
        #expect(scale.body[path: "spec.replicas"] == 2)
        #expect(scale.body[path: "status"] == ["replicas": 0, "selector": "app=web"])

        // What kubectl scale sends.
        let patched = await api.call(.patch, path, ["spec": ["replicas": 3]], contentType: "application/merge-patch+json")
        #expect(patched.code == 200, "\(patched.body)")
        #expect(patched.body[path: "spec.replicas"] == 3)
        let deployment = await api.call(.get, "/apis/apps/v1/namespaces/shop/deployments/web")
        #expect(deployment.body[path: "spec.replicas"] == 3)
        #expect(deployment.body[path: "metadata.generation"] == 2)

        // PUT with the resourceVersion read (kubectl scale --current-replicas), then a stale one.
        var put = patched.body
        put[path: "spec.replicas"] = 4
        let updated = await api.call(.put, path, put)
        #expect(updated.code == 200 && updated.body[path: "spec.replicas"] == 4)
        let stale = await api.call(.put, path, put)
        #expect(stale.code == 409)
        #expect(stale.reason == "Conflict")

        var negative = updated.body
        negative[path: "spec.replicas"] = -1
        let refused = await api.call(.put, path, negative)
        #expect(refused.code == 422)
        #expect(refused.message == #"Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#)
        var misnamed = updated.body
        misnamed[path: "metadata.name"] = "db"
        #expect(await api.call(.put, path, misnamed).code == 400)

        #expect(await api.call(.get, "/apis/apps/v1/namespaces/shop/deployments/nope/scale").code == 404)
        #expect(await api.call(.get, "/api/v1/namespaces/shop/configmaps/web/scale").code == 404)
        #expect(await api.call(.delete, path).code == 405)
    }

    @Test func discoveryAdvertisesTheScaleSubresource() async throws {
        let api = StrategyHarness()
        let resources = await api.call(.get, "/apis/apps/v1").body["resources"]?.arrayValue ?? []
        let scale = try #require(resources.first { $0["name"] == "deployments/scale" })
        #expect(scale["group"] == "autoscaling" && scale["version"] == "v1" && scale["kind"] == "Scale")
        #expect(scale["verbs"] == ["get", "patch", "update"])
        let core = await api.call(.get, "/api/v1").body["resources"]?.arrayValue ?? []
        #expect(core.contains { $0["name"] == "pods/status" })
        #expect(!core.contains { $0["name"] == "events/status" })
        let events = try #require(core.first { $0["name"] == "events" })
        #expect(events["shortNames"] == ["ev"])
    }
}

@Suite struct EventAPITests {
    static func event(_ name: String, object: String, namespace: String = "shop", reason: String = "Scheduled") -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
            "involvedObject": ["kind": "Pod", "name": .string(object), "namespace": .string(namespace)],
            "reason": .string(reason), "message": "Successfully assigned", "type": "Normal",
            "firstTimestamp": "2023-11-14T22:10:00Z", "lastTimestamp": "2023-11-14T22:13:00Z", "count": 2,
            "source": ["component": "default-scheduler"],
        ]
    }

    @Test func eventsAreServedSelectedAndPrinted() async {
        let api = StrategyHarness(options: APIServerOptions(now: { controllerNow }))
        await api.namespace("shop")
        #expect(await api.call(.post, "/api/v1/namespaces/shop/events", Self.event("web.1", object: "web")).code == 201)
        #expect(await api.call(.post, "/api/v1/namespaces/shop/events", Self.event("db.1", object: "db", reason: "Pulled")).code == 201)
        let wrong = await api.call(.post, "/api/v1/namespaces/shop/events", Self.event("x.1", object: "x", namespace: "other"))
        #expect(wrong.code == 422)
        #expect(wrong.message == #"Event "x.1" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace"#)

        let selected = await api.call(.get, "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dweb,source%3Ddefault-scheduler")
        #expect(selected.body["items"]?.arrayValue?.compactMap { $0[path: "metadata.name"]?.stringValue } == ["web.1"])
        #expect(await api.call(.get, "/api/v1/namespaces/shop/events?fieldSelector=message%3Dx").code == 400)

        let table = await api.call(.get, "/api/v1/namespaces/shop/events", accept: "application/json;as=Table;v=v1;g=meta.k8s.io")
        let columns = table.body["columnDefinitions"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" } ?? []
        #expect(columns.prefix(5) == ["Last seen", "Type", "Reason", "Object", "Message"])
        #expect(table.body["rows"]?[0]?["cells"]?.arrayValue?.prefix(5) == ["20s", "Normal", "Pulled", "pod/db", "Successfully assigned"])
    }
}
