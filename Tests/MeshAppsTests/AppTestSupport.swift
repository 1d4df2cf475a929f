#if canImport(Glibc)
import Glibc
#endif
import MeshApps
import MeshHTTP
import MeshIO
import MeshSystem
import Synchronization

/// Log lines an app wrote, kept for assertions.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var log: AppLog { AppLog { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

/// Apps served on 127.0.0.1 with free ports for the length of `body`, stopped afterwards
/// whether `body` succeeds or throws.
func withServedApps<R>(_ apps: [any HTTPApp], log: AppLog = .none,
                       _ body: ([Int]) async throws -> R) async throws -> R {
    var servers: [AppServer] = []
    var tasks: [Task<Void, any Error>] = []
    func stopAll() async {
        for server in servers { await server.shutdown(gracePeriod: .seconds(2)) }
        for task in tasks { _ = try? await task.value }
    }
    do {
        for app in apps {
            let server = try AppServer.bind(app, address: .ipv4(.loopback, port: 0), group: .shared, log: log)
            servers.append(server)
            tasks.append(Task { try await server.run() })
        }
        let result = try await body(servers.map { Int($0.localAddress.port!) })
        await stopAll()
        return result
    } catch {
        await stopAll()
        throw error
    }
}

func withServedApp<R>(_ app: any HTTPApp, log: AppLog = .none, _ body: (Int) async throws -> R) async throws -> R {
    try await withServedApps([app], log: log) { try await body($0[0]) }
}

/// One request over a new loopback connection.
func send(_ port: Int, _ method: HTTPMethod = .get, _ target: String, headers: HTTPHeaders = HTTPHeaders(),
          body: [UInt8] = []) async throws -> HTTPResponse {
    let stream = try await SocketConnection.connect(to: .loopback(port: UInt16(port)), timeout: .seconds(5),
                                                    on: EventLoopGroup.shared.next())
    let connection = HTTPClientConnection(stream: stream, configuration: HTTPClientConfiguration(readTimeout: .seconds(20)))
    var headers = headers
    if !headers.contains(name: "host") { headers.add(name: "Host", value: "127.0.0.1:\(port)") }
    do {
        let response = try await connection.send(HTTPRequest(method: method, target: target, headers: headers, body: body))
        await connection.close()
        return response
    } catch {
        await connection.close()
        throw error
    }
}

/// An app that records each request's headers and passes it on to `inner`.
final class RecordingApp: HTTPApp {
    let inner: any HTTPApp
    private let seen = Mutex<[HTTPHeaders]>([])
    init(_ inner: any HTTPApp) { self.inner = inner }
    var identity: String { inner.identity }
    var requests: [HTTPHeaders] { seen.withLock { $0 } }
    func handle(_ request: AppRequest) async -> HTTPResponse {
        seen.withLock { $0.append(request.headers) }
        return await inner.handle(request)
    }
}

/// An app that answers every request with one fixed status, or never (until shutdown).
struct FixedApp: HTTPApp {
    var status: HTTPStatus
    var hang: Duration? = nil
    var identity: String { "fixed" }
    func handle(_ request: AppRequest) async -> HTTPResponse {
        if let hang { try? await Task.sleep(for: hang) }
        return HTTPResponse(status: status, text: "fixed \(status.code)\n")
    }
}

/// A loopback port where connections are refused for as long as `body` runs: a TCP
/// socket bound to it that never listens (a closed listener's port could be handed
/// to the next test's listener).
func withRefusingPort<R>(_ body: (Int) async throws -> R) async throws -> R {
    let socket = try Sockets.makeSocket(family: AF_INET, kind: .stream)
    defer { try? socket.close() }
    try Sockets.bind(socket, to: .ipv4(.loopback, port: 0))
    guard let port = try Sockets.localAddress(of: socket)?.port else { throw HTTPError.invalidState("no port") }
    return try await body(Int(port))
}

/// A client for loopback services (IP literals need no name server).
func loopbackClient(timeout: Duration = .seconds(5)) -> ServiceClient {
    ServiceClient(resolver: HostResolver(configuration: ResolverConfiguration(), eventLoop: EventLoopGroup.shared.next()),
                  group: .shared, timeout: timeout)
}

/// Occurrences of `needle` in `text`.
func count(_ needle: String, in text: String) -> Int {
    text.ranges(of: needle).count
}
