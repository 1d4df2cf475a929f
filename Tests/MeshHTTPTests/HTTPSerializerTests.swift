import Testing
import MeshTestSupport
@testable import MeshHTTP

@Suite struct HTTPSerializerTests {
    /// Bytes as readable text for a golden file: CR and LF shown, one wire line per text line.
    static func visible(_ bytes: [UInt8]) -> String {
        var text = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\r": text += "\\r"
            case "\n": text += "\\n\n"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    static func streamed(_ head: HTTPResponseHead, method: HTTPMethod = .get, version: HTTPVersion = .http1_1,
                         chunks: [String], trailers: HTTPHeaders? = nil) -> [UInt8] {
        var head = head
        let framing = HTTPFraming.prepare(&head, requestMethod: method, requestVersion: version, bodyLength: nil)
        var out: [UInt8] = []
        HTTPSerializer.append(head, to: &out)
        for chunk in chunks {
            if framing == .chunked { HTTPSerializer.appendChunk(Array(chunk.utf8), to: &out) } else if framing != .none { out += Array(chunk.utf8) }
        }
        if framing == .chunked { HTTPSerializer.appendLastChunk(trailers: trailers, to: &out) }
        return out
    }

    @Test func rendersGolden() throws {
        var cases: [(String, [UInt8])] = []
        cases.append(("200 with text body", HTTPSerializer.serialize(HTTPResponse(status: .ok, text: "hello\n"))))
        cases.append(("HEAD: fields of the GET, no body",
                      HTTPSerializer.serialize(HTTPResponse(status: .ok, text: "hello\n"), requestMethod: .head)))
        cases.append(("204 drops a Content-Length",
                      HTTPSerializer.serialize(HTTPResponse(status: .noContent, headers: ["Content-Length": "9"]))))
        cases.append(("304 keeps the handler's Content-Length",
                      HTTPSerializer.serialize(HTTPResponse(status: .notModified, headers: ["Content-Length": "9", "ETag": "\"v1\""]))))
        cases.append(("100 Continue", HTTPSerializer.serialize(HTTPResponse(status: .continue))))
        cases.append(("whole body with trailers goes chunked",
                      HTTPSerializer.serialize(HTTPResponse(head: HTTPResponseHead(status: .ok), body: Array("abc".utf8), trailers: ["X-Digest": "1"]))))
        cases.append(("streamed to HTTP/1.1: chunked with trailers",
                      Self.streamed(HTTPResponseHead(status: .ok, headers: ["Content-Type": "application/json"]),
                                    chunks: ["{\"type\":\"ADDED\"}\n", "", String(repeating: "x", count: 300)], trailers: ["X-Count": "2"])))
        cases.append(("streamed with the handler's Content-Length",
                      Self.streamed(HTTPResponseHead(status: .ok, headers: ["content-length": "4"]), chunks: ["ab", "cd"])))
        cases.append(("streamed to HTTP/1.0: until close",
                      Self.streamed(HTTPResponseHead(status: .ok, version: .http1_0), version: .http1_0, chunks: ["ab", "cd"])))
        cases.append(("header injection is neutralised",
                      HTTPSerializer.serialize(HTTPResponse(status: HTTPStatus(code: 200, reasonPhrase: "OK\r\nX-Evil: 1"),
                                                            headers: ["X-Echo": "a\r\nSet-Cookie: x=1", "Bad Name": "dropped", "X-Tab": "a\tb"]))))
        cases.append(("GET in absolute-form, empty body",
                      HTTPSerializer.serialize(HTTPRequest(method: .get, target: "http://reviews:9080/reviews/0", headers: ["Host": "reviews:9080"]))))
        cases.append(("POST with body",
                      HTTPSerializer.serialize(HTTPRequest(method: .post, target: "/api/v1/namespaces", headers: ["Host": "localhost", "Content-Type": "application/json"], body: Array("{}".utf8)))))
        cases.append(("extension method, target with a space",
                      HTTPSerializer.serialize(HTTPRequest(method: HTTPMethod("PURGE"), target: "/a b", version: .http1_0))))
        let text = cases.map { "## \($0.0)\n\(Self.visible($0.1))" }.joined(separator: "\n")
        try Golden.check(text, against: "serializer.golden")
    }

    @Test func serializedMessagesParseBack() throws {
        let response = HTTPResponse(head: HTTPResponseHead(status: .created, headers: ["X-A": "1", "x-a": "2"]), body: Array("body".utf8))
        let parsed = parseResponses(HTTPSerializer.serialize(response), methods: [.post])
        #expect(parsed.error == nil)
        #expect(parsed.messages.first?.body == response.body)
        #expect(parsed.messages.first?.head.headers.values(for: "X-A") == ["1", "2"])
        let chunked = HTTPResponse(head: HTTPResponseHead(status: .ok), body: Array("abc".utf8), trailers: ["X-T": "v"])
        let parsedChunked = parseResponses(HTTPSerializer.serialize(chunked), methods: [.get])
        #expect(parsedChunked.messages.first?.body == chunked.body)
        #expect(parsedChunked.messages.first?.trailers == ["X-T": "v"])
    }

    @Test(arguments: [(0, "0"), (1, "1"), (15, "F"), (16, "10"), (1024, "400"), (0xABCDEF, "ABCDEF")])
    func chunkSizesAreHex(value: Int, hex: String) {
        var out: [UInt8] = []
        HTTPSerializer.appendHex(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == hex)
    }

    @Test(arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
    ])
    func imfFixdate(seconds: Int, text: String) {
        #expect(HTTPDate.format(secondsSinceEpoch: seconds) == text)
    }
}
