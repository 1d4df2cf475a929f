import Testing
@testable import MeshHTTP

@Suite struct HTTPResponseParserTests {
    @Test func contentLengthAndChunkedResponsesInARow() {
        let input = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnah\r\n0\r\nX-T: 1\r\n\r\n"
        for step in [Int.max, 1, 4] {
            let result = parseResponses(bytes(input), methods: [.get, .get], step: step)
            #expect(result.error == nil)
            #expect(result.ended == 2)
            #expect(result.messages.map(\.head.status.code) == [200, 404])
            #expect(result.messages.map(\.body) == [bytes("ok"), bytes("nah")])
            #expect(result.messages[1].trailers == ["X-T": "1"])
        }
    }

    @Test func headResponseHasNoBodyDespiteContentLength() {
        let input = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
        let result = parseResponses(bytes(input), methods: [.head, .get])
        #expect(result.error == nil)
        #expect(result.ended == 2)
        #expect(result.messages.map(\.body) == [[], bytes("x")])
    }

    @Test(arguments: [204, 304])
    func noBodyStatuses(code: Int) {
        let input = "HTTP/1.1 \(code) X\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        let result = parseResponses(bytes(input), methods: [.get, .get])
        #expect(result.error == nil)
        #expect(result.messages.map(\.head.status.code) == [code, 200])
        #expect(result.messages.allSatisfy { $0.body.isEmpty })
    }

    @Test func interimResponsesPrecedeTheFinalOne() {
        let input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        let result = parseResponses(bytes(input), methods: [.post, .get])
        #expect(result.error == nil)
        #expect(result.messages.map(\.head.status.code) == [100, 103, 201, 200])
        #expect(result.messages[2].body == bytes("!"))
    }

    @Test func closeDelimitedBodyEndsAtEndOfInput() {
        let input = bytes("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this until close")
        let open = parseResponses(input, methods: [.get])
        #expect(open.ended == 0)
        #expect(open.messages.first?.body == bytes("all of this until close"))
        let closed = parseResponses(input, methods: [.get], step: 5, endOfInput: true)
        #expect(closed.error == nil)
        #expect(closed.ended == 1)
        #expect(closed.messages.first?.body == bytes("all of this until close"))
        // Transfer-Encoding that does not end in chunked also reads until close (RFC 9112 §6.3).
        let gzip = parseResponses(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz"), methods: [.get], endOfInput: true)
        #expect(gzip.messages.first?.body == bytes("zz"))
    }

    @Test func truncatedResponseIsAnError() {
        let result = parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), methods: [.get], endOfInput: true)
        #expect(result.error?.kind == .truncatedMessage)
    }

    @Test func switchingProtocolsStopsTheParser() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(to: .get)
        parser.append(contentsOf: bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n") + [0x81, 0x00])
        guard case .head(let head) = try parser.next() else { Issue.record("no head"); return }
        #expect(head.status == .switchingProtocols)
        #expect(try parser.next() == .end(nil))
        #expect(try parser.next() == nil)
        #expect(parser.isUpgraded)
        #expect(parser.takeBufferedBytes() == [0x81, 0x00])
    }

    @Test func connectTunnel() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(to: .connect)
        parser.append(contentsOf: bytes("HTTP/1.1 200 Connection Established\r\n\r\nraw"))
        #expect(try parser.next() != nil)
        #expect(try parser.next() == .end(nil))
        #expect(parser.isUpgraded)
        #expect(parser.takeBufferedBytes() == bytes("raw"))
    }

    @Test func statusLineVariants() {
        let result = parseResponses(bytes("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 299 Whatever Goes\r\nContent-Length: 0\r\n\r\n"),
                                    methods: [.get, .get])
        #expect(result.error == nil)
        #expect(result.messages.map(\.head.status.reasonPhrase) == ["", "Whatever Goes"])
    }

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", HTTPParseError.Kind.malformedStartLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformedStartLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .malformedStartLine),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", .obsoleteLineFolding),
        ("HTTP/1.1 200 OK\u{1}\r\n\r\n", .malformedStartLine),
    ])
    func malformedResponses(raw: String, kind: HTTPParseError.Kind) {
        #expect(parseResponses(bytes(raw), methods: [.get]).error?.kind == kind)
    }
}
