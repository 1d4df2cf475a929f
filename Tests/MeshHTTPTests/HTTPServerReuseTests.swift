import MeshIO
import MeshSystem
import Testing
@testable import MeshHTTP

/// The server reuses storage from one request to the next (the parser's field array, the
/// connection's write buffer): what it hands out must stay intact and what it writes exact.
@Suite struct HTTPServerReuseTests {
    @Test func recycledFieldStorageNeverChangesAHeadStillHeld() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: bytes("GET /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\n"
            + "GET /b HTTP/1.1\r\nHost: b\r\n\r\n" + "GET /c HTTP/1.1\r\nHost: c\r\nX-Three: 3\r\n\r\n"))
        guard case .head(var first)? = try parser.next() else { Issue.record("no first head"); return }
        #expect(try parser.next() == .end(nil))
        // A copy is still held (as a handler may keep a request): recycling must not reuse its storage.
        let kept = first
        parser.recycle(&first.headers)
        #expect(first.headers.isEmpty)
        guard case .head(var second)? = try parser.next() else { Issue.record("no second head"); return }
        #expect(try parser.next() == .end(nil))
        #expect(kept.headers == ["Host": "a", "X-One": "1"])
        #expect(second.headers == ["Host": "b"])
        // Nothing else holds the second head's storage: the third is parsed into it.
        parser.recycle(&second.headers)
        guard case .head(let third)? = try parser.next() else { Issue.record("no third head"); return }
        #expect(third.target == "/c")
        #expect(third.headers == ["Host": "c", "X-Three": "3"])
        #expect(third.headers.has(.host) && !third.headers.has(.date))
        #expect(kept.headers == ["Host": "a", "X-One": "1"])
    }

    @Test func requestsKeptByAHandlerStayIntactAcrossRequests() async throws {
        let seen = Locked<[HTTPRequest]>([])
        let keeping = HTTPSimpleHandler { request in
            seen.withLock { $0.append(request) }
            return HTTPResponse(status: .ok, text: "ok\n")
        }
        let harness = ServerHarness(handler: keeping)
        try await harness.send("GET /1 HTTP/1.1\r\nHost: one\r\nX-A: a\r\n\r\n")
        _ = try await harness.responses(1, to: [.get])
        try await harness.send("GET /2 HTTP/1.1\r\nHost: two\r\n\r\n")
        _ = try await harness.responses(1, to: [.get])
        await harness.finish()
        let requests = seen.withLock { $0 }
        #expect(requests.map(\.target) == ["/1", "/2"])
        #expect(requests.map(\.headers) == [["Host": "one", "X-A": "a"], ["Host": "two"]])
    }

    /// Responses of every framing and size, one after the other on one connection, both
    /// over a socket (the server's direct path) and an in-memory stream.
    @Test(arguments: [true, false])
    func mixedResponsesOnOneConnectionArriveExactly(overSocket: Bool) async throws {
        @Sendable func body(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }
        let sizes = [0, 1, 1024, 8 * 1024, 8 * 1024 + 1, 70_000, 3]
        let handler = HTTPSimpleHandler { request in
            let name = request.path.dropFirst()
            if name == "trailers" {
                return HTTPResponse(head: HTTPResponseHead(status: .ok), body: body(5000), trailers: ["X-Sum": "5000"])
            }
            if name == "not-modified" { return HTTPResponse(status: .notModified, headers: ["ETag": "\"x\""]) }
            return HTTPResponse(status: .ok, body: body(Int(name) ?? 0))
        }
        let requests = sizes.map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }
            + ["HEAD /1024 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /trailers HTTP/1.1\r\nHost: a\r\n\r\n",
               "GET /not-modified HTTP/1.1\r\nHost: a\r\n\r\n", "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
               "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]
        let allMethods = sizes.map { _ in HTTPMethod.get } + [.head, .get, .get, .get, .get]
        var messages: [Parsed<HTTPResponseHead>] = []
        if overSocket {
            let running = try RunningServer(handler: handler)
            let client = try await SocketConnection.connect(to: .ipv4(IPv4Address(127, 0, 0, 1), port: running.port),
                                                            timeout: .seconds(5), on: EventLoopGroup.shared.next())
            var parser = HTTPResponseParser()
            var buffer = ByteBuffer(capacity: 64 * 1024)
            // One request at a time, so each response is written on its own.
            for (request, method) in zip(requests, allMethods) {
                parser.expectResponse(to: method)
                try await client.write(request)
                var complete = false
                while !complete {
                    guard try await client.read(into: &buffer, maxBytes: 64 * 1024, timeout: .seconds(10)) != nil else {
                        parser.endOfInput()
                        break
                    }
                    parser.append(contentsOf: buffer.readableBytesView)
                    buffer.clear()
                    while let part = try parser.next() {
                        switch part {
                        case .head(let head): messages.append(Parsed(head: head, body: []))
                        case .body(let bytes): messages[messages.count - 1].body += bytes
                        case .end(let trailers):
                            messages[messages.count - 1].trailers = trailers
                            messages[messages.count - 1].ended = true
                            complete = true
                        }
                    }
                }
            }
            #expect(try await client.read(timeout: .seconds(10)) == nil, "not closed after Connection: close")
            await client.close()
            await running.stop()
        } else {
            let harness = ServerHarness(handler: handler)
            try await harness.send(requests.joined())
            messages = try await harness.responses(requests.count, to: allMethods)
            #expect(await harness.serverClosed())
            await harness.finish()
        }

        #expect(messages.allSatisfy { $0.ended })
        guard messages.count == requests.count else {
            Issue.record("\(messages.count) responses for \(requests.count) requests")
            return
        }
        for (index, size) in sizes.enumerated() {
            #expect(messages[index].body == body(size), "GET /\(size)")
            #expect(messages[index].head.headers["content-length"] == "\(size)")
        }
        let head = messages[sizes.count]
        #expect(head.body.isEmpty && head.head.headers["content-length"] == "1024")
        let chunked = messages[sizes.count + 1]
        #expect(chunked.body == body(5000) && chunked.trailers?["x-sum"] == "5000")
        #expect(messages[sizes.count + 2].head.status == .notModified && messages[sizes.count + 2].body.isEmpty)
        #expect(messages[sizes.count + 3].body == body(2))
        #expect(messages.last?.head.headers["connection"] == "close")
    }
}
