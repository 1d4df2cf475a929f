@testable import MeshControlPlane
import MeshHTTP
import MeshModel
import Synchronization
import Testing

/// The store, the API server and the controllers, running in this process.
/// Tests act as a user (through the API) and as the node agent (writing pod
/// status), and wait for the controllers to bring the store where it should be.
final class ControllerLab: Sendable {
    let api: StrategyHarness
    let task: Task<Void, Never>
    let logs = LogLines()

    init() {
        api = StrategyHarness(options: APIServerOptions(now: { controllerNow }))
        let logs = self.logs
        let manager = ControllerManager(server: api.server, options: ControllerOptions(
            debounce: .zero, now: { controllerNow }, log: { logs.append($0) }))
        task = Task { await manager.runUntilCancelled() }
    }

    func stop() async {
        task.cancel()
        await task.value
    }

    var store: ResourceStore { api.store }

    func list(_ resource: String, group: String = "", namespace: String = "shop") -> [JSONValue] {
        store.list(GroupResource(group: group, resource: resource), namespace: namespace).items
    }

    func get(_ resource: String, _ name: String, group: String = "", namespace: String = "shop") -> JSONValue? {
        try? store.get(ObjectKey(GroupResource(group: group, resource: resource), namespace: namespace, name: name))
    }

    func deployment(_ name: String = "web") -> JSONValue? { get("deployments", name, group: "apps") }

    /// Waits until `condition` holds, looking again every few milliseconds;
    /// records a failure after `seconds` (a bound against hanging, not a timing claim).
    @discardableResult
    func waitUntil(_ what: String, seconds: Int = 20, sourceLocation: SourceLocation = #_sourceLocation,
                   _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(seconds))
        while clock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("gave up waiting until \(what); controller log: \(logs.all.suffix(10))", sourceLocation: sourceLocation)
        return false
    }

    /// What the node agent does once a pod runs: phase, IP and the Ready condition.
    @discardableResult
    func markReady(_ pod: JSONValue, ip: String, ready: Bool = true) async -> Int {
        let name = pod[path: "metadata.name"]?.stringValue ?? ""
        let namespace = pod[path: "metadata.namespace"]?.stringValue ?? ""
        let reply = await api.call(.patch, "/api/v1/namespaces/\(namespace)/pods/\(name)/status", ["status": [
            "phase": "Running", "podIP": .string(ip), "podIPs": [["ip": .string(ip)]],
            "conditions": [["type": "Ready", "status": ready ? "True" : "False", "lastTransitionTime": "2023-11-14T22:00:00Z"]],
        ]], contentType: "application/merge-patch+json")
        return reply.code
    }

    func events(about name: String) -> [JSONValue] {
        list("events").filter { $0[path: "involvedObject.name"]?.stringValue == name }
    }
}

func webDeployment(replicas: Int = 3, image: String = "nginx:1", serviceAccount: String? = nil) -> JSONValue {
    var podSpec: JSONObject = ["containers": [["name": "app", "image": .string(image), "ports": [["name": "http", "containerPort": 8080]]]]]
    if let serviceAccount { podSpec["serviceAccountName"] = .string(serviceAccount) }
    return [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
        "spec": [
            "replicas": .int(replicas), "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": .object(podSpec)],
        ],
    ]
}

/// The live pods at each revision a watch shows, and the most there were.
final class PodCount: Sendable {
    private let state = Mutex((live: Set<String>(), most: 0))

    func see(_ name: String, gone: Bool) {
        state.withLock { state in
            if gone { state.live.remove(name) } else { state.live.insert(name) }
            state.most = max(state.most, state.live.count)
        }
    }

    var most: Int { state.withLock { $0.most } }
}

