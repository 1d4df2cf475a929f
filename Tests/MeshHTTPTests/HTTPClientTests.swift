import MeshIO
import MeshTestSupport
import Synchronization
import Testing
@testable import MeshHTTP

/// Connects to in-memory servers; each connection gets its own server task.
final class MemoryNetwork: Sendable {
    let handler: any HTTPHandler
    let configuration: HTTPServerConfiguration
    private let servers = Mutex<[Task<Void, Never>]>([])
    private let serverEnds = Mutex<[InMemoryStream]>([])

    init(handler: some HTTPHandler, configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
        self.handler = handler
        self.configuration = configuration
    }

    func connect(_ destination: HTTPDestination) async throws -> any ByteStream {
        let (client, server) = InMemoryStream.pair()
        let handler = self.handler, configuration = self.configuration
        serverEnds.withLock { $0.append(server) }
        servers.withLock { $0.append(Task { await HTTPServerConnection.serve(server, configuration: configuration, handler: handler) }) }
        return client
    }

    /// Closes every server end, as a server that drops idle connections would.
    func dropAllConnections() async {
        for end in serverEnds.withLock({ $0 }) { await end.close() }
    }

    func stop() async {
        await dropAllConnections()
        for task in servers.withLock({ $0 }) { await task.value }
    }
}

@Suite struct HTTPClientConnectionTests {
    @Test func wholeRequestsOverOneConnection() async throws {
        let network = MemoryNetwork(handler: echo)
        let client = HTTPClientConnection(stream: try await network.connect(HTTPDestination(host: "a", port: 80)))
        let get = try await client.send(HTTPRequest(method: .get, target: "/x", headers: ["Host": "a"]))
        #expect(get.status == .ok)
        #expect(get.headers["x-target"] == "/x")
        #expect(client.isReusable)
        let post = try await client.send(HTTPRequest(method: .post, target: "/y", headers: ["Host": "a"], body: bytes("payload")))
        #expect(post.body == bytes("payload"))
        var chunked = HTTPRequest(method: .put, target: "/z", headers: ["Host": "a"], body: bytes("abc"))
        chunked.trailers = ["X-Sum": "3"]
        let put = try await client.send(chunked)
        #expect(put.body == bytes("abc"))
        #expect(put.headers["x-trailer"] == "3")
        let head = try await client.send(HTTPRequest(method: .head, target: "/h", headers: ["Host": "a"]))
        #expect(head.body.isEmpty)
        #expect(client.requestCount == 4)
        #expect(client.isReusable)
        await client.close()
        await network.stop()
    }

    @Test func streamsBothWaysAtOnce() async throws {
        // The server answers each request chunk as it arrives: only true streaming
        // in both directions lets this conversation finish.
        let pingPong = HTTPStreamingHandler { request, response in
            try await response.writeHead(HTTPResponseHead(status: .ok))
            for try await chunk in request.body {
                try await response.writeBody(Array("echo:".utf8) + chunk)
            }
            try await response.finish()
        }
        let network = MemoryNetwork(handler: pingPong)
        let client = HTTPClientConnection(stream: try await network.connect(HTTPDestination(host: "a", port: 80)))
        try await client.writeRequestHead(HTTPRequestHead(method: .post, target: "/stream", headers: ["Host": "a"]), bodyLength: nil)
        try await client.writeRequestBody(bytes("one"))
        let head = try await client.readResponseHead()
        #expect(head.headers["transfer-encoding"] == "chunked")
        #expect(try await client.readResponseBody() == bytes("echo:one"))
        try await client.writeRequestBody(bytes("two"))
        #expect(try await client.readResponseBody() == bytes("echo:two"))
        try await client.finishRequest()
        #expect(try await client.readResponseBody() == nil)
        #expect(client.isReusable)
        await client.close()
        await network.stop()
    }

    @Test func apiMisuseThrows() async throws {
        let network = MemoryNetwork(handler: echo)
        let client = HTTPClientConnection(stream: try await network.connect(HTTPDestination(host: "a", port: 80)))
        await #expect(throws: HTTPError.self) { try await client.writeRequestBody(bytes("x")) }
        await #expect(throws: HTTPError.self) { _ = try await client.readResponseBody() }
        try await client.writeRequestHead(HTTPRequestHead(method: .post, target: "/", headers: ["Host": "a"]), bodyLength: 2)
        await #expect(throws: HTTPError.self) {
            try await client.writeRequestHead(HTTPRequestHead(method: .get, target: "/"), bodyLength: 0)
        }
        await #expect(throws: HTTPError.bodyLengthMismatch(declared: 2, written: 3)) { try await client.writeRequestBody(bytes("abc")) }
        #expect(!client.isReusable)
        await client.close()
        await network.stop()
    }
}

