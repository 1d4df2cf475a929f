/// Answers requests. The server calls `handle` once per request, in order on each
/// connection; the next request on that connection waits until it returns.
///
/// A handler either calls `response.send(_:)` once with a whole response, or streams:
/// `writeHead`, any number of `writeBody`, then `finish`. It may read the request
/// body as it arrives (`request.body`) before, while or after responding; what it
/// leaves unread the server discards (or closes the connection when that is too much).
/// Returning without a response makes the server answer 500; throwing after
/// a streamed head has gone out closes the connection, so the client sees an
/// incomplete response rather than a truncated one that looks whole.
public protocol HTTPHandler: Sendable {
    nonisolated(nonsending) func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws
}

/// A handler from a closure over the streaming API.
public struct HTTPStreamingHandler: HTTPHandler {
    let body: nonisolated(nonsending) @Sendable (HTTPServerRequest, HTTPResponseWriter) async throws -> Void

    public init(_ body: nonisolated(nonsending) @escaping @Sendable (HTTPServerRequest, HTTPResponseWriter) async throws -> Void) {
        self.body = body
    }

    nonisolated(nonsending) public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        try await body(request, response)
    }
}

/// A handler for whole messages: the body is read in full (up to the server's
/// `maxBodyBytes`, else 413 before the closure runs), the closure answers with a whole response.
public struct HTTPSimpleHandler: HTTPHandler {
    let body: nonisolated(nonsending) @Sendable (HTTPRequest) async -> HTTPResponse

    public init(_ body: nonisolated(nonsending) @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.body = body
    }

    nonisolated(nonsending) public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        let whole: HTTPRequest
        if request.body.isComplete {
            whole = HTTPRequest(head: request.head)
        } else {
            let (bytes, trailers) = try await request.body.collectWithTrailers()
            whole = HTTPRequest(head: request.head, body: bytes, trailers: trailers)
        }
        try await response.send(await body(whole))
    }
}

/// A request as the server received it: the head now, the body as it arrives.
public struct HTTPServerRequest: Sendable {
    public let head: HTTPRequestHead
    public let body: HTTPRequestBody

    public var method: HTTPMethod { head.method }
    public var target: String { head.target }
    public var headers: HTTPHeaders { head.headers }
    public var path: Substring { head.path }

    /// Returns when the client has gone away: its side of the connection closed or failed.
    ///
    /// For long-lived responses (a watch stream that may send nothing for minutes)
    /// run it beside the writer and stop when it returns. It first reads and discards
    /// whatever body is left; bytes of a next pipelined request are kept for later.
    /// Cancel it (end the task group) when the response is done.
    nonisolated(nonsending) public func waitForDisconnect() async {
        await body.exchange.waitForDisconnect(generation: body.generation)
    }
}

/// The body of a request as an async sequence of byte chunks, in order, once.
///
/// The first read of a request that carries `Expect: 100-continue` sends
/// `100 Continue` first, unless a final response has started.
public struct HTTPRequestBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let exchange: HTTPServerConnection
    let generation: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let exchange: HTTPServerConnection
        let generation: Int
        nonisolated(nonsending) public mutating func next() async throws -> [UInt8]? {
            try await exchange.readBodyChunk(generation: generation)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(exchange: exchange, generation: generation)
    }

    /// The whole (rest of the) body. Throws `HTTPError.bodyTooLarge` beyond `limit` bytes
    /// (the server's own `maxBodyBytes` applies regardless, as 413).
    nonisolated(nonsending) public func collect(upTo limit: Int = Int.max) async throws -> [UInt8] {
        try await collectWithTrailers(upTo: limit).0
    }

    nonisolated(nonsending) func collectWithTrailers(upTo limit: Int = Int.max) async throws -> ([UInt8], HTTPHeaders) {
        var bytes: [UInt8] = []
        while let chunk = try await exchange.readBodyChunk(generation: generation) {
            if bytes.isEmpty {
                bytes = chunk
            } else {
                bytes.append(contentsOf: chunk)
            }
            if bytes.count > limit { throw HTTPError.bodyTooLarge(limit: limit) }
        }
        return (bytes, exchange.trailers(generation: generation))
    }

    /// Whether the whole body has been read (true at once for a request without a body).
    public var isComplete: Bool { exchange.bodyIsComplete(generation: generation) }

    /// Trailer fields of a chunked body, once the body has been read to its end.
    public var trailers: HTTPHeaders { exchange.trailers(generation: generation) }
}

/// Writes the response to one request: whole with `send`, or streamed.
public struct HTTPResponseWriter: Sendable {
    let exchange: HTTPServerConnection
    let generation: Int

    /// Sends a whole response. Content-Length is set from the body; HEAD, 1xx, 204
    /// and 304 responses go without body bytes.
    nonisolated(nonsending) public func send(_ response: HTTPResponse) async throws {
        try await exchange.send(response, generation: generation)
    }

    /// Starts a streamed response. Its body is chunked, unless the head sets
    /// Content-Length (then exactly that many bytes must follow) or the client
    /// speaks HTTP/1.0 (then the body ends when the connection closes).
    nonisolated(nonsending) public func writeHead(_ head: HTTPResponseHead) async throws {
        try await exchange.writeHead(head, generation: generation)
    }

    /// Sends body bytes now (one chunk when chunked).
    nonisolated(nonsending) public func writeBody(_ bytes: [UInt8]) async throws {
        try await exchange.writeBody(bytes, generation: generation)
    }

    /// Ends a streamed body (last chunk and trailers when chunked).
    nonisolated(nonsending) public func finish(trailers: HTTPHeaders? = nil) async throws {
        try await exchange.finish(trailers: trailers, generation: generation)
    }

    /// Whether a response head has gone out.
    public var hasStarted: Bool { exchange.responseStarted(generation: generation) }
}
