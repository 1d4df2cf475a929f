#if canImport(Glibc)
import Glibc
#endif
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// Serves one `HTTPApp` on a listening socket: an access-log line per request, the
/// `x-app-version` header on every response, graceful shutdown.
///
/// It accepts connections itself (rather than `HTTPServer.serve(listener)`) so that
/// each request knows its TCP peer: httpbin's `origin` and fortio's `/debug` show it.
public final class AppServer: Sendable {
    public let app: any HTTPApp
    public let listener: SocketListener
    private let http: HTTPServer
    private let log: AppLog
    private let now: @Sendable () -> Int
    private let closing = Atomic<Bool>(false)

    /// Bodies the apps accept (go-httpbin's default limit); larger ones get 413.
    static let maxBodyBytes = 1024 * 1024

    init(app: any HTTPApp, listener: SocketListener, log: AppLog, now: @escaping @Sendable () -> Int) {
        self.app = app
        self.listener = listener
        self.log = log
        self.now = now
        self.http = HTTPServer(configuration: HTTPServerConfiguration(limits: HTTPParserLimits(maxBodyBytes: Self.maxBodyBytes)))
    }

    /// Listens on `address` (`0.0.0.0:9080`; port 0 picks one, see `localAddress`).
    public static func bind(_ app: any HTTPApp, address: SocketAddress, group: EventLoopGroup, log: AppLog,
                            now: @escaping @Sendable () -> Int = { Timestamp.now() }) throws -> AppServer {
        AppServer(app: app, listener: try SocketListener.bind(address, group: group), log: log, now: now)
    }

    public var localAddress: SocketAddress { listener.localAddress }

    /// Accepts and serves until `shutdown`; returns once every connection has ended.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                let stream: SocketConnection
                do {
                    stream = try await listener.accept()
                } catch {
                    if closing.load(ordering: .acquiring) || error is CancellationError { break }
                    if case IOError.closed = error { break }
                    if let error = error as? SystemError, error.errno == EMFILE || error.errno == ENFILE {
                        // Out of descriptors: let connections end rather than stop serving.
                        try? await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                    throw error
                }
                let handler = AppHandler(app: app, peer: stream.remoteAddress, log: log, now: now)
                group.addTask(executorPreference: stream.eventLoop) {
                    await self.http.serve(stream: stream, handler: handler)
                }
            }
        }
    }

    /// Stops accepting, lets requests in progress finish (for at most `gracePeriod`),
    /// closes idle connections at once.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        closing.store(true, ordering: .releasing)
        await listener.close()
        await http.shutdown(gracePeriod: gracePeriod)
    }
}

/// Reads a request whole, asks the app, sends the answer, logs the exchange.
struct AppHandler: HTTPHandler {
    let app: any HTTPApp
    let peer: SocketAddress?
    let log: AppLog
    let now: @Sendable () -> Int

    func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        let start = ContinuousClock.now
        let body = try await request.body.collect(upTo: AppServer.maxBodyBytes)
        var answer = await app.handle(AppRequest(head: request.head, body: body, peer: peer))
        if !answer.headers.contains(name: "x-app-version") {
            answer.head.headers.add(name: "x-app-version", value: app.identity)
        }
        try await response.send(answer)
        let head = request.head
        log(AccessLog.line(
            epochSeconds: now(), peer: peer, requestLine: "\(head.method) \(head.target) \(head.version)",
            status: answer.status.code, bytes: head.method == .head ? 0 : answer.body.count,
            duration: ContinuousClock.now - start, userAgent: head.headers["user-agent"]))
    }
}

/// The process side of an app: bind, serve until SIGTERM or SIGINT, drain, return.
public enum AppProcess {
    /// Serves the app `makeApp` builds (on the process's one event loop group) on `address`
    /// until a termination signal, then shuts down gracefully (requests in progress
    /// finish within `gracePeriod`) and returns: the caller exits 0.
    /// Logs `<identity> listening on <address>` once the socket is bound.
    public static func serve(address: SocketAddress, log: AppLog = .standardOutput, gracePeriod: Duration = .seconds(10),
                             _ makeApp: (EventLoopGroup) throws -> any HTTPApp) async throws {
        try Signals.ignoreBrokenPipe()
        let signals = try Signals.stream([.terminate, .interrupt])
        // One loop thread: an app is one small process per pod, and most pods idle.
        let group = try EventLoopGroup(threads: 1, name: "app")
        let app = try makeApp(group)
        let server = try AppServer.bind(app, address: address, group: group, log: log)
        log("\(app.identity) listening on \(server.localAddress)")
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await server.run()
                return true
            }
            tasks.addTask {
                for await signal in signals {
                    log("\(app.identity) received \(signal): finishing requests in progress")
                    await server.shutdown(gracePeriod: gracePeriod)
                    break
                }
                return false
            }
            while let serverEnded = try await tasks.next() {
                if serverEnded {
                    tasks.cancelAll()
                    break
                }
            }
        }
        log("\(app.identity) stopped")
    }

    /// Does nothing until SIGTERM or SIGINT, or until `duration` has passed (the `sleep`
    /// app: a client pod's idle main process).
    public static func idle(for duration: Duration?, log: AppLog = .standardOutput) async throws {
        let signals = try Signals.stream([.terminate, .interrupt])
        log("sleep: idle until SIGTERM")
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await signal in signals {
                    log("sleep received \(signal): exiting")
                    return
                }
            }
            if let duration {
                tasks.addTask { try? await Task.sleep(for: duration) }
            }
            await tasks.next()
            tasks.cancelAll()
        }
    }
}
