import MeshIO
import Synchronization

/// How many connections a pool keeps and for how long.
public struct HTTPPoolConfiguration: Sendable {
    /// Idle connections kept per destination; more are closed when returned.
    public var maxIdlePerDestination: Int
    /// An idle connection older than this is closed instead of reused (servers close
    /// idle connections too, typically after 5 to 75 s: stay below theirs).
    public var idleTimeout: Duration
    public var client: HTTPClientConfiguration
    /// Whether to check an idle connection before reuse (a read that must not wait):
    /// catches most servers' idle closes before a request is sent into them.
    public var probesIdleConnections: Bool

    public init(maxIdlePerDestination: Int = 16, idleTimeout: Duration = .seconds(30),
                client: HTTPClientConfiguration = HTTPClientConfiguration(), probesIdleConnections: Bool = true) {
        self.maxIdlePerDestination = maxIdlePerDestination
        self.idleTimeout = idleTimeout
        self.client = client
        self.probesIdleConnections = probesIdleConnections
    }
}

/// Client connections kept alive per destination and reused.
///
/// Retry rule: a request is resent on a fresh connection only when it failed on a
/// *reused* connection before any byte of a response arrived (the usual sign that
/// the server closed the idle connection as we sent) and its method is idempotent
/// (GET, HEAD, PUT, DELETE, OPTIONS, TRACE). A POST or PATCH that failed after it
/// was written is never resent silently: the server may have acted on it, so the
/// caller gets the error and decides. Connections the peer closed while idle are
/// caught before use by a read that must not wait (`probesIdleConnections`).
public final class HTTPConnectionPool: Sendable {
    public typealias Connector = @Sendable (HTTPDestination) async throws -> any ByteStream

    public let configuration: HTTPPoolConfiguration
    private let connector: Connector
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<HTTPPoolState<HTTPClientConnection>>
    private let stats = Mutex(Stats())

    /// Counters for telemetry and tests.
    public struct Stats: Sendable, Equatable {
        public var connectionsOpened = 0
        public var reuses = 0
        public var retries = 0
    }

    /// `connector` opens a transport to a destination (TCP, unix socket, TLS...);
    /// `now` is injectable so tests can age idle connections without waiting.
    public init(configuration: HTTPPoolConfiguration = HTTPPoolConfiguration(),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                connector: @escaping Connector) {
        self.configuration = configuration
        self.connector = connector
        self.now = now
        self.state = Mutex(HTTPPoolState(maxIdlePerKey: configuration.maxIdlePerDestination,
                                         idleTimeout: configuration.idleTimeout))
    }

    public var statistics: Stats { stats.withLock { $0 } }
    public var idleConnectionCount: Int { state.withLock { $0.idleCount } }
    public func idleConnectionCount(for destination: HTTPDestination) -> Int {
        state.withLock { $0.idleCount(for: destination) }
    }

    /// Sends a whole request, reusing a kept-alive connection when one is idle (see the retry rule).
    nonisolated(nonsending) public func send(_ request: HTTPRequest, to destination: HTTPDestination) async throws -> HTTPResponse {
        let (connection, reused) = try await checkout(destination)
        do {
            let response = try await connection.send(request)
            await checkin(connection, for: destination)
            return response
        } catch {
            await connection.close()
            guard reused, !connection.receivedResponseBytes, request.method.isIdempotent,
                  Self.isStaleConnectionFailure(error) else { throw error }
            stats.withLock { $0.retries += 1 }
            let fresh = try await connect(destination)
            do {
                let response = try await fresh.send(request)
                await checkin(fresh, for: destination)
                return response
            } catch {
                await fresh.close()
                throw error
            }
        }
    }

    /// Runs `body` with a connection to `destination` (reused or new); afterwards the
    /// connection goes back to the pool if it can carry another request, else it is closed.
    /// No retry here: the body may have sent anything.
    public func withConnection<R>(to destination: HTTPDestination,
                                  _ body: (HTTPClientConnection) async throws -> R) async throws -> R {
        let (connection, _) = try await checkout(destination)
        do {
            let result = try await body(connection)
            await checkin(connection, for: destination)
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Closes idle connections that have expired or that the peer closed; returns how many.
    @discardableResult
    nonisolated(nonsending) public func evictIdle() async -> Int {
        let expired = state.withLock { $0.evictExpired(now: now()) }
        for connection in expired { await connection.close() }
        return expired.count
    }

    /// Evicts expired idle connections as they expire, until the task is cancelled.
    nonisolated(nonsending) public func runEviction() async {
        while !Task.isCancelled {
            let next = state.withLock { $0.nextExpiry }
            let delay = next.map { max($0 - now(), .milliseconds(10)) } ?? configuration.idleTimeout
            try? await Task.sleep(for: delay)
            await evictIdle()
        }
    }

    /// Closes every idle connection. Connections in use close when returned... unless reused later:
    /// call this when nothing uses the pool any more.
    nonisolated(nonsending) public func shutdown() async {
        let all = state.withLock { $0.removeAll() }
        for connection in all { await connection.close() }
    }

    // MARK: -

    nonisolated(nonsending) private func checkout(_ destination: HTTPDestination) async throws -> (HTTPClientConnection, reused: Bool) {
        while true {
            let (found, expired) = state.withLock { $0.checkout(destination, now: now()) }
            for connection in expired { await connection.close() }
            guard let connection = found else { break }
            if configuration.probesIdleConnections, await connection.stream.isUnusableWhileIdle() {
                await connection.close()
                continue
            }
            stats.withLock { $0.reuses += 1 }
            return (connection, true)
        }
        return (try await connect(destination), false)
    }

    nonisolated(nonsending) private func connect(_ destination: HTTPDestination) async throws -> HTTPClientConnection {
        let stream = try await connector(destination)
        stats.withLock { $0.connectionsOpened += 1 }
        return HTTPClientConnection(stream: stream, configuration: configuration.client)
    }

    nonisolated(nonsending) private func checkin(_ connection: HTTPClientConnection, for destination: HTTPDestination) async {
        guard connection.isReusable else {
            await connection.close()
            return
        }
        let evicted = state.withLock { $0.checkin(connection, for: destination, now: now()) }
        if let evicted { await evicted.close() }
    }

    /// Failures that mean "the server was gone before it read our request": the peer closed
    /// or reset the connection. Timeouts are not among them (the server may be working on it).
    static func isStaleConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case HTTPError.connectionClosed: return true
        case HTTPError.timedOut, HTTPError.parse, HTTPError.invalidState, HTTPError.bodyLengthMismatch,
             HTTPError.concurrentUse, HTTPError.bodyTooLarge:
            return false
        case is CancellationError, is IOError: return false
        default:
            // The peer reset or abandoned the connection (ECONNRESET, EPIPE).
            return error.isConnectionReset
        }
    }
}
