import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// Settings of meshd's push server.
public struct PushServerOptions: Sendable {
    /// How long a change waits for more before config is pushed: every change
    /// within one window goes out in one push (Istio's debounce is 100 ms).
    public var debounce: Duration
    /// Translation; tests inject their own so they do not depend on its output.
    public var generate: @Sendable (ProxyNode, MeshSnapshot) -> ProxyConfig
    /// Longest message accepted from a proxy.
    public var maxMessageBytes: Int
    /// Times the debounce window (a `ManualClock` in tests).
    public var clock: any Clock<Duration>
    /// Seconds since the epoch, for the sync records.
    public var now: @Sendable () -> Int
    public var log: @Sendable (String) -> Void

    public init(debounce: Duration = .milliseconds(10),
                generate: @escaping @Sendable (ProxyNode, MeshSnapshot) -> ProxyConfig = ProxyConfigGenerator.config,
                maxMessageBytes: Int = DiscoveryWire.defaultMaxMessageBytes, clock: any Clock<Duration> = ContinuousClock(),
                now: @escaping @Sendable () -> Int = { Timestamp.now() },
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.debounce = debounce
        self.generate = generate
        self.maxMessageBytes = maxMessageBytes
        self.clock = clock
        self.now = now
        self.log = log
    }
}

/// meshd's config push (istiod's xDS server): one long-lived stream per
/// sidecar on port 15010 (wire format: `DiscoveryWire`), config from the
/// store through translation, xDS state-of-the-world rules per stream
/// (`ProxyStream`), and the sync records behind `/debug/syncz`.
///
/// Flow: the store feed signals a change → wait `debounce` (more changes
/// join the same push) → one snapshot → for each connected proxy its config
/// → each stream sends the types whose version changed. A proxy is known by
/// the node of its first request; a second stream with the same node id
/// replaces the first. When a stream ends its records stay (marked
/// disconnected) while the pod exists, so `proxy-status` shows a sidecar that
/// lost meshd; they are dropped once the pod is gone.
public final class PushServer: MeshIO.Service {
    public let options: PushServerOptions
    let feed: MeshSnapshotFeed
    private let listener: SocketListener
    private let registry = Mutex(Registry())
    /// Tells each server run's nonces apart (a restarted meshd never reuses one).
    private let noncePrefix: String
    private let nextConnectionID = Atomic<Int>(0)
    private let pushRounds = Atomic<Int>(0)

    struct Registry {
        var connections: [Int: ProxyConnection] = [:]
        /// Streams that ended while their pod still exists: node and last records.
        var disconnected: [String: ProxyStream] = [:]
        var snapshot = MeshSnapshot()
        var generation: UInt64 = 0
        var stopped = false
    }

    /// Serves pushes on `listener` (meshd binds 15010) from `store`.
    public init(store: ResourceStore, listener: SocketListener, options: PushServerOptions = PushServerOptions()) {
        self.options = options
        self.listener = listener
        feed = MeshSnapshotFeed(store: store, log: options.log)
        var random = SystemRandomNumberGenerator()
        noncePrefix = String(random.next() as UInt32, radix: 36)
        let (snapshot, generation) = feed.snapshot()
        registry.withLock {
            $0.snapshot = snapshot
            $0.generation = generation
        }
    }

    public var localAddress: SocketAddress { listener.localAddress }

    /// How many times config was computed and offered to the connected proxies.
    public var pushRoundCount: Int { pushRounds.load(ordering: .relaxed) }

    /// Proxies with an open stream.
    public var connectedCount: Int { registry.withLock { $0.connections.count } }

    // MARK: Running

