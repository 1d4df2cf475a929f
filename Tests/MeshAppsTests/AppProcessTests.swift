import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing
@testable import MeshApps

/// A child process with its stdout and stderr in a scratch directory, killed and
/// reaped when the test ends however it ends.
final class Child: @unchecked Sendable {
    let process: ChildProcess
    let directory: String
    private var status: MeshSystem.ExitStatus?

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        directory = try Files.makeTemporaryDirectory(prefix: "meshlab-apps-test")
        var spawn = SpawnConfiguration(executable: executable, arguments: arguments, environment: environment)
        spawn.standardInput = .null
        spawn.standardOutput = .file(directory + "/out")
        spawn.standardError = .file(directory + "/err")
        do {
            process = try ChildProcess.spawn(spawn)
        } catch {
            try? Files.removeTree(directory)
            throw error
        }
    }

    var stdout: String { (try? Files.read(directory + "/out")).map { String(decoding: $0, as: UTF8.self) } ?? "" }
    var stderr: String { (try? Files.read(directory + "/err")).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// The first stdout line containing `text`, waiting up to `timeout`.
    func line(containing text: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if try process.tryWait().map({ status = $0 }) != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Failure(description: "no line with \"\(text)\"; stdout: \(stdout) stderr: \(stderr)")
    }

    /// The port in a `... listening on 127.0.0.1:PORT` line.
    func listeningPort() async throws -> Int {
        let line = try await line(containing: "listening on ")
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else { throw Failure(description: line) }
        return port
    }

    /// Waits for the exit, killing the process after `timeout`.
    func exit(timeout: Duration = .seconds(15)) async throws -> MeshSystem.ExitStatus {
        if let status { return status }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let done = try process.tryWait() {
                status = done
                return done
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try? process.send(.kill)
        let killed = try process.wait()
        status = killed
        return killed
    }

    func terminate() throws { try process.send(.terminate) }

    /// SIGKILL if still running, reap, remove the scratch directory.
    func cleanup() {
        if status == nil {
            try? process.send(.kill)
            status = try? process.wait()
        }
        try? Files.removeTree(directory)
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}

func withChild<R>(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                  _ body: (Child) async throws -> R) async throws -> R {
    let child = try Child(executable, arguments, environment: environment)
    defer { child.cleanup() }
    return try await body(child)
}

func hasProgram(_ name: String) -> Bool {
    ["/usr/bin", "/bin", "/usr/local/bin"].contains { (try? Files.kind(of: "\($0)/\(name)")) == .regular }
}

/// The real binary: `meshlab app ...` as the node agent runs it.
@Suite(.serialized) struct AppProcessTests {
    /// What makes a catalog app listen on a free loopback port instead of its usual one.
    static func loopbackArguments(app: String) -> [String] {
        switch app {
        case "sleep": return []
        case "fortio": return ["--http-port", "127.0.0.1:0"]
        default: return ["--port", "0", "--address", "127.0.0.1"]
        }
    }

    @Test func everyCatalogImageRunsWithItsArgumentsAndStopsOnSIGTERM() async throws {
        let binary = try MeshlabProcess.binary()
        for image in BuiltInImage.knownImages {
            let entry = try #require(BuiltInImage.resolve(image: image))
            if entry.isIstioProxy { continue }  // pod-init and proxy, tested where they live
            let arguments = ["app", entry.app] + entry.arguments + Self.loopbackArguments(app: entry.app)
            try await withChild(binary, arguments, environment: ["HOSTNAME": "\(entry.app)-pod", "PATH": "/usr/bin:/bin"]) { child in
                if entry.app == "sleep" {
                    _ = try await child.line(containing: "idle until SIGTERM")
                } else {
                    let port = try await child.listeningPort()
                    let health = try await send(port, .get, entry.app == "httpbin" || entry.app == "fortio" ? "/get" : "/health")
                    #expect(health.status == .ok, "\(image): \(health.status)")
                }
                try child.terminate()
                #expect(try await child.exit() == .exited(code: 0), "\(image): \(child.stdout) \(child.stderr)")
            }
        }
    }

    @Test func sigtermLetsARequestInProgressFinish() async throws {
        let binary = try MeshlabProcess.binary()
        try await withChild(binary, ["app", "httpbin", "--port", "0", "--address", "127.0.0.1"]) { child in
            let port = try await child.listeningPort()
            let stream = try await SocketConnection.connect(to: .loopback(port: UInt16(port)), timeout: .seconds(5),
                                                            on: EventLoopGroup.shared.next())
            let connection = HTTPClientConnection(stream: stream)
            defer { Task { await connection.close() } }
            // A first exchange makes sure the server holds the connection before the slow one starts.
            #expect(try await connection.send(HTTPRequest(method: .get, target: "/get", headers: ["Host": "h"])).status == .ok)
            try await connection.writeRequestHead(HTTPRequestHead(method: .get, target: "/delay/1", headers: ["Host": "h"]),
                                                  bodyLength: 0)
            try await Task.sleep(for: .milliseconds(300))  // let the server start on it
            try child.terminate()
            let head = try await connection.readResponseHead()
            var body: [UInt8] = []
            while let chunk = try await connection.readResponseBody() { body += chunk }
            #expect(head.status == .ok)
            #expect(head.headers.containsToken("close", in: "connection"))
            #expect(String(decoding: body, as: UTF8.self).contains("\"url\": \"http://h/delay/1\""))
            #expect(try await child.exit() == .exited(code: 0))
            #expect(child.stdout.contains("httpbin received SIGTERM: finishing requests in progress"))
            #expect(child.stdout.contains("\"GET /delay/1 HTTP/1.1\" 200"))
            #expect(child.stdout.hasSuffix("httpbin stopped\n"))
        }
    }

    @Test func otherFortioCommandsAreRefusedClearly() async throws {
        let result = try await MeshlabProcess.run(["app", "fortio", "load", "http://x/"])
        #expect(result.code == 1)
        #expect(result.stderr.contains("fortio load is not supported in meshlab"))
        let help = try await MeshlabProcess.run(["app", "--help"])
        for app in ["productpage", "details", "reviews", "ratings", "helloworld", "httpbin", "fortio", "sleep"] {
            #expect(help.stdout.contains("\n  \(app) "), "\(app) missing from meshlab app --help")
        }
        let badPort = try await MeshlabProcess.run(["app", "helloworld", "--port", "http"])
        #expect(badPort.code == 64)
    }

    @Test func sleepEndsByItself() async throws {
        let result = try await MeshlabProcess.run(["app", "sleep", "0.05"])
        #expect(result.code == 0)
    }
}

/// curl, a real HTTP client, against the apps.
@Suite(.enabled(if: hasProgram("curl"), "curl is not installed")) struct CurlPeerTests {
    static func curl(_ arguments: [String]) async throws -> String {
        try await withChild("/usr/bin/env", ["curl", "-sS", "--max-time", "60"] + arguments) { child in
            let status = try await child.exit()
            guard status == .exited(code: 0) else { throw Child.Failure(description: "curl: \(status) \(child.stderr)") }
            return child.stdout
        }
    }

    @Test func curlGetsHttpbinsEcho() async throws {
        try await withServedApp(HttpbinApp()) { port in
            let body = try await Self.curl(["-H", "X-Request-Id: curl-1", "http://127.0.0.1:\(port)/get?show=1"])
            let json = try JSONValue(parsing: body)
            #expect(json["args"] == ["show": ["1"]])
            #expect(json["headers"]?["X-Request-Id"] == ["curl-1"])
            #expect(json["headers"]?["User-Agent"]?[0]?.stringValue?.hasPrefix("curl/") == true)
            #expect(json["url"] == .string("http://127.0.0.1:\(port)/get?show=1"))
        }
    }

    @Test func curlLogsInToProductpageAndSeesHelloworld() async throws {
        let front = ProductpageApp(environment: AppEnvironment([:]), client: loopbackClient())
        try await withServedApps([front, HelloworldApp(version: "v1", instance: "hw-1")]) { ports in
            let login = try await Self.curl(["-D", "-", "-o", "/dev/null", "--data", "username=jason&passwd=x",
                                             "http://127.0.0.1:\(ports[0])/login"])
            #expect(login.hasPrefix("HTTP/1.1 302 Found"))
            #expect(login.contains("Set-Cookie: user=jason; Path=/"))
            #expect(try await Self.curl(["http://127.0.0.1:\(ports[1])/hello"]) == "Hello version: v1, instance: hw-1\n")
        }
    }
}
