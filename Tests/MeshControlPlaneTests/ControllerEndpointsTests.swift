@testable import MeshControlPlane
import MeshModel
import Testing

func makeService(_ name: String = "web", selector: [String: String]? = ["app": "web"], ports: JSONValue? = nil,
                 clusterIP: String? = nil, publishNotReady: Bool = false, labels: [String: String]? = nil) -> MeshModel.Service
{
    var spec: JSONObject = ["ports": ports ?? [["name": "http", "port": 80, "targetPort": "http"]]]
    if let selector { spec["selector"] = ValueCodec.encode(selector) }
    if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
    if publishNotReady { spec["publishNotReadyAddresses"] = true }
    var metadata: JSONObject = ["name": .string(name), "namespace": "default"]
    if let labels { metadata["labels"] = ValueCodec.encode(labels) }
    let object: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": .object(metadata), "spec": .object(spec)]
    let checked = ResourceCodec.check(MeshModel.Service.self, object, options: CheckOptions())
    precondition(checked.isValid, "\(checked.diagnostics)")
    return try! ResourceCodec.decode(MeshModel.Service.self, from: checked.object!)
}

/// A pod of the `app` label with container ports named as given.
func makePod(_ name: String, app: String = "web", ip: String?, ready: Bool, ports: [(String, Int32)] = [("http", 8080)],
             phase: PodPhase = .running, namespace: String = "default") -> Pod
{
    var container = Container(name: "app", image: "nginx")
    container.ports = ports.map { ContainerPort(name: $0.0, containerPort: $0.1, protocol: .tcp) }
    var pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: ["app": app]), spec: PodSpec(containers: [container]))
    pod.metadata.uid = "uid-\(name)"
    pod.spec.nodeName = "meshlab"
    pod = pod.ready(ready, ip: ip)
    pod.status?.phase = phase
    return pod
}

@Suite struct EndpointsReconcileTests {
    @Test func readyAndNotReadyPodsWithResolvedPortNames() throws {
        let service = makeService(labels: ["app": "web", "tier": "front"])
        let pods = [
            makePod("web-b", ip: "10.44.0.12", ready: true),
            makePod("web-a", ip: "10.44.0.3", ready: true),
            makePod("web-c", ip: "10.44.0.7", ready: false),
            makePod("web-noip", ip: nil, ready: false),
            makePod("web-done", ip: "10.44.0.9", ready: false, phase: .succeeded),
            makePod("other", app: "db", ip: "10.44.0.20", ready: true),
        ]
        let endpoints = try #require(EndpointsReconciler.endpoints(for: service, pods: pods))
        #expect(endpoints.metadata.name == "web" && endpoints.metadata.namespace == "default")
        #expect(endpoints.metadata.labels == ["app": "web", "tier": "front"])
        let subsets = endpoints.subsets ?? []
        #expect(subsets.count == 1)
        // Sorted as text, as Kubernetes sorts them.
        #expect(subsets.first?.addresses?.map(\.ip) == ["10.44.0.12", "10.44.0.3"])
        #expect(subsets.first?.notReadyAddresses?.map(\.ip) == ["10.44.0.7"])
        #expect(subsets.first?.ports == [Endpoints.Port(name: "http", port: 8080, protocol: .tcp)])
        let address = try #require(subsets.first?.addresses?.first)
        #expect(address.nodeName == "meshlab")
        #expect(address.targetRef == ObjectReference(kind: "Pod", namespace: "default", name: "web-b", uid: "uid-web-b"))
    }