    /// Serves until graceful shutdown or cancellation, then closes every stream.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { await self.runUntilCancelled() }
    }

    public func runUntilCancelled() async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.feed.run() }
                group.addTask { await self.pushLoop() }
                await acceptLoop(group: &group)
            }
        } onCancel: {
            let streams = registry.withLock { registry -> [any ByteStream] in
                registry.stopped = true
                return registry.connections.values.map(\.stream)
            }
            let listener = self.listener
            Task {
                await listener.close()
                for stream in streams { await stream.close() }
            }
        }
    }

    private func acceptLoop(group: inout DiscardingTaskGroup) async {
        while !Task.isCancelled {
            let stream: SocketConnection
            do {
                stream = try await listener.accept()
            } catch {
                if Task.isCancelled || error is CancellationError { return }
                if case IOError.closed = error { return }
                options.log("push: accept failed: \(error)")
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            group.addTask(executorPreference: stream.eventLoop) { await self.serve(stream) }
        }
    }

    /// Waits for changes, lets each burst settle for `debounce`, pushes once per burst.
    private func pushLoop() async {
        var pushed = registry.withLock { $0.generation }
        for await _ in feed.changes {
            if feed.generation == pushed { continue }  // already part of the last push
            do {
                try await options.clock.sleep(for: options.debounce)
            } catch {
                return
            }
            pushed = await pushNow()
        }
    }

    /// Takes a snapshot and offers every connected proxy its config now; returns the generation pushed.
    @discardableResult
    func pushNow() async -> UInt64 {
        let (snapshot, generation) = feed.snapshot()
        let connections = registry.withLock { registry -> [ProxyConnection] in
            registry.snapshot = snapshot
            registry.generation = generation
            registry.disconnected = registry.disconnected.filter {
                feed.podExists(namespace: $0.value.node.namespace, name: $0.value.node.podName)
            }
            return Array(registry.connections.values)
        }
        pushRounds.add(1, ordering: .relaxed)
        var cache = ProxyResources.EncodingCache()
        for connection in connections {
            let resources = ProxyResources(options.generate(connection.node, snapshot), cache: &cache)
            connection.update(to: resources, now: options.now())
        }
        return generation
    }

    // MARK: One stream

    private func serve(_ stream: SocketConnection) async {
        let peer = stream.remoteAddress.map { "\($0)" } ?? "?"
        var decoder = DiscoveryFrameDecoder(maxMessageBytes: options.maxMessageBytes)
        var connection: ProxyConnection?
        do {
            guard try await Self.acceptHandshake(stream, decoder: &decoder) else {
                options.log("push: closing connection from \(peer): not a push stream handshake")
                await stream.close()
                return
            }
            guard let first = try await Self.readMessage(DiscoveryRequest.self, from: stream, decoder: &decoder) else {
                await stream.close()
                return
            }
            guard let node = first.node else {
                throw DiscoveryFrameError.badMessage(reason: "the first request carries no node")
            }
            let registered = register(node, stream: stream)
            connection = registered
            options.log("push: \(node.id) connected from \(peer)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await registered.writeOutgoing() }
                registered.receive(first, now: options.now())
                while let request = try await Self.readMessage(DiscoveryRequest.self, from: stream, decoder: &decoder) {
                    registered.receive(request, now: options.now())
                }
                registered.finishOutgoing()
                try await group.waitForAll()
            }
            options.log("push: \(node.id) disconnected")
        } catch {
            let who = connection?.node.id ?? peer
            if error is DiscoveryFrameError {
                options.log("push: closing the stream of \(who): \(error)")
            } else if !(error is CancellationError) && !error.isConnectionReset {
                options.log("push: the stream of \(who) failed: \(error)")
            } else {
                options.log("push: \(who) disconnected")
            }
        }
        connection?.finishOutgoing()
        await stream.close()
        if let connection { unregister(connection) }
    }

    private func register(_ node: ProxyNode, stream: any ByteStream) -> ProxyConnection {
        let id = nextConnectionID.add(1, ordering: .relaxed).newValue
        let (snapshot, generation, previous) = registry.withLock { registry in
            (registry.snapshot, registry.generation, registry.connections.values.first { $0.node.id == node.id })
        }
        // Translation outside the lock; a push that swaps the snapshot meanwhile reaches this stream too.
        let resources = ProxyResources(options.generate(node, snapshot))
        let connection = ProxyConnection(
            id: id, stream: stream,
            state: ProxyStream(node: node, current: resources, noncePrefix: "\(noncePrefix)-\(id)",
                               controlPlane: "meshd/\(MeshlabVersion.version)"))
        let latest = registry.withLock { registry -> MeshSnapshot? in
            registry.connections[id] = connection
            registry.disconnected[node.id] = nil
            return registry.generation == generation ? nil : registry.snapshot
        }
        if let latest { connection.update(to: ProxyResources(options.generate(node, latest)), now: options.now()) }
        if let previous {
            options.log("push: \(node.id) opened a new stream; closing its old one")
            Task { await previous.stream.close() }
        }
        return connection
    }

    private func unregister(_ connection: ProxyConnection) {
        var state = connection.currentState
        state.disconnected()
        registry.withLock { registry in
            registry.connections[connection.id] = nil
            let replaced = registry.connections.values.contains { $0.node.id == state.node.id }
            if !replaced && !registry.stopped && feed.podExists(namespace: state.node.namespace, name: state.node.podName) {
                registry.disconnected[state.node.id] = state
            }
        }
    }

    // MARK: Debug views

    /// Every proxy meshd knows: connected streams and disconnected ones whose pod remains.
    func proxyStates() -> [(state: ProxyStream, connected: Bool)] {
        let (connections, disconnected) = registry.withLock { (Array($0.connections.values), Array($0.disconnected.values)) }
        let all = connections.map { ($0.currentState, true) } + disconnected.map { ($0, false) }
        return all.sorted { $0.0.node.id < $1.0.node.id }
    }

    // MARK: Wire

    /// Reads the HTTP upgrade request and answers it: 101 and true for a push
    /// stream, an HTTP error (and false) for anything else. Bytes after the
    /// request go to `decoder`.
    static func acceptHandshake(_ stream: any ByteStream, decoder: inout DiscoveryFrameDecoder) async throws -> Bool {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: 0))
        var buffer = ByteBuffer()
        var head: HTTPRequestHead?
        do {
            while head == nil {
                buffer.clear()
                guard try await stream.read(into: &buffer, maxBytes: 16 * 1024, timeout: .seconds(10)) != nil else {
                    return false
                }
                parser.append(contentsOf: buffer.readableBytesView)
                if case .head(let parsed)? = try parser.next() { head = parsed }
            }
        } catch let error as HTTPParseError {
            try? await stream.write(HTTPSerializer.serialize(HTTPResponse(status: error.status, text: "\(error)\n")))
            return false
        }
        guard let head else { return false }
        let upgrade = head.headers.containsToken(DiscoveryWire.upgradeToken, in: "upgrade")
        guard head.path == DiscoveryWire.path, upgrade else {
            let status: HTTPStatus = head.path == DiscoveryWire.path ? HTTPStatus(code: 426) : .notFound
            let text = "this is meshd's push port: open a stream with GET \(DiscoveryWire.path) and Upgrade: \(DiscoveryWire.upgradeToken)\n"
            var response = HTTPResponse(status: status, text: text)
            response.head.headers.add(name: "Connection", value: "close")
            try? await stream.write(HTTPSerializer.serialize(response))
            return false
        }
        _ = parser.finishIfBodyless()
        decoder.append(parser.takeBufferedBytes())
        let accept = HTTPResponseHead(status: HTTPStatus(code: 101), headers: [
            "Upgrade": DiscoveryWire.upgradeToken, "Connection": "Upgrade",
        ])
        try await stream.write(HTTPSerializer.serialize(accept))
        return true
    }

    /// The next message, or nil at end of stream.
    static func readMessage<T: Decodable>(_ type: T.Type, from stream: any ByteStream,
                                          decoder: inout DiscoveryFrameDecoder) async throws -> T? {
        var buffer = ByteBuffer()
        while true {
            if let message = try decoder.next(type) { return message }
            buffer.clear()
            guard try await stream.read(into: &buffer, maxBytes: 256 * 1024, timeout: nil) != nil else {
                if decoder.bufferedByteCount > 0 {
                    throw DiscoveryFrameError.badMessage(reason: "the stream ended inside a message")
                }
                return nil
            }
            decoder.append(buffer.readableBytesView)
        }
    }
}

