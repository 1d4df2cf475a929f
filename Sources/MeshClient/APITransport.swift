import MeshHTTP
import MeshIO
import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// How a client reaches the API: it opens HTTP connections.
public protocol APITransport: Sendable {
    /// A new connection whose reads wait at most `readTimeout` for the server.
    func connect(readTimeout: Duration) async throws -> HTTPClientConnection
}

extension APITransport {
    /// A connection for whole requests: the server answers within 30 s.
    public func connect() async throws -> HTTPClientConnection {
        try await connect(readTimeout: .seconds(30))
    }
}

/// The running lab's API over the unix socket in its state directory, which
/// works from any network namespace.
public struct UnixSocketTransport: APITransport {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    public func connect(readTimeout: Duration) async throws -> HTTPClientConnection {
        let stream = try await SocketConnection.connect(
            to: .unix(path: socketPath), timeout: .seconds(5), on: EventLoopGroup.shared.next())
        return HTTPClientConnection(stream: stream, configuration: HTTPClientConfiguration(readTimeout: readTimeout))
    }
}

/// An API handler in this process, reached over an in-memory stream with
/// the real HTTP server and client on both ends (so watches stream as they
/// do over a socket). For tests, and for parts of the daemon that talk to
/// its own API.
public struct InProcessTransport: APITransport {
    let server: HTTPServer
    let handler: any HTTPHandler

    public init(handler: some HTTPHandler, server: HTTPServer = HTTPServer()) {
        self.handler = handler
        self.server = server
    }

    public func connect(readTimeout: Duration) async throws -> HTTPClientConnection {
        let (client, serverSide) = InMemoryStream.pair()
        let server = server
        let handler = handler
        Task { await server.serve(stream: serverSide, handler: handler) }
        return HTTPClientConnection(stream: client, configuration: HTTPClientConfiguration(readTimeout: readTimeout))
    }
}