    @Test func publishNotReadyAddressesMakesEveryPodReady() throws {
        let service = makeService(publishNotReady: true)
        let endpoints = try #require(EndpointsReconciler.endpoints(
            for: service, pods: [makePod("a", ip: "10.44.0.2", ready: false), makePod("b", ip: "10.44.0.3", ready: true)]))
        #expect(endpoints.subsets?.first?.addresses?.map(\.ip) == ["10.44.0.2", "10.44.0.3"])
        #expect(endpoints.subsets?.first?.notReadyAddresses == nil)
    }

    @Test func podsOfferingDifferentPortsAreRepackedByAddressSet() throws {
        let ports: JSONValue = [
            ["name": "http", "port": 80, "targetPort": "http"],
            ["name": "metrics", "port": 9090, "targetPort": 9090],
        ]
        let service = makeService(ports: ports)
        let pods = [
            makePod("v1", ip: "10.44.0.2", ready: true, ports: [("http", 9080)]),
            makePod("v2", ip: "10.44.0.3", ready: true, ports: [("http", 8080)]),
            makePod("nohttp", ip: "10.44.0.4", ready: true, ports: [("grpc", 7070)]),
        ]
        let subsets = try #require(EndpointsReconciler.endpoints(for: service, pods: pods)?.subsets)
        // Port 9090 is offered by all three (a number needs no lookup); each
        // named port by one pod.
        let rendered = subsets.map { subset in
            (subset.ports ?? []).map { "\($0.name ?? ""):\($0.port)" }.joined(separator: ",") + " @ "
                + (subset.addresses ?? []).map(\.ip).joined(separator: ",")
        }
        #expect(rendered == [
            "http:8080 @ 10.44.0.3",
            "http:9080 @ 10.44.0.2",
            "metrics:9090 @ 10.44.0.2,10.44.0.3,10.44.0.4",
        ])
    }

    @Test func headlessServicesAndTheirLabel() throws {
        let headless = makeService(ports: [], clusterIP: "None")
        let endpoints = try #require(EndpointsReconciler.endpoints(for: headless, pods: [makePod("a", ip: "10.44.0.2", ready: true)]))
        #expect(endpoints.metadata.labels?[EndpointsReconciler.headlessLabel] == "")
        #expect(endpoints.subsets?.first?.ports == nil)
        #expect(endpoints.subsets?.first?.addresses?.map(\.ip) == ["10.44.0.2"])
    }

    @Test func hostnameWhenThePodNamesTheServiceAsSubdomain() throws {
        var pod = makePod("db-0", ip: "10.44.0.5", ready: true)
        pod.spec.hostname = "db-0"
        pod.spec.subdomain = "web"
        let endpoints = try #require(EndpointsReconciler.endpoints(for: makeService(), pods: [pod]))
        #expect(endpoints.subsets?.first?.addresses?.first?.hostname == "db-0")
    }

    @Test func noSelectorMeansHandsOffAndNoPodsMeansEmpty() throws {
        #expect(EndpointsReconciler.endpoints(for: makeService(selector: nil), pods: [makePod("a", ip: "10.44.0.2", ready: true)]) == nil)
        let empty = try #require(EndpointsReconciler.endpoints(for: makeService(), pods: []))
        #expect(empty.subsets == nil)
    }

    @Test func upToDateComparesSubsetsAndLabelsOnly() throws {
        let service = makeService()
        let desired = try #require(EndpointsReconciler.endpoints(for: service, pods: [makePod("a", ip: "10.44.0.2", ready: true)]))
        var current = desired
        current.metadata.resourceVersion = "42"
        current.metadata.annotations = ["note": "kept"]
        #expect(EndpointsReconciler.isUpToDate(current, desired))
        let changed = try #require(EndpointsReconciler.endpoints(for: service, pods: [makePod("a", ip: "10.44.0.2", ready: false)]))
        #expect(!EndpointsReconciler.isUpToDate(current, changed))
        var relabelled = desired
        relabelled.metadata.labels = ["x": "y"]
        #expect(!EndpointsReconciler.isUpToDate(relabelled, desired))
    }
}

