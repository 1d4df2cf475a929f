@testable import MeshControlPlane
import MeshIO
import MeshModel
@testable import MeshProxy
import MeshSystem
import MeshTestSupport
import Testing

/// meshd's push server and the sidecar's client over loopback, with a test
/// translation and a recording sink: pushes, ACK/NACK bookkeeping, debounce,
/// reconnects and the status `proxy-status` shows.
@Suite struct PushTests {
    let proxy = "web-1.default"

    @Test func firstPushIsAckedPerType() async throws {
        let store = ResourceStore()
        try store.create(PushFixture.services, PushFixture.service("reviews"))
        let sink = RecordingSink()
        try await withPushServer(store: store) { server in
            try await withDiscoveryClient(to: server.localAddress, sink: sink) { client in
                await eventually("all four types are synced") { server.allSynced(proxy) }
                #expect(sink.applied.map(\.type) == ProxyResourceType.pushOrder)
                #expect(sink.applied(.cluster).first?.count == 1)
                for type in ProxyResourceType.pushOrder {
                    let record = try #require(server.record(proxy, type))
                    #expect(record.ackedVersion == record.sentVersion)
                    #expect(record.ackedNonce == record.sentNonce)
                    #expect(client.acceptedVersions[type] == record.sentVersion)
                }
                let syncz = server.syncz()
                #expect(syncz[0]?["proxy"] == "web-1.default")
                #expect(syncz[0]?["cluster_acked"] == syncz[0]?["cluster_sent"])
                #expect(syncz[0]?["meshlab"]?["types"]?["CDS"]?["status"] == "SYNCED")
                #expect(server.configDump(proxyID: proxy)?["clusters"]?[0]?["name"]
                    == "outbound|80||reviews.default.svc.cluster.local")
            }
        }
    }

    @Test func aChangePushesOnlyTheChangedType() async throws {
        let store = ResourceStore()
        let sink = RecordingSink()
        try await withPushServer(store: store) { server in
            try await withDiscoveryClient(to: server.localAddress, sink: sink) { _ in
                await eventually("synced") { server.allSynced(proxy) }
                let before = try #require(server.record(proxy, .cluster)?.sentVersion)
                try store.create(PushFixture.services, PushFixture.service("ratings"))
                await eventually("the new clusters are acked") {
                    server.allSynced(proxy) && server.record(proxy, .cluster)?.ackedVersion != before
                }
                #expect(sink.applied.map(\.type) == ProxyResourceType.pushOrder + [.cluster])
                #expect(sink.applied(.cluster).last?.count == 1)
            }
        }
    }

    @Test func refusedConfigIsAnErrorUntilTheNextGoodPush() async throws {
        let store = ResourceStore()
        let sink = RecordingSink()
        sink.refuse([.route])
        try await withPushServer(store: store) { server in
            try await withDiscoveryClient(to: server.localAddress, sink: sink) { client in
                await eventually("RDS is refused") { server.status(proxy, .route) == .error }
                #expect(server.record(proxy, .route)?.lastError == "RDS refused by the test sink")
                #expect(server.record(proxy, .route)?.ackedVersion == nil)
                #expect(client.acceptedVersions[.route] == nil)
                #expect(server.status(proxy, .cluster) == .synced)

                // Another type changes: RDS is not sent again (no NACK loop) and stays ERROR.
                try store.create(PushFixture.services, PushFixture.service("ratings"))
                await eventually("the new clusters are acked") { server.record(proxy, .cluster)?.resourceCount == 1
                    && server.status(proxy, .cluster) == .synced }
                #expect(server.status(proxy, .route) == .error)
                let routeSends = server.record(proxy, .route)?.sentNonce

                // The data plane accepts again and routes change: healed.
                sink.refuse([])
                try store.create(PushFixture.virtualServices, PushFixture.virtualService("reviews"))
                await eventually("RDS is synced") { server.status(proxy, .route) == .synced }
                #expect(server.record(proxy, .route)?.sentNonce != routeSends)
                #expect(sink.applied(.route).last?.count == 1)
                #expect(client.acceptedVersions[.route] == server.record(proxy, .route)?.ackedVersion)
            }
        }
    }

    @Test func debounceMergesABurstIntoOnePush() async throws {
        let store = ResourceStore()
        let sink = RecordingSink()
        let clock = ManualClock()
        let options = PushServerOptions(debounce: .milliseconds(10), generate: pushTestGenerate, clock: clock)
        try await withPushServer(store: store, options: options) { server in
            try await withDiscoveryClient(to: server.localAddress, sink: sink) { _ in
                await eventually("synced") { server.allSynced(proxy) }
                let rounds = server.pushRoundCount
                for name in ["a", "b", "c", "d", "e"] { try store.create(PushFixture.services, PushFixture.service(name)) }
                try store.create(PushFixture.virtualServices, PushFixture.virtualService("a"))
                // Every change has reached the feed while the window is still open.
                await eventually("the feed saw the burst") {
                    server.feed.snapshot().snapshot.services.count == 5 && server.feed.snapshot().snapshot.virtualServices.count == 1
                }
                await clock.waitForSleepers(1)
                #expect(server.pushRoundCount == rounds)
                clock.advance(by: .milliseconds(10))
                await eventually("the burst is acked") { server.allSynced(proxy) && server.record(proxy, .route)?.resourceCount == 1 }
                #expect(server.pushRoundCount == rounds + 1)
                #expect(sink.applied(.cluster).map(\.count) == [0, 5])
                #expect(sink.applied(.route).map(\.count) == [0, 1])
            }
        }
    }

    @Test func clientKeepsItsConfigAndReconnectsToARestartedServer() async throws {
        let store = ResourceStore()
        let sink = RecordingSink()
        let listener = try SocketListener.bind(.loopback(port: 0), group: .shared)
        let port = try #require(listener.localAddress.port)
        let first = PushServer(store: store, listener: listener, options: PushServerOptions(generate: pushTestGenerate))
        let running = Task { await first.runUntilCancelled() }
        defer { running.cancel() }
        try await withDiscoveryClient(to: listener.localAddress, sink: sink) { client in
            await eventually("synced") { first.allSynced(proxy) }
            let versions = client.acceptedVersions
            running.cancel()
            await running.value
            await eventually("the client saw meshd go") { !client.isConnected }
            #expect(client.acceptedVersions == versions)
            try store.create(PushFixture.services, PushFixture.service("ratings"))  // changed while meshd is down
            try await withPushServer(store: store, port: port) { second in
                await eventually("synced with the new meshd") {
                    second.allSynced(proxy) && second.record(proxy, .cluster)?.resourceCount == 1
                }
                #expect(client.streamCount == 2)
                #expect(sink.applied(.cluster).last?.count == 1)
                #expect(client.acceptedVersions[.cluster] == second.record(proxy, .cluster)?.ackedVersion)
            }
        }
    }

    @Test func aProxyIsDroppedOnDisconnectOnlyWhenItsPodIsGone() async throws {
        let store = ResourceStore()
        try store.create(PushFixture.pods, PushFixture.pod("web-1"))
        try await withPushServer(store: store) { server in
            try await withDiscoveryClient(to: server.localAddress, pod: "web-1", sink: RecordingSink()) { _ in
                await eventually("web-1 synced") { server.allSynced("web-1.default") }
            }
            try await withDiscoveryClient(to: server.localAddress, pod: "gone-1", sink: RecordingSink()) { _ in
                await eventually("gone-1 synced") { server.allSynced("gone-1.default") }
            }
            await eventually("both streams ended") { server.connectedCount == 0 }
            let syncz = server.syncz()
            #expect(syncz.arrayValue?.count == 1)
            #expect(syncz[0]?["proxy"] == "web-1.default")
            #expect(syncz[0]?["meshlab"]?["connected"] == false)
            // Its pod deleted: dropped at the next push.
            try store.delete(ObjectKey(PushFixture.pods, namespace: "default", name: "web-1"))
            await eventually("web-1 is forgotten") { server.syncz().arrayValue?.isEmpty == true }
        }
    }
}