@Suite struct HTTPConnectionPoolTests {
    let destination = HTTPDestination(host: "svc", port: 8080)

    @Test func reusesKeptAliveConnections() async throws {
        let network = MemoryNetwork(handler: echo)
        let pool = HTTPConnectionPool { try await network.connect($0) }
        for index in 0..<3 {
            let response = try await pool.send(HTTPRequest(method: .get, target: "/\(index)"), to: destination)
            #expect(response.headers["x-target"] == "/\(index)")
        }
        #expect(pool.statistics == HTTPConnectionPool.Stats(connectionsOpened: 1, reuses: 2, retries: 0))
        #expect(pool.idleConnectionCount(for: destination) == 1)
        await pool.shutdown()
        #expect(pool.idleConnectionCount == 0)
        await network.stop()
    }

    @Test func keepsAtMostMaxIdlePerDestination() async throws {
        let network = MemoryNetwork(handler: echo)
        let pool = HTTPConnectionPool(configuration: HTTPPoolConfiguration(maxIdlePerDestination: 2)) { try await network.connect($0) }
        // Three connections in use at once, then all returned.
        try await pool.withConnection(to: destination) { first in
            try await pool.withConnection(to: destination) { second in
                try await pool.withConnection(to: destination) { third in
                    for connection in [first, second, third] {
                        _ = try await connection.send(HTTPRequest(method: .get, target: "/"))
                    }
                }
            }
        }
        #expect(pool.statistics.connectionsOpened == 3)
        #expect(pool.idleConnectionCount(for: destination) == 2)
        await pool.shutdown()
        await network.stop()
    }

    @Test func idleConnectionsExpire() async throws {
        let network = MemoryNetwork(handler: echo)
        let clock = Locked(ContinuousClock.now)
        let pool = HTTPConnectionPool(configuration: HTTPPoolConfiguration(idleTimeout: .seconds(10)),
                                      now: { clock.withLock { $0 } }) { try await network.connect($0) }
        _ = try await pool.send(HTTPRequest(method: .get, target: "/"), to: destination)
        clock.withLock { $0 += .seconds(9) }
        #expect(await pool.evictIdle() == 0)
        clock.withLock { $0 += .seconds(1) }
        #expect(await pool.evictIdle() == 1)
        _ = try await pool.send(HTTPRequest(method: .get, target: "/"), to: destination)
        #expect(pool.statistics.connectionsOpened == 2)
        #expect(pool.statistics.reuses == 0)
        await pool.shutdown()
        await network.stop()
    }

    @Test func connectionClosedWhileIdleIsNotReused() async throws {
        let network = MemoryNetwork(handler: echo)
        let pool = HTTPConnectionPool { try await network.connect($0) }
        _ = try await pool.send(HTTPRequest(method: .post, target: "/", body: bytes("1")), to: destination)
        await network.dropAllConnections()
        let response = try await pool.send(HTTPRequest(method: .post, target: "/", body: bytes("2")), to: destination)
        #expect(response.body == bytes("2"))
        #expect(pool.statistics == HTTPConnectionPool.Stats(connectionsOpened: 2, reuses: 0, retries: 0))
        await pool.shutdown()
        await network.stop()
    }

    @Test func staleConnectionRetriesIdempotentRequestsOnly() async throws {
        // Without the idle probe the request is sent into the connection the server closed.
        let network = MemoryNetwork(handler: echo)
        let pool = HTTPConnectionPool(configuration: HTTPPoolConfiguration(probesIdleConnections: false)) { try await network.connect($0) }
        _ = try await pool.send(HTTPRequest(method: .get, target: "/"), to: destination)
        await network.dropAllConnections()
        let retried = try await pool.send(HTTPRequest(method: .get, target: "/again"), to: destination)
        #expect(retried.headers["x-target"] == "/again")
        #expect(pool.statistics.retries == 1)
        await network.dropAllConnections()
        await #expect(throws: (any Error).self) {
            _ = try await pool.send(HTTPRequest(method: .post, target: "/once", body: bytes("x")), to: destination)
        }
        #expect(pool.statistics.retries == 1)
        await pool.shutdown()
        await network.stop()
    }
}
