import FoundationEssentials
@testable import MeshControlPlane
import MeshIO
import MeshModel
import MeshSystem
import Synchronization
import Testing

/// Runs a server on a free loopback port (or `address`) for `body`, then shuts it down
/// gracefully and checks that `run()` returned; the group is shut down even on failure.
func withDNSServer<T>(
    address: SocketAddress = .loopback(port: 0), store: ResourceStore? = nil,
    options: ClusterDNSOptions = ClusterDNSOptions(), snapshot: ClusterDNSSnapshot = .empty,
    _ body: (ClusterDNSServer, EventLoopGroup) async throws -> T
) async throws -> T {
    let group = try EventLoopGroup(threads: 2, name: "dns-test")
    defer { group.shutdown() }
    let server: ClusterDNSServer
    if let store {
        server = try ClusterDNSServer(address: address, store: store, options: options, group: group)
    } else {
        server = try ClusterDNSServer(address: address, options: options, group: group) { snapshot }
    }
    let token = GracefulShutdownToken()
    // On an event loop, not the cooperative pool: other tests block its threads at times.
    let running = Task(executorPreference: group.next()) { try await token.withCurrent { try await server.run() } }
    do {
        let result = try await body(server, group)
        token.trigger()
        try await running.value
        return result
    } catch {
        token.trigger()
        _ = try? await running.value
        throw error
    }
}

/// Sends `query` over UDP from a fresh socket and waits (at most 5 s) for the reply.
func udpExchange(_ query: [UInt8], with server: SocketAddress, on loop: EventLoop) async throws -> DNSMessage {
    let client = try UDPSocket.bind(to: .loopback(port: 0), on: loop)
    do {
        try await client.send(ByteBuffer(query), to: server)
        let reply = try await client.receive(timeout: .seconds(5))
        await client.close()
        return try DNSMessage(decoding: reply.bytes.readableArray)
    } catch {
        await client.close()
        throw error
    }
}

@Suite struct DNSServerTests {
    @Test func answersOverUDP() async throws {
        let snapshot = try DNSFixture.load().snapshot()
        try await withDNSServer(snapshot: snapshot) { server, group in
            #expect(server.localAddress.port != 0)
            let reply = try await udpExchange(DNSMessage.query(id: 77, "reviews.default.svc.cluster.local", .a).encoded(),
                                              with: server.localAddress, on: group.next())
            #expect(reply.id == 77)
            #expect(reply.answers.first?.data == .a(IPv4Address(10, 96, 0, 10)))
            let missing = try await udpExchange(DNSMessage.query(id: 78, "nosuch.default.svc.cluster.local", .a).encoded(),
                                                with: server.localAddress, on: group.next())
            #expect(missing.responseCode == .nameError)
            #expect(server.stats.udpQueries == 2)
        }
    }

    @Test func answersPipelinedQueriesOverTCPInOrder() async throws {
        let snapshot = try DNSFixture.load().snapshot()
        try await withDNSServer(snapshot: snapshot) { server, group in
            let connection = try await SocketConnection.connect(to: server.localAddress, timeout: .seconds(5), on: group.next())
            let first = DNSTCPFraming.frame(DNSMessage.query(id: 1, "reviews.default.svc.cluster.local", .a).encoded())!
            let second = DNSTCPFraming.frame(DNSMessage.query(id: 2, "web.default.svc.cluster.local", .a).encoded())!
            let both = first + second
            // Two queries, the second split across writes.
            try await connection.write(ByteBuffer(Array(both.prefix(first.count + 5))), timeout: .seconds(5))
            try await connection.write(ByteBuffer(Array(both.dropFirst(first.count + 5))), timeout: .seconds(5))
            var pending: [UInt8] = []
            var replies: [DNSMessage] = []
            while replies.count < 2 {
                guard let chunk = try await connection.read(maxBytes: 65_536, timeout: .seconds(5)) else { break }
                pending += chunk.readableArray
                while let message = DNSTCPFraming.nextMessage(from: &pending) { replies.append(try DNSMessage(decoding: message)) }
            }
            #expect(replies.map(\.id) == [1, 2])
            #expect(replies.last?.answers.count == 2)
            #expect(server.stats.tcpQueries == 2)
            await connection.close()
        }
    }

    @Test func idleTCPConnectionsAreClosed() async throws {
        try await withDNSServer(options: ClusterDNSOptions(tcpIdleTimeout: .milliseconds(50))) { server, group in
            let connection = try await SocketConnection.connect(to: server.localAddress, timeout: .seconds(5), on: group.next())
            // The server hangs up: end of stream, well before this read's own 5 s timeout.
            #expect(try await connection.read(maxBytes: 100, timeout: .seconds(5)) == nil)
            await connection.close()
        }
    }

