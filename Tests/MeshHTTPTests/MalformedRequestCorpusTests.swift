import Testing
@testable import MeshHTTP

/// One bad request and what a server must answer before closing.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let raw: [UInt8]
    let status: Int
    let kind: HTTPParseError.Kind

    init(_ name: String, _ raw: String, _ status: Int, _ kind: HTTPParseError.Kind) {
        self.name = name
        self.raw = Array(raw.utf8)
        self.status = status
        self.kind = kind
    }

    init(_ name: String, bytes: [UInt8], _ status: Int, _ kind: HTTPParseError.Kind) {
        self.name = name
        self.raw = bytes
        self.status = status
        self.kind = kind
    }

    var testDescription: String { name }
}

private let h = "Host: a\r\n"
private let chunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/// The malformed-request corpus: every case must end in `status` and a closed
/// connection, never in a crash, a hang or a request a backend could read differently.
let malformedCorpus: [MalformedCase] = [
    // Request smuggling: framing that two parsers could disagree about.
    MalformedCase("CL and TE", "POST / HTTP/1.1\r\n\(h)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, .contentLengthWithTransferEncoding),
    MalformedCase("TE and CL", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, .contentLengthWithTransferEncoding),
    MalformedCase("conflicting CL fields", "POST / HTTP/1.1\r\n\(h)Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400, .invalidContentLength),
    MalformedCase("conflicting CL list", "POST / HTTP/1.1\r\n\(h)Content-Length: 5, 6\r\n\r\nhello", 400, .invalidContentLength),
    MalformedCase("negative CL", "POST / HTTP/1.1\r\n\(h)Content-Length: -1\r\n\r\n", 400, .invalidContentLength),
    MalformedCase("signed CL", "POST / HTTP/1.1\r\n\(h)Content-Length: +5\r\n\r\nhello", 400, .invalidContentLength),
    MalformedCase("hex CL", "POST / HTTP/1.1\r\n\(h)Content-Length: 0x5\r\n\r\nhello", 400, .invalidContentLength),
    MalformedCase("empty CL", "POST / HTTP/1.1\r\n\(h)Content-Length:\r\n\r\n", 400, .invalidContentLength),
    MalformedCase("CL with inner space", "POST / HTTP/1.1\r\n\(h)Content-Length: 1 2\r\n\r\n", 400, .invalidContentLength),
    MalformedCase("CL overflow", "POST / HTTP/1.1\r\n\(h)Content-Length: 99999999999999999999999\r\n\r\n", 400, .invalidContentLength),
    MalformedCase("TE not chunked", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip\r\n\r\n", 400, .invalidTransferEncoding),
    MalformedCase("TE chunked not last", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked, gzip\r\n\r\n", 400, .invalidTransferEncoding),
    MalformedCase("TE chunked twice", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, .invalidTransferEncoding),
    MalformedCase("TE lookalike", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: xchunked\r\n\r\n", 400, .invalidTransferEncoding),
    MalformedCase("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, .invalidTransferEncoding),
    MalformedCase("TE gzip then chunked", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip, chunked\r\n\r\n", 501, .unsupportedTransferCoding),
    MalformedCase("space before colon", "POST / HTTP/1.1\r\n\(h)Transfer-Encoding : chunked\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("obs-fold", "GET / HTTP/1.1\r\n\(h)X-A: one\r\n two\r\n\r\n", 400, .obsoleteLineFolding),
    MalformedCase("obs-fold tab", "GET / HTTP/1.1\r\n\(h)X-A: one\r\n\ttwo\r\n\r\n", 400, .obsoleteLineFolding),
    MalformedCase("whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, .obsoleteLineFolding),
    // Field syntax.
    MalformedCase("name with space", "GET / HTTP/1.1\r\n\(h)X Y: 1\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("name with paren", "GET / HTTP/1.1\r\n\(h)X(: 1\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("empty name", "GET / HTTP/1.1\r\n\(h): v\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("no colon", "GET / HTTP/1.1\r\n\(h)JustAName\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("non-ASCII name", "GET / HTTP/1.1\r\n\(h)Nämé: 1\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("NUL in value", "GET / HTTP/1.1\r\n\(h)X: a\u{0}b\r\n\r\n", 400, .invalidHeaderValue),
    MalformedCase("bare CR in value", "GET / HTTP/1.1\r\n\(h)X: a\rb\r\n\r\n", 400, .invalidHeaderValue),
    MalformedCase("CR line ending", "GET / HTTP/1.1\r\n\(h)X: a\r\rY: b\r\n\r\n", 400, .invalidHeaderValue),
    MalformedCase("DEL in value", "GET / HTTP/1.1\r\n\(h)X: a\u{7F}\r\n\r\n", 400, .invalidHeaderValue),
    MalformedCase("ESC in value", "GET / HTTP/1.1\r\n\(h)X: \u{1B}[31m\r\n\r\n", 400, .invalidHeaderValue),
    // Request line.
    MalformedCase("double space", "GET  / HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("trailing space", "GET / HTTP/1.1 \r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("no version", "GET /\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("lowercase version", "GET / http/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("two-digit minor", "GET / HTTP/1.10\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("HTTP/2", "GET / HTTP/2.0\r\n\(h)\r\n", 505, .unsupportedVersion),
    MalformedCase("HTTP/0.9", "GET / HTTP/0.9\r\n\(h)\r\n", 505, .unsupportedVersion),
    MalformedCase("bad method char", "G@T / HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("empty method", " / HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("non-ASCII target", "GET /é HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("control in target", "GET /a\u{1}b HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("relative target", "GET foo HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("asterisk for GET", "GET * HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("CONNECT with path", "CONNECT / HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    MalformedCase("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, .unsupportedVersion),
    MalformedCase("TLS ClientHello", bytes: [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, 0x0A, 0x0D, 0x0A, 0x0D, 0x0A], 400, .malformedStartLine),
    MalformedCase("NUL in request line", "GET /\u{0} HTTP/1.1\r\n\(h)\r\n", 400, .malformedStartLine),
    // Host.
    MalformedCase("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400, .invalidHost),
    MalformedCase("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, .invalidHost),
    // Limits (default: 8 KiB request line, 64 KiB head, 100 fields, 16 MiB body).
    MalformedCase("request line over 8 KiB", "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\n\(h)\r\n", 414, .startLineTooLong),
    MalformedCase("header block over 64 KiB", "GET / HTTP/1.1\r\n\(h)" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 66) + "\r\n", 431, .headerBlockTooLarge),
    MalformedCase("over 100 fields", "GET / HTTP/1.1\r\n\(h)" + String(repeating: "X: 1\r\n", count: 100) + "\r\n", 431, .headerBlockTooLarge),
    MalformedCase("Content-Length over limit", "POST / HTTP/1.1\r\n\(h)Content-Length: 16777217\r\n\r\n", 413, .bodyTooLarge),
    MalformedCase("chunk over limit", chunkedHead + "1000001\r\n", 413, .bodyTooLarge),
    // Chunked framing.
    MalformedCase("chunk size not hex", chunkedHead + "zz\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk size bare LF", chunkedHead + "5\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk data too long", chunkedHead + "5\r\nhelloX\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk data bare LF", chunkedHead + "5\r\nhello\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk size overflow", chunkedHead + "ffffffffffffffffff\r\n", 400, .invalidChunk),
    MalformedCase("chunk size leading space", chunkedHead + " 5\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk size junk", chunkedHead + "5 x\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("negative chunk size", chunkedHead + "-5\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("empty chunk size", chunkedHead + "\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("control in chunk extension", chunkedHead + "5;a=\u{1}\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("chunk line over 4 KiB", chunkedHead + "5;" + String(repeating: "e", count: 5000) + "\r\nhello\r\n0\r\n\r\n", 400, .invalidChunk),
    MalformedCase("last chunk bare LF", chunkedHead + "0\r\n\n", 400, .invalidChunk),
    MalformedCase("trailer obs-fold", chunkedHead + "0\r\nX: a\r\n b\r\n\r\n", 400, .obsoleteLineFolding),
    MalformedCase("trailer bad name", chunkedHead + "0\r\nX Y: a\r\n\r\n", 400, .invalidHeaderName),
    MalformedCase("trailers over 64 KiB", chunkedHead + "0\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 66) + "\r\n", 431, .headerBlockTooLarge),
    // A valid request followed by a bad one: the first is served, the second answered with 400.
    MalformedCase("bad pipelined second", "GET / HTTP/1.1\r\n\(h)\r\nGET / HTTP/1.1\r\nHost: a\r\nX: \u{0}\r\n\r\n", 400, .invalidHeaderValue),
]

@Suite struct MalformedRequestCorpusTests {
    @Test(arguments: malformedCorpus)
    func answersWithStatusAndStaysFailed(_ sample: MalformedCase) throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: sample.raw)
        var caught: HTTPParseError?
        var parts = 0
        do {
            while try parser.next() != nil { parts += 1 }
        } catch {
            caught = error
        }
        let error = try #require(caught, "\(sample.name): parsed \(parts) parts without error")
        #expect(error.kind == sample.kind, "\(sample.name): \(error)")
        #expect(error.status.code == sample.status, "\(sample.name)")
        // After an error the parser never yields another part: the server must close.
        #expect(throws: HTTPParseError.self) { _ = try parser.next() }
        parser.append(contentsOf: bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(throws: HTTPParseError.self) { _ = try parser.next() }
    }

    @Test(arguments: malformedCorpus)
    func sameAnswerWhenBytesTrickleIn(_ sample: MalformedCase) {
        let result = parseRequests(sample.raw, step: 3)
        #expect(result.error?.kind == sample.kind, "\(sample.name)")
    }
}
