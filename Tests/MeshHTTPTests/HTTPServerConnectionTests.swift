import MeshIO
import MeshTestSupport
import Synchronization
import Testing
@testable import MeshHTTP

/// A client end of an in-memory connection with a server task on the other end.
final class ServerHarness: Sendable {
    let client: InMemoryStream
    let server: Task<Void, Never>
    private let parser = Mutex(HTTPResponseParser())

    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: some HTTPHandler) {
        let (client, serverEnd) = InMemoryStream.pair()
        self.client = client
        server = Task { await HTTPServerConnection.serve(serverEnd, configuration: configuration, handler: handler) }
    }

    func send(_ text: String) async throws { try await client.write(Array(text.utf8), timeout: nil) }

    /// Reads until `count` responses (interim ones included) are complete.
    func responses(_ count: Int, to methods: [HTTPMethod]) async throws -> [Parsed<HTTPResponseHead>] {
        for method in methods { parser.withLock { $0.expectResponse(to: method) } }
        var messages: [Parsed<HTTPResponseHead>] = []
        var ended = 0
        while ended < count {
            let parts = try parser.withLock { parser -> [HTTPResponsePart] in
                var parts: [HTTPResponsePart] = []
                while let part = try parser.next() { parts.append(part) }
                return parts
            }
            for part in parts {
                switch part {
                case .head(let head): messages.append(Parsed(head: head, body: []))
                case .body(let bytes): messages[messages.count - 1].body += bytes
                case .end(let trailers):
                    messages[messages.count - 1].trailers = trailers
                    messages[messages.count - 1].ended = true
                    ended += 1
                }
            }
            if ended >= count { break }
            guard let buffer = try await client.read() else {
                parser.withLock { $0.endOfInput() }
                if try parser.withLock({ try $0.next() }) == nil { break }
                continue
            }
            parser.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
        return messages
    }

    /// Whether the server closed the connection (after everything it sent was read).
    func serverClosed() async -> Bool {
        guard let rest = try? await client.readAll(limit: 1 << 16) else { return false }
        let leftover = parser.withLock { $0.bufferedByteCount }
        return rest.isEmpty && leftover == 0
    }

    func finish() async {
        await client.close()
        await server.value
    }
}

/// A lock-protected value a test can share with a handler.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

let echo = HTTPSimpleHandler { request in
    var headers: HTTPHeaders = ["X-Method": request.method.rawValue, "X-Target": request.target]
    if let trailer = request.trailers.first(name: "x-sum") { headers.add(name: "X-Trailer", value: trailer) }
    return HTTPResponse(status: .ok, headers: headers, body: request.body)
}

