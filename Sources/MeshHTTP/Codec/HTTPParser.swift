/// Parses requests from the bytes a client sends: a pure, incremental state machine.
///
/// Feed bytes with `append` as they arrive, then call `next()` until it returns nil
/// (more bytes needed). Each message comes out as `.head`, zero or more `.body`,
/// then `.end`; pipelined requests follow one another in the same buffer, and the
/// next head is only parsed once the caller asks for it, so answering in order
/// and reading a body lazily are the caller's natural flow. After an error every
/// call throws the same error: answer `error.status` and close.
public struct HTTPRequestParser {
    private var core: HTTPParserCore

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        core = HTTPParserCore(mode: .request, limits: limits)
    }

    public var limits: HTTPParserLimits { core.limits }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { core.append(bytes) }
    public mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        core.append(contentsOf: bytes)
    }

    /// The next part, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequestPart? {
        switch try core.next() {
        case .requestHead(let head): return .head(head)
        case .body(let bytes): return .body(bytes)
        case .end(let trailers): return .end(trailers)
        case .responseHead, nil: return nil
        }
    }

    /// When the request just parsed has no body, consumes its `.end` and returns true:
    /// a server can then know the body is complete without another step.
    public mutating func finishIfBodyless() -> Bool { core.finishIfBodyless() }

    /// The peer closed its side: `next()` throws `.truncatedMessage` if a request was cut short.
    public mutating func endOfInput() { core.endOfInput() }

    /// Hands back the fields of a request the caller is done with (leaving `headers` empty):
    /// the next head is parsed into the same storage when nothing else still holds it.
    mutating func recycle(_ headers: inout HTTPHeaders) { core.recycle(&headers) }

    /// Bytes buffered and not yet parsed.
    public var bufferedByteCount: Int { core.bufferedByteCount }

    /// Nothing buffered and no request in progress: a good moment to close an idle connection.
    public var isIdle: Bool { core.isIdle }

    /// Whether a request has begun (bytes of it arrived) but has not ended.
    public var isInMessage: Bool { core.isInMessage }

    /// Takes every byte buffered but not parsed (for a protocol switch).
    public mutating func takeBufferedBytes() -> [UInt8] { core.takeBufferedBytes() }
}

/// Parses responses from the bytes a server sends.
///
/// Whether a response has a body depends on the request (HEAD, CONNECT), so tell
/// the parser with `expectResponse(to:)` for each request sent, in order. Interim
/// 1xx responses come out as `.head` + `.end` before the final response to the
/// same request. After 101 or a 2xx to CONNECT the parser stops: the rest of the
/// bytes belong to another protocol (`takeBufferedBytes()`). A response without
/// Content-Length or chunked framing ends when the server closes: call `endOfInput()`.
public struct HTTPResponseParser {
    private var core: HTTPParserCore

    public init(limits: HTTPParserLimits = HTTPParserLimits(maxBodyBytes: Int.max)) {
        core = HTTPParserCore(mode: .response, limits: limits)
    }

    public var limits: HTTPParserLimits { core.limits }

    /// Records that a request with `method` was sent; its response is the next one not yet claimed.
    public mutating func expectResponse(to method: HTTPMethod) { core.expectResponse(to: method) }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { core.append(bytes) }
    public mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        core.append(contentsOf: bytes)
    }

    public mutating func next() throws(HTTPParseError) -> HTTPResponsePart? {
        switch try core.next() {
        case .responseHead(let head): return .head(head)
        case .body(let bytes): return .body(bytes)
        case .end(let trailers): return .end(trailers)
        case .requestHead, nil: return nil
        }
    }

    /// The server closed its side: ends a close-delimited body; cuts anything else short.
    public mutating func endOfInput() { core.endOfInput() }

    public var bufferedByteCount: Int { core.bufferedByteCount }
    public var isIdle: Bool { core.isIdle }
    public var isInMessage: Bool { core.isInMessage }

    /// After a 101 or a CONNECT tunnel: bytes are no longer HTTP.
    public var isUpgraded: Bool {
        if case .upgraded = core.state { return true }
        return false
    }

    public mutating func takeBufferedBytes() -> [UInt8] { core.takeBufferedBytes() }
}