    @Test func gracefulShutdownClosesOpenTCPConnections() async throws {
        let group = try EventLoopGroup(threads: 1, name: "dns-test")
        defer { group.shutdown() }
        let server = try ClusterDNSServer(address: .loopback(port: 0), group: group) { .empty }
        let token = GracefulShutdownToken()
        let running = Task { try await token.withCurrent { try await server.run() } }
        let connection = try await SocketConnection.connect(to: server.localAddress, timeout: .seconds(5), on: group.next())
        // Make sure it was accepted: one exchange.
        try await connection.write(ByteBuffer(DNSTCPFraming.frame(DNSMessage.query(id: 1, "x.cluster.local", .a).encoded())!), timeout: .seconds(5))
        #expect(try await connection.read(maxBytes: 1024, timeout: .seconds(5)) != nil)
        token.trigger()
        try await running.value  // returns although the client never hung up
        #expect(try await connection.read(maxBytes: 100, timeout: .seconds(5)) == nil)
        await connection.close()
    }

    @Test func aTakenAddressFailsWhenMadeNotLater() async throws {
        _ = try await withDNSServer { server, group in
            #expect(throws: SystemError.self) {
                _ = try ClusterDNSServer(address: server.localAddress, group: group) { .empty }
            }
        }
    }
}

@Suite struct DNSFeedTests {
    private func makeStore() -> ResourceStore {
        ResourceStore(options: StoreOptions(sync: .never, log: { _ in }))
    }

    private func service(_ name: String, namespace: String = "default", clusterIP: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "spec": ["clusterIP": .string(clusterIP), "ports": [["name": "http", "port": 9080]]]]
    }

    @Test func theFirstSnapshotHasWhatTheStoreHeld() throws {
        let store = makeStore()
        defer { store.close() }
        for object in try DNSFixture.load().objects {
            let resource: GroupResource
            switch object["kind"]?.stringValue {
            case "Namespace": resource = .namespaces
            case "Service": resource = ClusterDNSFeed.services
            case "Endpoints": resource = ClusterDNSFeed.endpoints
            default: resource = ClusterDNSFeed.pods
            }
            try store.create(resource, object)
        }
        let feed = ClusterDNSFeed(store: store)
        let snapshot = feed.snapshot
        #expect(snapshot.serial == UInt32(store.resourceVersion))
        let fixed = try DNSFixture.load().snapshot(serial: snapshot.serial)
        let resolver = ClusterDNSResolver()
        // Every row of the table answers the same from the store as from the typed fixture.
        for (name, type) in DNSResolverTests.table {
            #expect(resolver.respond(name, type, in: snapshot) == resolver.respond(name, type, in: fixed), "\(name) \(type)")
        }
    }

    @Test func changesInTheStoreReachTheAnswers() async throws {
        let store = makeStore()
        defer { store.close() }
        try store.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "default"]])
        try await withDNSServer(store: store) { server, group in
            let feed = try #require(server.feed)
            func ask() async throws -> DNSMessage {
                try await udpExchange(DNSMessage.query(id: 1, "reviews.default.svc.cluster.local", .a).encoded(),
                                      with: server.localAddress, on: group.next())
            }
            /// Asks until `done` holds, at most 200 times (the watch delivers asynchronously).
            func eventually(_ done: (DNSMessage) -> Bool) async throws -> DNSMessage {
                var reply = try await ask()
                for _ in 0..<200 where !done(reply) {
                    try await Task.sleep(for: .milliseconds(10))
                    reply = try await ask()
                }
                return reply
            }
            #expect(try await ask().responseCode == .nameError)

            try store.create(ClusterDNSFeed.services, service("reviews", clusterIP: "10.96.0.10"))
            let added = try await eventually { !$0.answers.isEmpty }
            #expect(added.answers.first?.data == .a(IPv4Address(10, 96, 0, 10)))

            try store.update(ClusterDNSFeed.services, service("reviews", clusterIP: "10.96.0.99"))
            let changed = try await eventually { $0.answers.first?.data == .a(IPv4Address(10, 96, 0, 99)) }
            #expect(changed.answers.first?.data == .a(IPv4Address(10, 96, 0, 99)))

            try store.delete(ObjectKey(ClusterDNSFeed.services, namespace: "default", name: "reviews"))
            #expect(try await eventually { $0.responseCode == .nameError }.responseCode == .nameError)

            // A burst of writes with no lookup between them costs one rebuild at the next lookup.
            _ = feed.snapshot
            let before = feed.rebuildCount
            for index in 0..<20 { try store.create(ClusterDNSFeed.services, service("s\(index)", clusterIP: "10.96.1.\(index)")) }
            _ = try await eventually { _ in feed.snapshot.serviceCount == 20 }
            #expect(feed.snapshot.serviceCount == 20)
            #expect(feed.rebuildCount - before < 20)
        }
    }

    @Test func objectsThatDoNotDecodeAreSkippedAndLogged() throws {
        let store = makeStore()
        defer { store.close() }
        let broken: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "broken", "namespace": "default"],
                                 "spec": ["ports": "not a list"]]
        try store.create(ClusterDNSFeed.services, broken)
        try store.create(ClusterDNSFeed.services, service("fine", clusterIP: "10.96.0.1"))
        let lines = Mutex<[String]>([])
        let feed = ClusterDNSFeed(store: store, log: { line in lines.withLock { $0.append(line) } })
        #expect(feed.snapshot.serviceCount == 1)
        #expect(lines.withLock { $0 }.contains { $0.contains("default/broken") })
    }
}
