import Foundation
import MeshIO
import MeshSystem
import MeshTestSupport
import Testing
@testable import MeshHTTP

@Suite struct HTTPServerTimeoutTests {
    /// A server end on a manual clock: timeouts fire when the test moves time, not after waiting.
    func serve(idle: Duration = .seconds(5), read: Duration = .seconds(2))
        -> (InMemoryStream, ManualClock, Task<Void, Never>, Locked<Bool>) {
        let clock = ManualClock()
        let (client, server) = InMemoryStream.pair(clock: clock)
        let configuration = HTTPServerConfiguration(idleTimeout: idle, readTimeout: read)
        let done = Locked(false)
        let task = Task {
            await HTTPServerConnection.serve(server, configuration: configuration, handler: echo)
            done.withLock { $0 = true }
        }
        return (client, clock, task, done)
    }

    /// Moves the clock in `step`s whenever something sleeps on it, until the server has ended
    /// (bounded: at most 20 steps and a few thousand polls).
    func advance(_ clock: ManualClock, by step: Duration, until done: Locked<Bool>) async {
        var steps = 0
        for _ in 0..<5000 where !done.withLock({ $0 }) && steps < 20 {
            if clock.sleeperCount > 0 {
                clock.advance(by: step)
                steps += 1
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func idleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        let (client, clock, server, done) = serve()
        try await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        var response = ByteBuffer()
        while !String(decoding: response.readableBytesView, as: UTF8.self).hasSuffix("\r\n\r\n") {
            _ = try await client.read(into: &response, maxBytes: 4096, timeout: nil)
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(4))
        for _ in 0..<100 { await Task.yield() }
        #expect(!done.withLock { $0 }, "closed before the idle timeout")
        await advance(clock, by: .seconds(2), until: done)
        await server.value
        #expect(try await client.read() == nil)
    }

    @Test func stalledHeadGets408() async throws {
        let (client, clock, server, done) = serve()
        try await client.write("GET / HTTP/1.1\r\nHo")
        await advance(clock, by: .seconds(3), until: done)
        await server.value
        let answer = String(decoding: try await client.readAll().readableBytesView, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(answer.contains("Connection: close\r\n"))
    }
}

@Suite(.serialized) struct HTTPServerSocketTests {
    @Test func servesAUnixSocket() async throws {
        guard hasProgram("curl") else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mh-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("api.sock").path
        let listener = try SocketListener.bindUnix(path: path, group: .shared)
        let server = HTTPServer()
        let task = Task(executorPreference: listener.eventLoop) { try await server.serve(listener, handler: peerHandler) }
        let result = try await runProcess(["curl", "-sS", "--unix-socket", path, "http://localhost/over-unix"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "target=/over-unix method=GET\n")
        await server.shutdown(gracePeriod: .seconds(2))
        _ = try? await task.value
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// The connection's task waits for requests without a cancellation handler per wait
    /// (one handler covers the connection): cancelling it must still end it.
    @Test func cancellingTheTaskServingASocketEndsItWhileItWaitsForARequest() async throws {
        let listener = try SocketListener.bind(.ipv4(IPv4Address(127, 0, 0, 1), port: 0), group: .shared)
        async let accepted = listener.accept()
        let client = try await SocketConnection.connect(to: listener.localAddress, timeout: .seconds(5),
                                                        on: EventLoopGroup.shared.next())
        let socket = try await accepted
        // An idle timeout far beyond the test: only the cancellation can end the connection.
        let configuration = HTTPServerConfiguration(idleTimeout: .seconds(3600))
        let serving = Task(executorPreference: socket.eventLoop) {
            await HTTPServerConnection.serve(socket, configuration: configuration, handler: peerHandler)
        }
        try await client.write("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        var response = ByteBuffer()
        while !String(decoding: response.readableBytesView, as: UTF8.self).hasSuffix("target=/one method=GET\n") {
            _ = try await client.read(into: &response, maxBytes: 4096, timeout: .seconds(5))
        }
        // Now idle, waiting for the next request.
        serving.cancel()
        // The client sees the close; a connection that ignored the cancellation would time the read out.
        #expect(try await client.read(timeout: .seconds(20)) == nil)
        await serving.value
        await client.close()
        await listener.close()
    }

    @Test func gracefulShutdownClosesIdleConnectionsAndFinishesInFlightRequests() async throws {
        let release = Locked<CheckedContinuation<Void, Never>?>(nil)
        let started = Locked(false)
        let slow = HTTPStreamingHandler { request, response in
            if request.path == "/slow" {
                await withCheckedContinuation { continuation in
                    release.withLock { $0 = continuation }
                    started.withLock { $0 = true }
                }
            }
            try await response.send(HTTPResponse(status: .ok, text: "done \(request.path)\n"))
        }
        let running = try RunningServer(handler: slow)
        let address = SocketAddress.ipv4(IPv4Address(127, 0, 0, 1), port: running.port)
        let idle = try await SocketConnection.connect(to: address, timeout: .seconds(5), on: EventLoopGroup.shared.next())
        try await idle.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
        var first = ByteBuffer()
        while !String(decoding: first.readableBytesView, as: UTF8.self).hasSuffix("done /first\n") {
            _ = try await idle.read(into: &first, maxBytes: 4096, timeout: .seconds(5))
        }
        let busy = try await SocketConnection.connect(to: address, timeout: .seconds(5), on: EventLoopGroup.shared.next())
        try await busy.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        let shutdown = Task { await running.server.shutdown(gracePeriod: .seconds(10)) }
        // The idle connection is closed at once; the one in flight gets its answer, told to close.
        #expect(try await idle.read(timeout: .seconds(5)) == nil)
        release.withLock { $0?.resume() }
        let answer = String(decoding: try await busy.readAll(timeout: .seconds(5)).readableBytesView, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("Connection: close\r\n"))
        #expect(answer.hasSuffix("done /slow\n"))
        await shutdown.value
        _ = try? await running.task.value
        #expect(running.server.connectionCount == 0)
        await idle.close()
        await busy.close()
    }
}

@Suite struct HTTPFramingEquivalenceTests {
    /// The server writes framing fields at serialization time; `prepare` edits the head.
    /// Both must give the same bytes for every case.
    @Test func additionsMatchPreparedHeads() {
        let heads: [HTTPResponseHead] = [
            HTTPResponseHead(status: .ok),
            HTTPResponseHead(status: .ok, headers: ["Content-Type": "text/plain", "content-length": "3"]),
            HTTPResponseHead(status: .ok, headers: ["Transfer-Encoding": "gzip", "X": "1"]),
            HTTPResponseHead(status: .noContent, headers: ["Content-Length": "9", "Transfer-Encoding": "chunked"]),
            HTTPResponseHead(status: .notModified, headers: ["Content-Length": "9", "ETag": "\"a\""]),
            HTTPResponseHead(status: .continue),
            HTTPResponseHead(status: .ok, version: .http1_0, headers: ["Connection": "keep-alive"]),
        ]
        for head in heads {
            for method in [HTTPMethod.get, .head, .post] {
                for version in [HTTPVersion.http1_1, .http1_0] {
                    for bodyLength in [nil, 0, 5] as [Int?] {
                        var prepared = head
                        let framing = HTTPFraming.prepare(&prepared, requestMethod: method, requestVersion: version, bodyLength: bodyLength)
                        let (decided, additions) = HTTPFraming.decide(head, requestMethod: method, requestVersion: version,
                                                                      bodyLength: bodyLength)
                        #expect(framing == decided)
                        #expect(HTTPSerializer.serialize(head, adding: additions) == HTTPSerializer.serialize(prepared),
                                "\(head.status) \(head.headers) \(method) \(version) \(String(describing: bodyLength))")
                    }
                }
            }
        }
    }

    @Test func knownFieldBitsFollowEveryEdit() {
        var headers: HTTPHeaders = ["HOST": "a", "X-Other": "1"]
        #expect(headers.has(.host) && !headers.has(.date))
        headers.add(name: "Content-length", value: "1")
        #expect(headers.has(.contentLength))
        headers.replaceOrAdd(name: "DATE", value: "now")
        #expect(headers.has(.date) && headers.first(.date) == "now")
        headers.remove(name: "content-LENGTH")
        #expect(!headers.has(.contentLength) && !headers.contains(name: "content-length"))
        headers.remove(.host)
        #expect(!headers.has(.host) && headers["host"] == nil)
        #expect(headers.count == 2)
        #expect(headers.first(.date) == headers["date"])
    }
}
