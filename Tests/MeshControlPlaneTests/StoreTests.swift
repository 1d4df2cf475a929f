import Foundation
import MeshControlPlane
import MeshModel
import Testing

@Suite struct StoreCRUDTests {
    @Test func createFillsTheMetadataTheStoreOwns() throws {
        let store = ResourceStore(options: testOptions())
        let input = pod("web")
            .with(metadata: "uid", "client-uid")
            .with(metadata: "resourceVersion", "999")
            .with(metadata: "creationTimestamp", "1999-01-01T00:00:00Z")
            .with(metadata: "generation", 7)
        let created = try store.create(podsResource, input)
        #expect(created["metadata"] == [
            "name": "web", "namespace": "default", "uid": "uid-1", "resourceVersion": "1", "generation": 1,
            "creationTimestamp": "2023-11-14T22:13:20Z",
        ])
        #expect(created["spec"] == input["spec"])
        #expect(try store.get(ObjectKey(podsResource, namespace: "default", name: "web")) == created)
        #expect(store.resourceVersion == "1")
    }

    @Test func createTwiceIsAlreadyExists() throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("web"))
        let error = #expect(throws: StoreError.alreadyExists(podsResource, name: "web")) {
            try store.create(podsResource, pod("web"))
        }
        #expect(error?.description == #"pods "web" already exists"#)
        // Same name in another namespace or resource is another object.
        try store.create(podsResource, pod("web", namespace: "other"))
        try store.create(deploymentsResource, pod("web"))
        #expect(store.resourceVersion == "3")
    }

    @Test func messagesUseTheGroupQualifiedResourceName() {
        let store = ResourceStore(options: testOptions())
        let error = #expect(throws: StoreError.self) {
            try store.get(ObjectKey(virtualServicesResource, namespace: "default", name: "reviews"))
        }
        #expect(error?.description == #"virtualservices.networking.istio.io "reviews" not found"#)
        #expect(StoreError.notFound(podsResource, name: "web").description == #"pods "web" not found"#)
        #expect(StoreError.conflict(podsResource, name: "web", currentResourceVersion: "3", reason: "the object has been modified; please apply your changes to the latest version and try again").description
            == #"Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again"#)
    }

    @Test func rejectsObjectsWithoutAName() {
        let store = ResourceStore(options: testOptions())
        let error = #expect(throws: StoreError.self) { try store.create(podsResource, ["metadata": ["namespace": "x"]]) }
        #expect(error?.description == #"pods "" is invalid: metadata.name: Required value: name or generateName is required"#)
        #expect(throws: StoreError.self) { try store.create(podsResource, "not an object") }
        #expect(throws: StoreError.self) { try store.create(podsResource, ["kind": "Pod"]) }
        #expect(throws: StoreError.self) { try store.create(podsResource, ["metadata": ["name": "a", "namespace": 3]]) }
    }

    @Test func rejectsNumbersJSONCannotCarry() {
        let store = ResourceStore(options: testOptions())
        let error = #expect(throws: StoreError.self) {
            try store.create(podsResource, pod("web").with("spec", ["weights": [1.0, .double(.nan)]]))
        }
        #expect(error?.description == #"pods "web" is invalid: spec.weights[1]: Invalid value: NaN: must be a finite number"#)
    }

    @Test func updateChecksTheResourceVersion() throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(podsResource, pod("web"))
        let updated = try store.update(podsResource, created.with(metadata: "labels", ["v": "2"]))
        #expect(updated.resourceVersion == "2")

        // The first version is stale now.
        let stale = created.with(metadata: "labels", ["v": "3"])
        let error = #expect(throws: StoreError.self) { try store.update(podsResource, stale) }
        #expect(error == .conflict(podsResource, name: "web", currentResourceVersion: "2", reason: "the object has been modified; please apply your changes to the latest version and try again"))
        #expect(try store.get(ObjectKey(podsResource, namespace: "default", name: "web")) == updated)

        // Without a resourceVersion the update is unconditional...
        let unconditional = try store.update(podsResource, stale.with(metadata: "resourceVersion", nil))
        #expect(unconditional.resourceVersion == "3")
        #expect(unconditional["metadata"]?["labels"] == ["v": "3"])
        // ...unless the kind requires one (custom resources).
        let required = #expect(throws: StoreError.self) {
            try store.update(podsResource, stale.with(metadata: "resourceVersion", nil), requireResourceVersion: true)
        }
        #expect(required?.description == #"pods "web" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"#)

        #expect(throws: StoreError.self) { try store.update(podsResource, stale.with(metadata: "resourceVersion", "abc")) }
        #expect(throws: StoreError.notFound(podsResource, name: "nope")) { try store.update(podsResource, pod("nope")) }
    }

    @Test func updateKeepsUIDAndCreationTimestamp() throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(podsResource, pod("web"))
        let updated = try store.update(podsResource, pod("web", image: "nginx:2")
            .with(metadata: "creationTimestamp", "2000-01-01T00:00:00Z"))
        #expect(updated["metadata"]?["uid"] == created["metadata"]?["uid"])
        #expect(updated["metadata"]?["creationTimestamp"] == "2023-11-14T22:13:20Z")

        let error = #expect(throws: StoreError.self) {
            try store.update(podsResource, updated.with(metadata: "uid", "someone-else"))
        }
        #expect(error?.description == #"pods "web" is invalid: metadata.uid: Invalid value: "someone-else": field is immutable"#)
    }

    @Test func generationCountsSpecChangesOnly() throws {
        let store = ResourceStore(options: testOptions())
        var current = try store.create(podsResource, pod("web"))
        #expect(current["metadata"]?["generation"] == 1)

        current = try store.update(podsResource, current.with(metadata: "labels", ["a": "b"]))
        #expect(current["metadata"]?["generation"] == 1, "metadata-only change")
        current = try store.update(podsResource, current.with("status", ["phase": "Running"]))
        #expect(current["metadata"]?["generation"] == 1, "status-only change")
        current = try store.update(podsResource, current.with("apiVersion", "v2"))
        #expect(current["metadata"]?["generation"] == 1, "apiVersion is not content")

        current = try store.update(podsResource, current.with("spec", ["containers": []]))
        #expect(current["metadata"]?["generation"] == 2)
        current = try store.update(podsResource, current.with("data", ["k": "v"]))
        #expect(current["metadata"]?["generation"] == 3, "any field outside metadata and status counts")
        // A client cannot set it.
        current = try store.update(podsResource, current.with(metadata: "generation", 40))
        #expect(current["metadata"]?["generation"] == 3)
        #expect(current.resourceVersion == "6")
    }

    @Test func anUpdateThatChangesNothingWritesNothing() async throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(podsResource, pod("web", labels: ["app": "web"]))
        let watch = try store.watch(podsResource, resourceVersion: "1")

        // Same content, resourceVersion given or not, keys in another order.
        #expect(try store.update(podsResource, created) == created)
        #expect(try store.update(podsResource, created.with(metadata: "resourceVersion", nil)) == created)
        let reordered = JSONValue.object(JSONObject(created.objectValue!.pairs.reversed()))
        #expect(try store.update(podsResource, reordered) == created)
        #expect(try store.guaranteedUpdate(ObjectKey(podsResource, namespace: "default", name: "web")) { $0 } == created)
        #expect(store.resourceVersion == "1")

        // No events were sent: the next event is the marker.
        try store.create(podsResource, pod("marker"))
        var events = watch.makeAsyncIterator()
        #expect(try await events.next()?.description == "ADDED default/marker@2")
    }

    @Test func guaranteedUpdateAppliesTheTransformAtomically() async throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("counter").with("data", ["n": 0]))
        let key = ObjectKey(podsResource, namespace: "default", name: "counter")
        // Many concurrent read-modify-writes: none is lost, none conflicts.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<50 {
                        try store.guaranteedUpdate(key) { object in
                            object.with("data", ["n": .int((object["data"]?["n"]?.intValue ?? 0) + 1)])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try store.get(key)
        #expect(final["data"]?["n"] == 400)
        #expect(final.resourceVersion == "401")
        #expect(final["metadata"]?["generation"] == 401)

        struct PatchFailed: Error {}
        #expect(throws: PatchFailed.self) { try store.guaranteedUpdate(key) { _ in throw PatchFailed() } }
        #expect(throws: StoreError.self) { try store.guaranteedUpdate(key) { $0.with(metadata: "name", "other") } }
        #expect(throws: StoreError.self) {
            try store.guaranteedUpdate(ObjectKey(podsResource, namespace: "default", name: "missing")) { $0 }
        }
        #expect(store.resourceVersion == "401")
    }

    @Test func deleteReturnsTheLastStateAtANewRevision() throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(podsResource, pod("web"))
        let key = ObjectKey(podsResource, namespace: "default", name: "web")

        #expect(throws: StoreError.conflict(podsResource, name: "web", currentResourceVersion: "1",
                                            reason: "Precondition failed: UID in precondition: x, UID in object meta: uid-1")) {
            try store.delete(key, preconditions: DeletePreconditions(uid: "x"))
        }
        #expect(throws: StoreError.conflict(podsResource, name: "web", currentResourceVersion: "1",
                                            reason: "Precondition failed: ResourceVersion in precondition: 7, ResourceVersion in object meta: 1")) {
            try store.delete(key, preconditions: DeletePreconditions(resourceVersion: "7"))
        }
        let deleted = try store.delete(key, preconditions: DeletePreconditions(uid: "uid-1", resourceVersion: "1"))
        #expect(deleted == created.with(metadata: "resourceVersion", "2"))
        #expect(throws: StoreError.notFound(podsResource, name: "web")) { try store.get(key) }
        #expect(throws: StoreError.notFound(podsResource, name: "web")) { try store.delete(key) }
        #expect(store.stats().objects == 0)
    }

    @Test func listFiltersByNamespaceAndSelectorAndSorts() throws {
        let store = ResourceStore(options: testOptions())
        for (name, ns, app) in [("b", "prod", "web"), ("a", "prod", "db"), ("c", "dev", "web"), ("a", "dev", "web")] {
            try store.create(podsResource, pod(name, namespace: ns, labels: ["app": app]))
        }
        try store.create(deploymentsResource, pod("a", namespace: "prod"))

        let all = store.list(podsResource)
        #expect(all.items.map { "\($0["metadata"]!["namespace"]!.stringValue!)/\($0.name!)" }
            == ["dev/a", "dev/c", "prod/a", "prod/b"])
        #expect(all.resourceVersion == "5")
        #expect(store.list(podsResource, namespace: "prod").items.map(\.name) == ["a", "b"])
        #expect(store.list(podsResource, selector: try LabelSelector(parsing: "app=web")).items.count == 3)
        #expect(store.list(podsResource, namespace: "prod", selector: try LabelSelector(parsing: "app!=db")).items.map(\.name) == ["b"])
        #expect(store.list(podsResource, namespace: "nowhere").items.isEmpty)
        #expect(store.list(GroupResource(resource: "services")).items.isEmpty)
    }

    @Test func deletingANamespaceDeletesEverythingInIt() async throws {
        let store = ResourceStore(options: testOptions())
        try store.create(.namespaces, namespace("prod"))
        try store.create(.namespaces, namespace("dev"))
        try store.create(podsResource, pod("web", namespace: "prod"), namespaceMustExist: true)
        try store.create(podsResource, pod("db", namespace: "prod"), namespaceMustExist: true)
        try store.create(deploymentsResource, pod("web", namespace: "prod"), namespaceMustExist: true)
        try store.create(podsResource, pod("web", namespace: "dev"), namespaceMustExist: true)
        #expect(throws: StoreError.notFound(.namespaces, name: "missing")) {
            try store.create(podsResource, pod("web", namespace: "missing"), namespaceMustExist: true)
        }
        #expect(store.namespaceExists("prod"))

        let podWatch = try store.watch(podsResource, resourceVersion: store.resourceVersion)
        let namespaceWatch = try store.watch(.namespaces, resourceVersion: store.resourceVersion)
        try store.delete(ObjectKey(.namespaces, name: "prod"))

        #expect(!store.namespaceExists("prod"))
        #expect(store.list(podsResource, namespace: "prod").items.isEmpty)
        #expect(store.list(deploymentsResource).items.isEmpty)
        #expect(store.list(podsResource).items.map(\.name) == ["web"], "dev is untouched")
        #expect(store.resourceVersion == "10")

        // Contents go first (resource, then name order), the namespace last.
        var pods = podWatch.makeAsyncIterator()
        #expect(try await pods.next()?.description == "DELETED prod/db@7")
        #expect(try await pods.next()?.description == "DELETED prod/web@8")
        var namespaces = namespaceWatch.makeAsyncIterator()
        #expect(try await namespaces.next()?.description == "DELETED prod@10")
    }

    @Test func clusterScopedObjectsHaveNoNamespace() throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(.namespaces, namespace("prod"))
        #expect(created["metadata"]?["namespace"] == nil)
        #expect(try store.get(ObjectKey(.namespaces, name: "prod")) == created)
        #expect(store.list(.namespaces, namespace: "").items == [created])
    }

    @Test func closedStoreRefusesWork() throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("web"))
        store.close()
        store.close()
        #expect(throws: StoreError.unavailable(reason: "the store is closed")) { try store.create(podsResource, pod("x")) }
        #expect(throws: StoreError.self) { try store.watch(podsResource) }
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_700_000_000.9, "2023-11-14T22:13:20Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
        (-1, "1969-12-31T23:59:59Z"),
    ])
    func creationTimestampsAreRFC3339InUTC(seconds: Double, expected: String) throws {
        let store = ResourceStore(options: testOptions { $0.clock = { Date(timeIntervalSince1970: seconds) } })
        #expect(try store.create(podsResource, pod("p"))["metadata"]?["creationTimestamp"] == .string(expected))
    }

    @Test func manyCreatesAndNamespaceListsStayCheap() throws {
        // Not a timing assertion: it runs 10k creates so a quadratic slip shows
        // up as a slow test run; `StoreBenchmark` prints the numbers.
        let store = ResourceStore(options: testOptions())
        for i in 0..<10_000 {
            try store.create(podsResource, pod("p\(i)", namespace: "ns\(i % 100)"))
        }
        #expect(store.stats().objects == 10_000)
        #expect(store.list(podsResource, namespace: "ns7").items.count == 100)
    }
}
