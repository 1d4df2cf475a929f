import MeshControlPlane
import MeshModel
import Testing

/// Watch tests read only events that are already buffered (writes deliver
/// synchronously), so `next()` never waits. "Nothing else was sent" is shown
/// by writing a marker object and seeing it come next.
@Suite struct StoreWatchTests {
    @Test func unsetOrZeroResourceVersionStartsWithSyntheticAdds() async throws {
        for start in ["", "0"] {
            let store = ResourceStore(options: testOptions())
            try store.create(podsResource, pod("b"))
            try store.create(podsResource, pod("a"))
            try store.create(podsResource, pod("c", namespace: "other"))
            let watch = try store.watch(podsResource, namespace: "default", resourceVersion: start)
            try store.update(podsResource, pod("a", image: "v2"))
            try store.create(podsResource, pod("d", namespace: "other"))
            try store.create(podsResource, pod("marker"))

            var events = watch.makeAsyncIterator()
            var seen: [String] = []
            for _ in 0..<4 { seen.append(try await events.next()?.description ?? "end") }
            #expect(seen == ["ADDED default/a@2", "ADDED default/b@1", "MODIFIED default/a@4", "ADDED default/marker@6"])
        }
    }

    @Test func resumesAfterAResourceVersion() async throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("a"))  // 1
        try store.create(podsResource, pod("b"))  // 2
        try store.update(podsResource, pod("a", image: "v2"))  // 3
        try store.delete(ObjectKey(podsResource, namespace: "default", name: "b"))  // 4

        let watch = try store.watch(podsResource, resourceVersion: "2")
        var events = watch.makeAsyncIterator()
        let modified = try await events.next()
        #expect(modified?.type == .modified)
        #expect(modified?.object == (try store.get(ObjectKey(podsResource, namespace: "default", name: "a"))))
        let deleted = try await events.next()
        #expect(deleted?.description == "DELETED default/b@4")
        #expect(deleted?.object["spec"] == pod("b")["spec"], "a deleted object arrives in its last state")

        try store.create(podsResource, pod("c"))
        #expect(try await events.next()?.description == "ADDED default/c@5")

        // From the current revision: only what comes next.
        let fromNow = try store.watch(podsResource, resourceVersion: store.resourceVersion)
        try store.create(podsResource, pod("d"))
        var next = fromNow.makeAsyncIterator()
        #expect(try await next.next()?.description == "ADDED default/d@6")
    }

    @Test func aResourceVersionOlderThanTheHistoryHasExpired() throws {
        let store = ResourceStore(options: testOptions { $0.eventHistory = 5 })
        for i in 0..<10 { try store.create(podsResource, pod("p\(i)")) }
        let error = #expect(throws: StoreError.expired(requested: 2, oldest: 5)) {
            try store.watch(podsResource, resourceVersion: "2")
        }
        #expect(error?.description == "too old resource version: 2 (5)")
        _ = try store.watch(podsResource, resourceVersion: "5")
        #expect(throws: StoreError.badResourceVersion("abc")) { try store.watch(podsResource, resourceVersion: "abc") }
        #expect(throws: StoreError.badResourceVersion("-1")) { try store.watch(podsResource, resourceVersion: "-1") }
    }

    @Test func labelSelectorTransitionsBecomeAddedAndDeleted() async throws {
        let store = ResourceStore(options: testOptions())
        let selector = try LabelSelector(parsing: "app=web")
        let created = try store.create(podsResource, pod("p", labels: ["app": "db"]))  // 1: not matching
        let watch = try store.watch(podsResource, selector: selector, resourceVersion: "0")

        let matching = try store.update(podsResource, created.with(metadata: "labels", ["app": "web"]))  // 2
        let stillMatching = try store.update(podsResource, matching.with("spec", ["containers": []]))  // 3
        try store.update(podsResource, stillMatching.with(metadata: "labels", ["app": "db"]))  // 4
        try store.update(podsResource, pod("p", labels: ["app": "other"]))  // 5: invisible
        try store.create(podsResource, pod("marker", labels: ["app": "web"]))  // 6

        var events = watch.makeAsyncIterator()
        let added = try await events.next()
        #expect(added == WatchEvent(.added, matching))
        #expect(try await events.next() == WatchEvent(.modified, stillMatching))
        let left = try await events.next()
        // Stopping to match is a DELETED with the content it last matched with, at the new revision.
        #expect(left == WatchEvent(.deleted, stillMatching.with(metadata: "resourceVersion", "4")))
        #expect(try await events.next()?.description == "ADDED default/marker@6")
    }

    @Test func aDeletedNonMatchingObjectIsInvisible() async throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("db", labels: ["app": "db"]))
        let watch = try store.watch(podsResource, selector: try LabelSelector(parsing: "app=web"), resourceVersion: "1")
        try store.delete(ObjectKey(podsResource, namespace: "default", name: "db"))
        try store.create(podsResource, pod("web", labels: ["app": "web"]))
        try store.delete(ObjectKey(podsResource, namespace: "default", name: "web"))
        var events = watch.makeAsyncIterator()
        #expect(try await events.next()?.description == "ADDED default/web@3")
        #expect(try await events.next()?.description == "DELETED default/web@4")
    }

    @Test func resumingReplaysSelectorTransitionsToo() async throws {
        let store = ResourceStore(options: testOptions())
        let created = try store.create(podsResource, pod("p", labels: ["app": "web"]))
        try store.update(podsResource, created.with(metadata: "labels", ["app": "db"]))
        let watch = try store.watch(podsResource, selector: try LabelSelector(parsing: "app=web"), resourceVersion: "1")
        var events = watch.makeAsyncIterator()
        #expect(try await events.next()?.description == "DELETED default/p@2")
    }

    @Test func aWatcherThatFallsBehindIsClosedWithAnError() async throws {
        let store = ResourceStore(options: testOptions { $0.watchBuffer = 3 })
        try store.create(podsResource, pod("existing"))
        let watch = try store.watch(podsResource)  // one synthetic ADDED, not counted against the buffer
        for i in 0..<3 { try store.create(podsResource, pod("p\(i)")) }
        #expect(store.stats().watchers == 1)
        try store.create(podsResource, pod("one-too-many"))
        #expect(store.stats().watchers == 0, "the store let go of it")
        // Writers never waited; the consumer learns why its watch ended.
        var events = watch.makeAsyncIterator()
        await #expect(throws: StoreError.watchOverflow(capacity: 3)) { try await events.next() }
        #expect(try await events.next() == nil)
    }

    @Test func cancellingAWatchCleansUp() async throws {
        let store = ResourceStore(options: testOptions())

        // Explicit cancel.
        let watch = try store.watch(podsResource)
        #expect(store.stats().watchers == 1)
        watch.cancel()
        #expect(store.stats().watchers == 0)
        var events = watch.makeAsyncIterator()
        #expect(try await events.next() == nil)

        // Cancelling the consuming task, while it waits for an event.
        let waiting = try store.watch(podsResource)
        let consumer = Task {
            var count = 0
            for try await _ in waiting { count += 1 }
            return count
        }
        consumer.cancel()
        #expect(try await consumer.value == 0)
        #expect(store.stats().watchers == 0)

        // Dropping the watch without consuming it.
        do { _ = try store.watch(podsResource) }
        #expect(store.stats().watchers == 0)
    }

    @Test func aConsumerWaitingForEventsGetsThemAsTheyHappen() async throws {
        let store = ResourceStore(options: testOptions())
        let watch = try store.watch(podsResource)
        let consumer = Task {
            var names: [String] = []
            for try await event in watch {
                names.append(event.object.name ?? "")
                if names.count == 3 { break }
            }
            return names
        }
        for name in ["a", "b", "c"] { try store.create(podsResource, pod(name)) }
        #expect(try await consumer.value == ["a", "b", "c"])
    }

    @Test func closingTheStoreEndsWatches() async throws {
        let store = ResourceStore(options: testOptions())
        try store.create(podsResource, pod("a"))
        let watch = try store.watch(podsResource)
        store.close()
        var events = watch.makeAsyncIterator()
        #expect(try await events.next()?.description == "ADDED default/a@1", "what was buffered is still delivered")
        #expect(try await events.next() == nil)
    }

    @Test func watchesSeeOnlyTheirResourceAndNamespace() async throws {
        let store = ResourceStore(options: testOptions())
        let watch = try store.watch(virtualServicesResource, namespace: "prod", resourceVersion: "0")
        try store.create(podsResource, pod("web", namespace: "prod"))
        try store.create(virtualServicesResource, pod("web", namespace: "dev"))
        try store.create(virtualServicesResource, pod("web", namespace: "prod"))
        var events = watch.makeAsyncIterator()
        #expect(try await events.next()?.description == "ADDED prod/web@3")
    }
}