@Suite struct HTTPServerConnectionTests {
    @Test func keepAliveServesSeveralRequests() async throws {
        let harness = ServerHarness(handler: echo)
        try await harness.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        let first = try await harness.responses(1, to: [.get])
        #expect(first.first?.head.status == .ok)
        #expect(first.first?.head.headers["x-target"] == "/one")
        #expect(first.first?.head.headers["date"] != nil)
        #expect(first.first?.head.keepAlive == true)
        try await harness.send("POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        let second = try await harness.responses(1, to: [.post])
        #expect(second.first?.body == bytes("hello"))
        await harness.finish()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let harness = ServerHarness(handler: echo)
        try await harness.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 7\r\n\r\n"
            + "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let responses = try await harness.responses(4, to: [.get, .head, .put, .get])
        #expect(responses.map { $0.head.headers["x-target"] } == ["/1", "/2", "/3", "/4"])
        #expect(responses[1].body.isEmpty)
        #expect(responses[1].head.headers["content-length"] == "0")
        #expect(responses[2].body == bytes("hi"))
        #expect(responses[2].head.headers["x-trailer"] == "7")
        #expect(responses[3].head.headers["connection"] == "close")
        #expect(await harness.serverClosed())
        await harness.finish()
    }

    @Test func http10ClientsGetKeepAliveOnlyWhenAsking() async throws {
        let harness = ServerHarness(handler: echo)
        try await harness.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let kept = try await harness.responses(1, to: [.get])
        #expect(kept.first?.head.headers["connection"] == "keep-alive")
        try await harness.send("GET /b HTTP/1.0\r\n\r\n")
        let closing = try await harness.responses(1, to: [.get])
        #expect(closing.first?.head.headers["connection"] == "close")
        #expect(await harness.serverClosed())
        await harness.finish()
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 413),
        ("GET /" + String(repeating: "a", count: 300) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 600) + "\r\n\r\n", 431),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", 413),
        ("PUT / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417),
    ])
    func badRequestsAreAnsweredThenClosed(raw: String, status: Int) async throws {
        let limits = HTTPParserLimits(maxStartLineLength: 256, maxHeaderBytes: 512, maxBodyBytes: 1024)
        let harness = ServerHarness(configuration: HTTPServerConfiguration(limits: limits), handler: echo)
        try await harness.send(raw)
        let responses = try await harness.responses(1, to: [.get])
        #expect(responses.first?.head.status.code == status)
        #expect(responses.first?.head.headers["connection"] == "close")
        try await harness.client.shutdownWrite()
        #expect(await harness.serverClosed())
        await harness.server.value
    }

    @Test func expectContinueIsSentWhenTheHandlerReadsTheBody() async throws {
        let harness = ServerHarness(handler: echo)
        try await harness.send("PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try await harness.responses(1, to: [.put])
        #expect(interim.first?.head.status == .continue)
        try await harness.send("data")
        let final = try await harness.responses(1, to: [])
        #expect(final.first?.head.status == .ok)
        #expect(final.first?.body == bytes("data"))
        await harness.finish()
    }

    @Test func expectContinueRefusedWithoutReadingClosesTheConnection() async throws {
        let refuse = HTTPStreamingHandler { _, response in
            try await response.send(HTTPResponse(status: .forbidden, text: "no\n"))
        }
        let harness = ServerHarness(handler: refuse)
        try await harness.send("PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let responses = try await harness.responses(1, to: [.put])
        #expect(responses.map(\.head.status.code) == [403])
        #expect(responses.first?.head.headers["connection"] == "close")
        try await harness.client.shutdownWrite()
        #expect(await harness.serverClosed())
        await harness.server.value
    }

    @Test func streamedResponseIsChunkedForHTTP11AndCloseDelimitedFor10() async throws {
        let stream = HTTPStreamingHandler { _, response in
            try await response.writeHead(HTTPResponseHead(status: .ok, headers: ["Content-Type": "application/json"]))
            for index in 0..<3 { try await response.writeBody(Array("{\"n\":\(index)}\n".utf8)) }
            try await response.finish(trailers: ["X-Done": "yes"])
        }
        let harness = ServerHarness(handler: stream)
        try await harness.send("GET /watch HTTP/1.1\r\nHost: a\r\n\r\n")
        let chunked = try await harness.responses(1, to: [.get])
        #expect(chunked.first?.head.headers["transfer-encoding"] == "chunked")
        #expect(chunked.first?.body == bytes("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"))
        #expect(chunked.first?.trailers == ["X-Done": "yes"])
        try await harness.send("GET /watch HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let old = try await harness.responses(1, to: [.get])
        #expect(old.first?.head.headers["connection"] == "close")
        #expect(old.first?.body == bytes("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"))
        await harness.finish()
    }

    @Test func handlerFailureBeforeRespondingIs500AndKeepsTheConnection() async throws {
        struct Boom: Error {}
        let failing = HTTPStreamingHandler { request, response in
            if request.path == "/fail" { throw Boom() }
            try await response.send(HTTPResponse(status: .ok))
        }
        let harness = ServerHarness(handler: failing)
        try await harness.send("GET /fail HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
        let responses = try await harness.responses(2, to: [.get, .get])
        #expect(responses.map(\.head.status.code) == [500, 200])
        await harness.finish()
    }

    @Test func handlerFailureMidStreamCutsTheConnection() async throws {
        struct Boom: Error {}
        let failing = HTTPStreamingHandler { _, response in
            try await response.writeHead(HTTPResponseHead(status: .ok))
            try await response.writeBody(bytes("partial"))
            throw Boom()
        }
        let harness = ServerHarness(handler: failing)
        try await harness.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let raw = String(decoding: try await harness.client.readAll().readableBytesView, as: UTF8.self)
        #expect(raw.hasSuffix("\r\n\r\n7\r\npartial\r\n"), "no last chunk: the client must see the response cut short")
        await harness.finish()
    }

    @Test func unreadBodyIsDiscardedAndTheNextRequestServed() async throws {
        let ignoring = HTTPStreamingHandler { request, response in
            try await response.send(HTTPResponse(status: .accepted, headers: ["X-Target": request.target]))
        }
        let harness = ServerHarness(handler: ignoring)
        try await harness.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        let responses = try await harness.responses(2, to: [.post, .get])
        #expect(responses.map { $0.head.headers["x-target"] } == ["/a", "/b"])
        await harness.finish()
    }

    @Test func unreadBodyOverTheDiscardLimitClosesTheConnection() async throws {
        let ignoring = HTTPStreamingHandler { _, response in try await response.send(HTTPResponse(status: .accepted)) }
        let harness = ServerHarness(configuration: HTTPServerConfiguration(maxDiscardBytes: 4), handler: ignoring)
        try await harness.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
        let responses = try await harness.responses(1, to: [.post])
        #expect(responses.first?.head.status == .accepted)
        #expect(await harness.serverClosed())
        await harness.finish()
    }

    @Test func misuseIsReportedNotTrapped() async throws {
        let results = Locked<[String]>([])
        let leaked = Locked<HTTPResponseWriter?>(nil)
        let misuse = HTTPStreamingHandler { _, response in
            do { try await response.writeBody(bytes("x")) } catch { results.withLock { $0.append("\(error)") } }
            try await response.writeHead(HTTPResponseHead(status: .ok, headers: ["Content-Length": "2"]))
            do { try await response.writeHead(HTTPResponseHead(status: .ok)) } catch { results.withLock { $0.append("\(error)") } }
            do { try await response.writeBody(bytes("abc")) } catch { results.withLock { $0.append("\(error)") } }
            try await response.writeBody(bytes("ab"))
            try await response.finish()
            leaked.withLock { $0 = response }
        }
        let harness = ServerHarness(handler: misuse)
        try await harness.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let responses = try await harness.responses(1, to: [.get])
        #expect(responses.first?.body == bytes("ab"))
        let writer = try #require(leaked.withLock { $0 })
        await #expect(throws: HTTPError.self) { try await writer.writeBody(bytes("late")) }
        #expect(results.withLock { $0 }.count == 3)
        await harness.finish()
    }

    @Test func waitForDisconnectReturnsWhenTheClientGoes() async throws {
        let stopped = Locked(false)
        let watch = HTTPStreamingHandler { request, response in
            try await response.writeHead(HTTPResponseHead(status: .ok))
            try await response.writeBody(bytes("event\n"))
            await request.waitForDisconnect()
            stopped.withLock { $0 = true }
        }
        let harness = ServerHarness(handler: watch)
        try await harness.send("GET /watch HTTP/1.1\r\nHost: a\r\n\r\n")
        _ = try await harness.client.read()
        await harness.client.close()
        await harness.server.value
        #expect(stopped.withLock { $0 })
    }
}
