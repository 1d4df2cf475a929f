#if canImport(Glibc)
import Glibc
#endif
import MeshIO
import MeshSystem
import Synchronization

/// Settings of the cluster DNS server; the defaults suit the daemon.
public struct ClusterDNSOptions: Sendable {
    public var resolver: ClusterDNSResolver.Options
    /// See `DNSResponder.maximumUDPPayload`.
    public var maximumUDPPayload: UInt16
    /// A TCP connection with no query for this long is closed (RFC 7766 §6.2.3 suggests seconds).
    public var tcpIdleTimeout: Duration
    /// Connections past this many are closed at once: DNS over TCP is the rare retry
    /// after TC, never the main path.
    public var maximumTCPConnections: Int
    /// Lines for the daemon's log (failures only: no line per query).
    public var log: @Sendable (String) -> Void

    public init(resolver: ClusterDNSResolver.Options = .init(), maximumUDPPayload: UInt16 = 1232,
                tcpIdleTimeout: Duration = .seconds(10), maximumTCPConnections: Int = 128,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.resolver = resolver
        self.maximumUDPPayload = maximumUDPPayload
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maximumTCPConnections = maximumTCPConnections
        self.log = log
    }
}

/// The lab's cluster DNS: answers on UDP and TCP at one address (the bridge's gateway,
/// port 53, in the node namespace) from the latest `ClusterDNSSnapshot`.
///
/// Sockets are bound when it is made, so a daemon fails early (EADDRINUSE, EACCES) and
/// knows the address; `run()` serves until graceful shutdown (sockets closed, TCP
/// connections closed) or cancellation. Made with a store, it also runs the
/// `ClusterDNSFeed` that keeps the snapshot current.
public final class ClusterDNSServer: MeshIO.Service, CustomStringConvertible {
    public let udp: UDPSocket
    public let tcp: SocketListener
    /// Where it answers, UDP and TCP alike (the real port when asked for port 0).
    public var localAddress: SocketAddress { udp.localAddress }
    /// The store feed, when made with a store.
    public let feed: ClusterDNSFeed?

    private let responder: DNSResponder
    private let currentSnapshot: @Sendable () -> ClusterDNSSnapshot
    private let options: ClusterDNSOptions
    private let connections = Mutex<[ObjectIdentifier: SocketConnection]>([:])
    private let closed = Atomic<Bool>(false)
    private let counters = Mutex(ClusterDNSStats())

    /// Serves what `store` holds, kept current by watching it.
    public convenience init(address: SocketAddress, store: ResourceStore, options: ClusterDNSOptions = .init(),
                            group: EventLoopGroup = .shared) throws {
        let feed = ClusterDNSFeed(store: store, log: options.log)
        try self.init(address: address, feed: feed, snapshot: { feed.snapshot }, options: options, group: group)
    }

    /// Serves whatever `snapshot` returns at each query (tests, tools).
    public convenience init(address: SocketAddress, options: ClusterDNSOptions = .init(), group: EventLoopGroup = .shared,
                            snapshot: @escaping @Sendable () -> ClusterDNSSnapshot) throws {
        try self.init(address: address, feed: nil, snapshot: snapshot, options: options, group: group)
    }

    private init(address: SocketAddress, feed: ClusterDNSFeed?, snapshot: @escaping @Sendable () -> ClusterDNSSnapshot,
                 options: ClusterDNSOptions, group: EventLoopGroup) throws {
        (udp, tcp) = try Self.bindBoth(address, group: group)
        self.feed = feed
        self.currentSnapshot = snapshot
        self.options = options
        responder = DNSResponder(resolver: ClusterDNSResolver(options: options.resolver),
                                 maximumUDPPayload: options.maximumUDPPayload)
    }

    /// UDP and TCP on the same port. Port 0 picks a free UDP port and takes the same
    /// TCP port, trying again (a few times) if TCP has it taken.
    private static func bindBoth(_ address: SocketAddress, group: EventLoopGroup) throws -> (UDPSocket, SocketListener) {
        var attempts = 0
        while true {
            let udp = try UDPSocket.bind(to: address, on: group.next())
            do {
                let tcp = try SocketListener.bind(udp.localAddress, backlog: 64, group: group)
                return (udp, tcp)
            } catch let error as SystemError where error.errno == EADDRINUSE && address.port == 0 && attempts < 10 {
                attempts += 1  // `udp` closes itself when released
            }
        }
    }

