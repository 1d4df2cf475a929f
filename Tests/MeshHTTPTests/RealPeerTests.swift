import Foundation
import MeshIO
import MeshSystem
import Testing
@testable import MeshHTTP

/// meshlab's HTTP server on a real loopback socket (port 0), stopped at the end of a test.
final class RunningServer: Sendable {
    let server: HTTPServer
    let port: UInt16
    let task: Task<Void, any Error>

    init(handler: some HTTPHandler, configuration: HTTPServerConfiguration = HTTPServerConfiguration()) throws {
        let listener = try SocketListener.bind(.ipv4(IPv4Address(127, 0, 0, 1), port: 0), group: .shared)
        guard case .ipv4(_, let port) = listener.localAddress else { throw HTTPError.invalidState("no port") }
        let server = HTTPServer(configuration: configuration)
        self.server = server
        self.port = port
        task = Task(executorPreference: listener.eventLoop) { try await server.serve(listener, handler: handler) }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        await server.shutdown(gracePeriod: .seconds(2))
        _ = try? await task.value
    }
}

/// A handler with a few routes for real clients: /echo echoes the body; anything else answers its target.
let peerHandler = HTTPSimpleHandler { request in
    if request.path == "/echo" {
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: request.body)
    }
    return HTTPResponse(status: .ok, text: "target=\(request.target) method=\(request.method)\n")
}