@Suite struct GarbageCollectionTests {
    let deploymentOwner = OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d1", controller: true)
    let configOwner = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "cfg", uid: "c1")

    @Test func deletesWhenEveryOwnerIsGoneAndForgetsSomeOtherwise() {
        #expect(GarbageCollection.decide([], exists: { _ in false }) == .keep)
        #expect(GarbageCollection.decide([deploymentOwner], exists: { _ in true }) == .keep)
        #expect(GarbageCollection.decide([deploymentOwner], exists: { _ in false }) == .delete)
        #expect(GarbageCollection.decide([deploymentOwner, configOwner], exists: { $0.uid == "c1" }) == .dropOwners(["d1"]))
        #expect(GarbageCollection.decide([deploymentOwner, configOwner], exists: { _ in false }) == .delete)
        // An owner of a kind the server does not know is left alone.
        #expect(GarbageCollection.decide([deploymentOwner], exists: { _ in nil }) == .keep)
    }

    @Test func readsOwnerReferencesOfStoredObjects() {
        let pod: JSONValue = ["metadata": ["name": "p", "ownerReferences": [
            ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d1", "controller": true],
        ]]]
        #expect(GarbageCollection.owners(of: pod) == [deploymentOwner])
        #expect(GarbageCollection.owners(of: ["metadata": ["name": "p"]]).isEmpty)
        #expect(GarbageCollection.owners(of: ["metadata": ["ownerReferences": "nonsense"]]).isEmpty)
    }

    @Test func eventsExpireAfterTheirLastOccurrence() {
        let event: JSONValue = ["firstTimestamp": "2023-11-14T20:00:00Z", "lastTimestamp": "2023-11-14T22:00:00Z"]
        #expect(EventExpiry.secondsLeft(event, now: controllerNow, ttl: 3600) == 3600 - 800)
        #expect(EventExpiry.secondsLeft(event, now: controllerNow + 2800, ttl: 3600) == 0)
        #expect(EventExpiry.secondsLeft(["metadata": ["creationTimestamp": "2023-11-14T22:13:20Z"]], now: controllerNow, ttl: 60) == 60)
        #expect(EventExpiry.secondsLeft(["metadata": [:]], now: controllerNow, ttl: 60) <= 0)
    }

    @Test func everyNamespaceGetsADefaultServiceAccount() {
        let namespace: JSONValue = ["metadata": ["name": "shop"], "status": ["phase": "Active"]]
        #expect(ServiceAccountController.missingDefault(namespace: namespace, accountExists: false)
            == NamespaceStrategy.defaultServiceAccount(namespace: "shop"))
        #expect(ServiceAccountController.missingDefault(namespace: namespace, accountExists: true) == nil)
        #expect(ServiceAccountController.missingDefault(namespace: nil, accountExists: false) == nil)
        var terminating = namespace
        terminating[path: "status.phase"] = "Terminating"
        #expect(ServiceAccountController.missingDefault(namespace: terminating, accountExists: false) == nil)
    }
}

@Suite struct WorkQueueTests {
    let a = ObjectKey(GroupResource(resource: "pods"), namespace: "default", name: "a")
    let b = ObjectKey(GroupResource(resource: "pods"), namespace: "default", name: "b")

    @Test func aKeyWaitsOnceAndIsNeverSyncedTwiceAtOnce() async {
        let queue = WorkQueue()
        queue.add(a)
        queue.add(b)
        queue.add(a)
        #expect(queue.readyCount == 2)
        let first = await queue.next()
        #expect(first == a)
        queue.add(a)  // while a is being synced: not handed out again yet
        #expect(await queue.next() == b)
        #expect(queue.readyCount == 0)
        queue.done(a)  // now it is queued again
        #expect(await queue.next() == a)
        queue.done(a)
        queue.done(b)
        queue.stop()
        #expect(await queue.next() == nil)
    }

    @Test func delayedAddsKeepTheEarliestTime() async {
        let queue = WorkQueue()
        queue.add(a, after: .seconds(3600))
        queue.add(a, after: .milliseconds(1))
        queue.add(a, after: .seconds(7200))
        #expect(queue.delayedCount == 1)
        #expect(await queue.next() == a)  // after about a millisecond, not an hour
        queue.done(a)
        queue.add(b, after: .seconds(3600))
        queue.add(b)  // an immediate add overrides the delay
        #expect(queue.delayedCount == 0)
        #expect(await queue.next() == b)
        queue.stop()
    }

    @Test func cancellingTheWaiterEndsIt() async {
        let queue = WorkQueue()
        let waiter = Task { await queue.next() }
        waiter.cancel()
        #expect(await waiter.value == nil)
    }
}

@Suite struct BootstrapTests {
    @Test func seedsNamespacesWithTheirDefaultAccountsOnce() throws {
        let store = ResourceStore(options: StoreOptions(log: { _ in }))
        try store.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "older"]])
        #expect(try Bootstrap.seed(store) == Bootstrap.namespaces.count * 2 + 1)
        let accounts = store.list(GroupResource(resource: "serviceaccounts")).items
        #expect(Set(accounts.compactMap { $0[path: "metadata.namespace"]?.stringValue }) == Set(Bootstrap.namespaces + ["older"]))
        #expect(accounts.allSatisfy { $0[path: "metadata.name"] == "default" })
        #expect(try Bootstrap.seed(store) == 0)
    }
}
