import Testing
@testable import MeshHTTP

@Suite struct HTTPRequestParserTests {
    static let valid: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /p?q=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: x/1\r\nAccept: */*\r\n\r\n",
        "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 9\r\n\r\n",
        "GET http://svc:8080/x?y HTTP/1.1\r\nHost: svc:8080\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "PURGE /cache HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
    ]

    @Test(arguments: valid)
    func bytewiseFeedingMatchesWholeFeeding(_ text: String) throws {
        let whole = parseRequests(bytes(text))
        #expect(whole.error == nil)
        #expect(whole.messages.count == 1)
        for step in [1, 2, 3, 7] {
            let pieces = parseRequests(bytes(text), step: step)
            #expect(pieces.error == nil)
            #expect(pieces.messages == whole.messages, "step \(step)")
        }
    }

    @Test func simpleGet() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: bytes("GET /a?b=c HTTP/1.1\r\nHost: example\r\nX-Thing:  spaced value \t\r\n\r\n"))
        guard case .head(let head) = try parser.next() else { Issue.record("no head"); return }
        #expect(head.method == .get)
        #expect(head.target == "/a?b=c")
        #expect(head.version == .http1_1)
        #expect(head.headers["x-thing"] == "spaced value")
        #expect(head.keepAlive)
        #expect(try parser.next() == .end(nil))
        #expect(try parser.next() == nil)
        #expect(parser.isIdle)
    }

    @Test func pipelinedRequestsComeOutInOrder() {
        let input = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        let result = parseRequests(bytes(input))
        #expect(result.error == nil)
        #expect(result.messages.map(\.head.target) == ["/1", "/2", "/3"])
        #expect(result.messages[1].body == bytes("abc"))
        #expect(!result.messages[2].head.keepAlive)
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let input = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "a ; name=\"quoted\"\r\n0123456789\r\n1\r\nX\r\n0\r\nExpires: never\r\nX-Check: 1\r\n\r\n"
        let result = parseRequests(bytes(input), step: 5)
        #expect(result.error == nil)
        #expect(result.messages.first?.body == bytes("0123456789X"))
        #expect(result.messages.first?.trailers == ["Expires": "never", "X-Check": "1"])
    }

    @Test func leadingEmptyLinesAreIgnored() {
        let result = parseRequests(bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(result.error == nil)
        #expect(result.messages.count == 1)
    }

    @Test func repeatedEqualContentLengthIsAccepted() {
        let result = parseRequests(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nok"))
        #expect(result.error == nil)
        #expect(result.messages.first?.body == bytes("ok"))
    }

    @Test func bodyArrivesAsItComesWithoutWaitingForAllOfIt() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"))
        guard case .head = try parser.next() else { Issue.record("no head"); return }
        #expect(try parser.next() == .body(bytes("abc")))
        #expect(try parser.next() == nil)
        #expect(parser.isInMessage)
        parser.append(contentsOf: bytes("defghijGET"))
        #expect(try parser.next() == .body(bytes("defghij")))
        #expect(try parser.next() == .end(nil))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 3)
    }

    @Test func expectContinueIsVisibleOnTheHead() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: bytes("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"))
        guard case .head(let head) = try parser.next() else { Issue.record("no head"); return }
        #expect(head.expectsContinue)
        #expect(try parser.next() == nil)
    }

    @Test func truncatedRequestIsAnErrorAtEndOfInput() {
        let result = parseRequests(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"), endOfInput: true)
        #expect(result.error?.kind == .truncatedMessage)
        let idle = parseRequests(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), endOfInput: true)
        #expect(idle.error == nil)
    }

    @Test func limitsAreConfigurable() {
        let limits = HTTPParserLimits(maxStartLineLength: 22, maxHeaderBytes: 60, maxHeaderCount: 2, maxBodyBytes: 4)
        #expect(parseRequests(bytes("GET /12345678 HTTP/1.1\r\nHost: a\r\n\r\n"), limits: limits).error == nil)
        #expect(parseRequests(bytes("GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n"), limits: limits).error?.kind == .startLineTooLong)
        #expect(parseRequests(bytes("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), limits: limits).error?.kind == .headerBlockTooLarge)
        #expect(parseRequests(bytes("GET / HTTP/1.1\r\nHost: a\r\nA: 12345678901234567890123456789\r\n\r\n"), limits: limits).error?.kind == .headerBlockTooLarge)
        #expect(parseRequests(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"), limits: limits).error == nil)
        #expect(parseRequests(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde"), limits: limits).error?.kind == .bodyTooLarge)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        #expect(parseRequests(bytes(chunked), limits: limits).error?.kind == .bodyTooLarge)
    }

    @Test func oversizedHeadIsRejectedBeforeItEnds() {
        // The limit holds while the head is still arriving: no unbounded buffering.
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: 1024))
        parser.append(contentsOf: bytes("GET / HTTP/1.1\r\nHost: a\r\nX: "))
        parser.append(contentsOf: [UInt8](repeating: UInt8(ascii: "a"), count: 2000))
        #expect(throws: HTTPParseError(.headerBlockTooLarge)) { try parser.next() }
        var long = HTTPRequestParser(limits: HTTPParserLimits(maxStartLineLength: 100))
        long.append(contentsOf: bytes("GET /"))
        long.append(contentsOf: [UInt8](repeating: UInt8(ascii: "a"), count: 200))
        #expect(throws: HTTPParseError(.startLineTooLong)) { try long.next() }
    }
}