@Suite(.serialized) struct RealPeerTests {
    @Test(.enabled(if: hasProgram("curl"), "curl is not installed"))
    func curlReusesOneConnectionForSeveralURLs() async throws {
        let running = try RunningServer(handler: peerHandler)
        defer { Task { await running.stop() } }
        let result = try await runProcess(["curl", "-sS", "--http1.1", "-w", "connects=%{num_connects} code=%{http_code}\n",
                                     "\(running.url)/a", "\(running.url)/b?x=1", "\(running.url)/c"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            target=/a method=GET
            connects=1 code=200
            target=/b?x=1 method=GET
            connects=0 code=200
            target=/c method=GET
            connects=0 code=200

            """)
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("curl"), "curl is not installed"))
    func curlHeadThenGetOnTheSameConnection() async throws {
        let running = try RunningServer(handler: peerHandler)
        let result = try await runProcess(["curl", "-sS", "--http1.1", "-I", "\(running.url)/h", "--next",
                                     "-w", "connects=%{num_connects}\n", "\(running.url)/after"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.stdout.lowercased().contains("content-length: 22\r\n"))
        #expect(result.stdout.hasSuffix("target=/after method=GET\nconnects=0\n"))
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("curl"), "curl is not installed"))
    func curlChunkedUploadFromStdin() async throws {
        let running = try RunningServer(handler: peerHandler)
        let payload = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let result = try await runProcess(["curl", "-sS", "--http1.1", "-T", "-", "-v", "\(running.url)/echo"], stdin: payload)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Transfer-Encoding: chunked"))
        #expect(Array(result.stdout.utf8).count == payload.count || result.stdout.utf8.count > 0)
        let echoed = try await runProcess(["sh", "-c", "head -c 50000 /dev/zero | curl -sS --http1.1 -T - \(running.url)/echo | wc -c"])
        #expect(echoed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "50000")
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("curl"), "curl is not installed"))
    func curlExpectContinue() async throws {
        let running = try RunningServer(handler: peerHandler)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meshlab-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("body").path
        try Data(repeating: 0x61, count: 3000).write(to: URL(fileURLWithPath: file))
        let result = try await runProcess(["curl", "-sS", "--http1.1", "-v", "-H", "Expect: 100-continue",
                                     "--data-binary", "@\(file)", "\(running.url)/echo"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("HTTP/1.1 100 Continue"))
        #expect(result.stdout == String(repeating: "a", count: 3000))
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("python3"), "python3 is not installed"))
    func pythonKeepAliveAndPipelining() async throws {
        let running = try RunningServer(handler: peerHandler)
        let script = """
        import http.client, socket, sys
        port = int(sys.argv[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        socks = set()
        for i in range(3):
            conn.request("POST", "/echo", body=b"x" * (i + 1) * 1000)
            r = conn.getresponse()
            assert r.status == 200, r.status
            assert r.read() == b"x" * (i + 1) * 1000
            socks.add(id(conn.sock))
        print("keepalive-sockets", len(socks))
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /p1 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /p2 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /p3 HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        order = [t.decode() for t in __import__("re").findall(rb"target=(/p\\d)", data)]
        print("pipelined", ",".join(order), data.count(b"HTTP/1.1 200 OK"))
        """
        let result = try await runProcess(["python3", "-c", script, "\(running.port)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "keepalive-sockets 1\npipelined /p1,/p2,/p3 3\n")
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("wrk"), "wrk is not installed"))
    func wrkKeepAliveLoadHasNoErrors() async throws {
        let running = try RunningServer(handler: peerHandler)
        let result = try await runProcess(["wrk", "-t1", "-c8", "-d1s", "\(running.url)/load"], timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("Non-2xx"), "\(result.stdout)")
        #expect(!result.stdout.contains("Socket errors"), "\(result.stdout)")
        let requests = result.stdout.split(separator: "\n").first { $0.contains("requests in") }
            .flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        #expect(requests > 0, "\(result.stdout)")
        await running.stop()
    }

    @Test(.enabled(if: hasProgram("python3"), "python3 is not installed"))
    func ourClientAgainstPythonHTTPServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meshlab-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello from python\n".utf8).write(to: directory.appendingPathComponent("hello.txt"))
        let python = try ChildProcess(["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], directory: directory.path)
        defer { python.stop() }
        let line = try #require(python.waitForLine { $0.contains("port ") })
        let portText = line.split(separator: " ").drop { $0 != "port" }.dropFirst().first ?? ""
        let port = try #require(Int(portText))
        let destination = HTTPDestination(host: "127.0.0.1", port: port)
        let pool = HTTPConnectionPool { destination in
            try await SocketConnection.connect(to: .ipv4(IPv4Address(127, 0, 0, 1), port: UInt16(destination.port)),
                                               timeout: .seconds(5), on: EventLoopGroup.shared.next())
        }
        for _ in 0..<2 {
            let response = try await pool.send(HTTPRequest(method: .get, target: "/hello.txt", headers: ["Host": "127.0.0.1"]), to: destination)
            #expect(response.status == .ok)
            #expect(response.bodyText == "hello from python\n")
        }
        let missing = try await pool.send(HTTPRequest(method: .get, target: "/nope"), to: destination)
        #expect(missing.status == .notFound)
        // http.server speaks HTTP/1.0 and closes after each response: nothing may be reused.
        #expect(pool.statistics.reuses == 0)
        #expect(pool.idleConnectionCount == 0)
        await pool.shutdown()
    }

    @Test(.enabled(if: hasProgram("python3"), "python3 is not installed"))
    func ourPoolReusesConnectionsOfAKeepAlivePythonServer() async throws {
        let script = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                body = ("path=%s port=%d\\n" % (self.path, self.client_address[1])).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                self.send_response(201)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\\r\\n%s\\r\\n0\\r\\n\\r\\n" % (len(body), body))
            def log_message(self, *args):
                pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print("port", s.server_address[1], flush=True)
        s.serve_forever()
        """
        let python = try ChildProcess(["python3", "-u", "-c", script])
        defer { python.stop() }
        let line = try #require(python.waitForLine { $0.hasPrefix("port ") })
        let port = try #require(Int(line.dropFirst(5)))
        let destination = HTTPDestination(host: "127.0.0.1", port: port)
        let pool = HTTPConnectionPool { destination in
            try await SocketConnection.connect(to: .ipv4(IPv4Address(127, 0, 0, 1), port: UInt16(destination.port)),
                                               timeout: .seconds(5), on: EventLoopGroup.shared.next())
        }
        var clientPorts: Set<String> = []
        for index in 0..<3 {
            let response = try await pool.send(HTTPRequest(method: .get, target: "/\(index)"), to: destination)
            #expect(response.bodyText.hasPrefix("path=/\(index) "))
            clientPorts.insert(String(response.bodyText.split(separator: "=").last ?? ""))
        }
        let posted = try await pool.send(HTTPRequest(method: .post, target: "/p", body: Array("data".utf8)), to: destination)
        #expect(posted.status == .created)
        #expect(posted.bodyText == "data")
        #expect(clientPorts.count == 1)
        #expect(pool.statistics.connectionsOpened == 1)
        #expect(pool.statistics.reuses == 3)
        await pool.shutdown()
    }
}
