#if canImport(Glibc)
import Glibc
#endif
import MeshIO
import MeshSystem
import Synchronization

/// Accepts connections from listeners (TCP or unix sockets of MeshIO) and serves
/// HTTP/1.1 on each, on the event loop the connection belongs to.
///
/// Shutdown is graceful: `shutdown(gracePeriod:)` stops accepting, closes
/// connections that wait idle between requests, lets requests in progress finish
/// (their responses carry `Connection: close`), and after the grace period closes
/// whatever is left. `serve` returns once its connections are gone.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let lifecycle = HTTPServerLifecycle()
    private let connections = Mutex<[ObjectIdentifier: HTTPServerConnection]>([:])
    private let listeners = Mutex<[SocketListener]>([])

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
        self.configuration = configuration
    }

    /// Serves connections accepted from `listener` until shutdown or until the listener fails.
    nonisolated(nonsending) public func serve(_ listener: SocketListener, handler: some HTTPHandler) async throws {
        listeners.withLock { $0.append(listener) }
        try await withThrowingDiscardingTaskGroup { group in
            while !lifecycle.isShuttingDown {
                let stream: SocketConnection
                do {
                    stream = try await listener.accept()
                } catch {
                    if lifecycle.isShuttingDown || error is CancellationError { break }
                    if case IOError.closed = error { break }
                    if let error = error as? SystemError, error.errno == EMFILE || error.errno == ENFILE {
                        // Out of descriptors: wait for connections to end rather than stop serving.
                        try? await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                    throw error
                }
                let connection = track(stream)
                group.addTask(executorPreference: stream.eventLoop) {
                    await connection.run(handler)
                    self.untrack(connection)
                }
            }
        }
    }

    /// Serves one already-connected stream (a socket accepted elsewhere, a TLS stream, an
    /// in-memory stream in tests) until it closes. Shutdown applies to it too.
    nonisolated(nonsending) public func serve(stream: any ByteStream, handler: some HTTPHandler) async {
        let connection = track(stream)
        await connection.run(handler)
        untrack(connection)
    }

    private func track(_ stream: any ByteStream) -> HTTPServerConnection {
        let connection = HTTPServerConnection(stream: stream, configuration: configuration, lifecycle: lifecycle)
        connections.withLock { $0[ObjectIdentifier(connection)] = connection }
        return connection
    }

    private func untrack(_ connection: HTTPServerConnection) {
        connections.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Connections open right now.
    public var connectionCount: Int { connections.withLock { $0.count } }

    /// Stops accepting and winds down, as described on the type.
    nonisolated(nonsending) public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        lifecycle.beginShutdown()
        for listener in listeners.withLock({ $0 }) { await listener.close() }
        await closeConnections(onlyIdle: true)
        let deadline = ContinuousClock.now + gracePeriod
        while connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            await closeConnections(onlyIdle: true)
        }
        await closeConnections(onlyIdle: false)
    }

    nonisolated(nonsending) private func closeConnections(onlyIdle: Bool) async {
        let open = connections.withLock { Array($0.values) }
        for connection in open where !onlyIdle || connection.isIdle.load(ordering: .relaxed) {
            await connection.stream.close()
        }
    }
}