    public var description: String { "ClusterDNSServer(\(localAddress))" }

    /// Queries answered so far, by transport.
    public var stats: ClusterDNSStats { counters.withLock { $0 } }

    /// Both servers run on their sockets' event loops, so answers never wait for a busy
    /// cooperative thread pool.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Part.self) { group in
                group.addTask(executorPreference: udp.eventLoop) {
                    try await self.serveUDP()
                    return .server
                }
                group.addTask(executorPreference: tcp.eventLoop) {
                    try await self.serveTCP()
                    return .server
                }
                if let feed {
                    group.addTask {
                        await feed.run()
                        return .feed
                    }
                }
                // The feed follows the store for as long as anyone answers; if the store
                // closes first, the servers go on with the last snapshot.
                var serving = 2
                while serving > 0, let part = try await group.next() {
                    if part == .server { serving -= 1 }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await self.close() }
        }
    }

    private enum Part: Sendable { case server, feed }

    /// Stops answering: closes both sockets and every TCP connection. `run()` then returns.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await udp.close()
        await tcp.close()
        for connection in connections.withLock({ Array($0.values) }) { await connection.close() }
    }

    // MARK: UDP

    private func serveUDP() async throws {
        while true {
            let datagram: Datagram
            do {
                datagram = try await udp.receive()
            } catch {
                if closed.load(ordering: .acquiring) || Task.isCancelled { return }
                if case IOError.closed = error { return }
                options.log("dns: udp receive failed: \(error)")
                try await Task.sleep(for: .milliseconds(10))  // never spin on a persistent error
                continue
            }
            guard let reply = responder.respond(to: datagram.bytes.readableArray, over: .udp, snapshot: currentSnapshot())
            else {
                counters.withLock { $0.dropped += 1 }
                continue
            }
            counters.withLock { $0.udpQueries += 1 }
            do {
                try await udp.send(ByteBuffer(reply), to: datagram.peer, timeout: .seconds(1))
            } catch {
                if closed.load(ordering: .acquiring) { return }
                // One client's trouble (its port gone, a full buffer) is not the server's.
            }
        }
    }

    // MARK: TCP

    private func serveTCP() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                let connection: SocketConnection
                do {
                    connection = try await tcp.accept()
                } catch {
                    if closed.load(ordering: .acquiring) || Task.isCancelled { return }
                    if case IOError.closed = error { return }
                    if let error = error as? SystemError, error.errno == EMFILE || error.errno == ENFILE {
                        try await Task.sleep(for: .milliseconds(100))  // out of descriptors: wait, then accept again
                        continue
                    }
                    throw error
                }
                let id = ObjectIdentifier(connection)
                let admitted = connections.withLock { open -> Bool in
                    guard open.count < options.maximumTCPConnections, !closed.load(ordering: .acquiring) else { return false }
                    open[id] = connection
                    return true
                }
                guard admitted else {
                    await connection.close()
                    continue
                }
                group.addTask(executorPreference: connection.eventLoop) {
                    await self.serve(connection)
                    self.connections.withLock { _ = $0.removeValue(forKey: id) }
                }
            }
        }
    }

    /// Answers length-prefixed queries in order until the client closes, goes quiet, or
    /// errs (a timeout, a reset, or our own close at shutdown: the connection just ends).
    private func serve(_ connection: SocketConnection) async {
        var pending: [UInt8] = []
        var buffer = ByteBuffer()
        reading: while true {
            buffer.clear()
            guard (try? await connection.read(into: &buffer, maxBytes: 0x1_0002, timeout: options.tcpIdleTimeout)) != nil
            else { break }
            pending += buffer.readableBytesView
            while let query = DNSTCPFraming.nextMessage(from: &pending) {
                guard let reply = responder.respond(to: query, over: .tcp, snapshot: currentSnapshot()),
                    let framed = DNSTCPFraming.frame(reply)
                else {
                    counters.withLock { $0.dropped += 1 }
                    continue
                }
                counters.withLock { $0.tcpQueries += 1 }
                do {
                    try await connection.write(ByteBuffer(framed), timeout: .seconds(5))
                } catch {
                    break reading
                }
            }
        }
        await connection.close()
    }
}

/// Counters for `meshlab status` and tests.
public struct ClusterDNSStats: Sendable, Equatable {
    public var udpQueries = 0
    public var tcpQueries = 0
    /// Datagrams and frames that got no answer (too short to answer, or responses).
    public var dropped = 0
}