/// One proxy's open stream: its xDS state and the queue of frames to write
/// (one writer task drains it, so responses from the reader and from pushes
/// never interleave on the wire).
final class ProxyConnection: Sendable {
    let id: Int
    let node: ProxyNode
    let stream: any ByteStream
    private let state: Mutex<ProxyStream>
    private let outgoing = AsyncStream<[UInt8]>.makeStream()

    init(id: Int, stream: any ByteStream, state: ProxyStream) {
        self.id = id
        self.node = state.node
        self.stream = stream
        self.state = Mutex(state)
    }

    var currentState: ProxyStream { state.withLock { $0 } }

    // Frames are queued under the state's lock, so they go out in the order their nonces were made.

    func receive(_ request: DiscoveryRequest, now: Int) {
        state.withLock { state in queue(state.receive(request, now: now), from: state) }
    }

    func update(to resources: ProxyResources, now: Int) {
        state.withLock { state in queue(state.update(to: resources, now: now), from: state) }
    }

    /// Frames with the resources serialized once per set of resources (shared by every proxy of a push).
    private func queue(_ responses: [DiscoveryResponse], from state: ProxyStream) {
        for response in responses {
            if let type = ProxyResourceType(rawValue: response.typeURL), state.current[type].version == response.versionInfo {
                outgoing.continuation.yield(DiscoveryWire.frame(response, encodedResources: state.current[type].encoded))
            } else {
                outgoing.continuation.yield(DiscoveryWire.frame(response))
            }
        }
    }

    func finishOutgoing() { outgoing.continuation.finish() }

    func writeOutgoing() async throws {
        do {
            for await frame in outgoing.stream { try await stream.write(frame) }
        } catch {
            await stream.close()  // the reader sees the close and ends the stream
            throw error
        }
    }
}
