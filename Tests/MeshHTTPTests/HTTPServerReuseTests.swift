import MeshIO
import MeshSystem
import Testing
@testable import MeshHTTP

/// The server reuses storage from one request to the next (the parser's field array):
/// what it hands out must stay intact.
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
}