func isReady(_ pod: JSONValue) -> Bool {
    (pod[path: "status.conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
}

@Suite(.serialized) struct ControllerRunnerTests {
    @Test func deploymentConvergesAndScales() async throws {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        let created = await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 3))
        #expect(created.code == 201)
        await lab.waitUntil("3 pods") { lab.list("pods").count == 3 }
        let pods = lab.list("pods")
        let hash = try #require(pods.first?[path: "metadata.labels.pod-template-hash"]?.stringValue)
        for pod in pods {
            #expect(pod[path: "metadata.name"]?.stringValue?.hasPrefix("web-\(hash)-") == true)
            #expect(pod[path: "metadata.ownerReferences[0].uid"] == created.body[path: "metadata.uid"])
            #expect(pod[path: "spec.nodeName"] == "meshlab")  // admitted through the API
        }
        await lab.waitUntil("status counts the pods") {
            lab.deployment()?[path: "status.replicas"] == 3 && lab.deployment()?[path: "status.updatedReplicas"] == 3
        }
        #expect(lab.deployment()?[path: "status.readyReplicas"] == nil || lab.deployment()?[path: "status.readyReplicas"] == 0)

        for (i, pod) in pods.enumerated() { #expect(await lab.markReady(pod, ip: "10.44.0.\(i + 2)") == 200) }
        await lab.waitUntil("all available") { lab.deployment()?[path: "status.availableReplicas"] == 3 }
        let status = try #require(lab.deployment()?["status"])
        #expect(status["observedGeneration"] == 1 && status["readyReplicas"] == 3 && status["unavailableReplicas"] == 0)
        let conditions = (status["conditions"]?.arrayValue ?? []).map { "\($0["type"]?.stringValue ?? "")=\($0["reason"]?.stringValue ?? "")" }
        #expect(conditions == ["Available=MinimumReplicasAvailable", "Progressing=NewReplicaSetAvailable"])

        let messages = lab.events(about: "web").compactMap { $0["message"]?.stringValue }
        #expect(messages.contains("Scaled up pod set web-\(hash) from 0 to 3"))
        #expect(messages.filter { $0.hasPrefix("Created pod: web-\(hash)-") }.count == 3)

        // kubectl scale's request.
        let scaled = await lab.api.call(.patch, "/apis/apps/v1/namespaces/shop/deployments/web/scale", ["spec": ["replicas": 5]],
                                        contentType: "application/merge-patch+json")
        #expect(scaled.code == 200)
        await lab.waitUntil("5 pods") { lab.list("pods").count == 5 }
        await lab.api.call(.patch, "/apis/apps/v1/namespaces/shop/deployments/web/scale", ["spec": ["replicas": 1]],
                           contentType: "application/merge-patch+json")
        await lab.waitUntil("1 pod") { lab.list("pods").count == 1 }
        // The two unready pods went first, then the newest ready ones.
        #expect(isReady(lab.list("pods")[0]))
        #expect(lab.events(about: "web").contains { ($0["message"]?.stringValue ?? "").hasPrefix("Deleted pod: ") })
        await lab.stop()
    }

    @Test func templateChangeRollsThroughWithinTheSurge() async throws {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        // Play the node agent: every pod becomes ready soon after it appears,
        // and the live pod count is tracked at every revision.
        let watch = try lab.store.watch(GroupResource(resource: "pods"), namespace: "shop")
        let peak = PodCount()
        let agent = Task {
            var next = 2
            for try await event in watch {
                let name = event.object[path: "metadata.name"]?.stringValue ?? ""
                peak.see(name, gone: event.type == .deleted)
                if event.type == .added && !isReady(event.object) {
                    next += 1
                    await lab.markReady(event.object, ip: "10.44.1.\(next)")
                }
            }
        }
        await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 3))
        await lab.waitUntil("3 available") { lab.deployment()?[path: "status.availableReplicas"] == 3 }
        let oldHash = lab.list("pods").first?[path: "metadata.labels.pod-template-hash"]

        let patched = await lab.api.call(
            .patch, "/apis/apps/v1/namespaces/shop/deployments/web",
            ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "nginx:2", "ports": [["name": "http", "containerPort": 8080]]]]]]]],
            contentType: "application/merge-patch+json")
        #expect(patched.code == 200)
        #expect(patched.body[path: "metadata.generation"] == 2)
        await lab.waitUntil("rolled out") {
            let pods = lab.list("pods")
            let status = lab.deployment()?["status"]
            return pods.count == 3 && pods.allSatisfy { $0[path: "spec.containers[0].image"] == "nginx:2" && isReady($0) }
                && status?["observedGeneration"] == 2 && status?["updatedReplicas"] == 3 && status?["availableReplicas"] == 3
                && status?["replicas"] == 3
        }
        let newHash = lab.list("pods").first?[path: "metadata.labels.pod-template-hash"]
        #expect(newHash != oldHash)
        // 25% of 3: at most one pod more than wanted at any revision.
        #expect(peak.most <= 4)
        let progressing = (lab.deployment()?[path: "status.conditions"]?.arrayValue ?? []).first { $0["type"] == "Progressing" }
        #expect(progressing?["reason"] == "NewReplicaSetAvailable")
        let messages = lab.events(about: "web").compactMap { $0["message"]?.stringValue }
        #expect(messages.contains { $0.hasPrefix("Scaled down pod set web-\(oldHash?.stringValue ?? "")") })
        agent.cancel()
        watch.cancel()
        await lab.stop()
    }

    @Test func endpointsFollowPodReadinessAndGoWithTheService() async throws {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
        ]
        #expect(await lab.api.call(.post, "/api/v1/namespaces/shop/services", service).code == 201)
        await lab.waitUntil("empty endpoints") { lab.get("endpoints", "web") != nil }
        #expect(lab.get("endpoints", "web")?["subsets"] == nil)

        await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 2))
        await lab.waitUntil("2 pods") { lab.list("pods").count == 2 }
        let pods = lab.list("pods")
        await lab.markReady(pods[0], ip: "10.44.0.2", ready: false)
        await lab.markReady(pods[1], ip: "10.44.0.3", ready: true)
        await lab.waitUntil("one ready, one not") {
            let subset = lab.get("endpoints", "web")?[path: "subsets[0]"]
            return subset?["addresses"]?.arrayValue?.count == 1 && subset?["notReadyAddresses"]?.arrayValue?.count == 1
        }
        let subset = try #require(lab.get("endpoints", "web")?[path: "subsets[0]"])
        #expect(subset[path: "addresses[0].ip"] == "10.44.0.3")
        #expect(subset[path: "addresses[0].targetRef.name"] == pods[1][path: "metadata.name"])
        #expect(subset["ports"] == [["name": "http", "port": 8080, "protocol": "TCP"]])
        #expect(lab.get("endpoints", "web")?[path: "metadata.labels"] == ["app": "web"])

        await lab.markReady(pods[0], ip: "10.44.0.2", ready: true)
        await lab.waitUntil("both ready") { lab.get("endpoints", "web")?[path: "subsets[0].addresses"]?.arrayValue?.count == 2 }

        // Deleted Endpoints come back; a deleted Service takes them along.
        try lab.store.delete(ObjectKey(GroupResource(resource: "endpoints"), namespace: "shop", name: "web"))
        await lab.waitUntil("endpoints back") { lab.get("endpoints", "web")?[path: "subsets[0].addresses"]?.arrayValue?.count == 2 }
        #expect(await lab.api.call(.delete, "/api/v1/namespaces/shop/services/web").code == 200)
        await lab.waitUntil("endpoints gone") { lab.get("endpoints", "web") == nil }

        // Endpoints of a Service without a selector are the user's.
        let manual: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "db"], "spec": ["ports": [["port": 5432]]],
        ]
        let endpoints: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "db"],
            "subsets": [["addresses": [["ip": "192.0.2.10"]], "ports": [["port": 5432]]]],
        ]
        await lab.api.call(.post, "/api/v1/namespaces/shop/services", manual)
        await lab.api.call(.post, "/api/v1/namespaces/shop/endpoints", endpoints)
        await lab.api.call(.patch, "/api/v1/namespaces/shop/services/db", ["metadata": ["labels": ["touched": "yes"]]],
                           contentType: "application/merge-patch+json")
        // Give the controller a change to act on (and wrongly so, if it would), then check.
        await lab.api.call(.post, "/api/v1/namespaces/shop/services", service)
        await lab.waitUntil("web endpoints again") { lab.get("endpoints", "web") != nil }
        #expect(lab.get("endpoints", "db")?[path: "subsets[0].addresses[0].ip"] == "192.0.2.10")
        await lab.stop()
    }

    @Test func deletedDeploymentTakesItsPodsAlong() async {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 2))
        await lab.waitUntil("2 pods") { lab.list("pods").count == 2 }
        let bystander: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "alone"], "spec": ["containers": [["name": "a", "image": "x"]]],
        ]
        await lab.api.call(.post, "/api/v1/namespaces/shop/pods", bystander)
        #expect(await lab.api.call(.delete, "/apis/apps/v1/namespaces/shop/deployments/web").code == 200)
        await lab.waitUntil("owned pods gone") { lab.list("pods").count == 1 }
        #expect(lab.list("pods").first?[path: "metadata.name"] == "alone")
        await lab.stop()
    }

    @Test func everyNamespaceHasItsDefaultServiceAccount() async throws {
        let lab = ControllerLab()
        // Made straight in the store, as the daemon's bootstrap does: the controller adds the account.
        try lab.store.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "quiet"]])
        await lab.waitUntil("default account") { lab.get("serviceaccounts", "default", namespace: "quiet") != nil }
        try lab.store.delete(ObjectKey(GroupResource(resource: "serviceaccounts"), namespace: "quiet", name: "default"))
        await lab.waitUntil("default account back") { lab.get("serviceaccounts", "default", namespace: "quiet") != nil }
        await lab.stop()
    }

    @Test func podsThatCannotBeCreatedAreReportedAndRetried() async throws {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 1, serviceAccount: "robot"))
        await lab.waitUntil("a FailedCreate event") {
            lab.events(about: "web").contains { $0["reason"] == "FailedCreate" }
        }
        let event = try #require(lab.events(about: "web").first { $0["reason"] == "FailedCreate" })
        #expect(event["type"] == "Warning")
        let hash = event["message"]?.stringValue?.split(separator: "-").dropFirst().first ?? ""
        #expect(event["message"] == .string("Error creating: pods \"web-\(hash)-\" is forbidden: error looking up service account shop/robot: serviceaccount \"robot\" not found"))
        await lab.waitUntil("ReplicaFailure") {
            (lab.deployment()?[path: "status.conditions"]?.arrayValue ?? []).contains { $0["type"] == "ReplicaFailure" }
        }
        // Retries repeat the same event: it is counted, not copied.
        await lab.waitUntil("the event counted twice") {
            lab.events(about: "web").contains { $0["reason"] == "FailedCreate" && ($0["count"]?.intValue ?? 0) >= 2 }
        }
        #expect(lab.events(about: "web").filter { $0["reason"] == "FailedCreate" }.count == 1)

        await lab.api.call(.post, "/api/v1/namespaces/shop/serviceaccounts",
                           ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "robot"]])
        await lab.waitUntil("the pod, once the account exists") { lab.list("pods").count == 1 }
        await lab.waitUntil("ReplicaFailure cleared") {
            !(lab.deployment()?[path: "status.conditions"]?.arrayValue ?? []).contains { $0["type"] == "ReplicaFailure" }
        }
        await lab.stop()
    }

    @Test func oldEventsExpire() async {
        let lab = ControllerLab()
        await lab.api.namespace("shop")
        for (name, last) in [("old.1", controllerNow - 3601), ("fresh.1", controllerNow - 10)] {
            let event: JSONValue = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
                "involvedObject": ["kind": "Pod", "name": "x", "namespace": "shop"], "reason": "Test", "message": "m",
                "lastTimestamp": .string(Timestamp.format(epochSeconds: last)),
            ]
            #expect(await lab.api.call(.post, "/api/v1/namespaces/shop/events", event).code == 201)
        }
        await lab.waitUntil("the old event expired") { lab.get("events", "old.1") == nil }
        #expect(lab.get("events", "fresh.1") != nil)
        await lab.stop()
    }
}
