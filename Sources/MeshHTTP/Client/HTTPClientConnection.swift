import MeshIO
import Synchronization

/// Timeouts of a client connection.
public struct HTTPClientConfiguration: Sendable {
    /// Parser limits for responses (no body limit by default: a proxy streams).
    public var limits: HTTPParserLimits
    /// How long the response (head or next body bytes) may keep us waiting.
    public var readTimeout: Duration
    /// How long a write may make no progress.
    public var writeTimeout: Duration

    public init(limits: HTTPParserLimits = HTTPParserLimits(maxBodyBytes: Int.max),
                readTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(30)) {
        self.limits = limits
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }
}

/// One request at a time over one connection, whole or streamed both ways.
///
/// Streaming: `writeRequestHead`, `writeRequestBody`…, `finishRequest`, and
/// `readResponseHead`, `readResponseBody`… until nil. The request side and the
/// response side may run in two tasks at once (a proxy forwards a request body
/// while the answer already comes back); each side has a busy flag, so misuse
/// throws `HTTPError.concurrentUse` instead of racing. `Expect: 100-continue` is
/// sent as given but the body is not held back for the 100 (RFC 9110 §10.1.1
/// lets a client send it anyway); interim 1xx responses are skipped.
public final class HTTPClientConnection: @unchecked Sendable {
    public let stream: any ByteStream
    public let configuration: HTTPClientConfiguration

    private let writeBusy = Atomic<Bool>(false)
    private let readBusy = Atomic<Bool>(false)
    private let broken = Atomic<Bool>(false)

    // Request side.
    private enum RequestState {
        case idle
        case body(HTTPBodyFraming, written: Int)
        case complete
    }
    private var requestState = RequestState.idle
    private var requestKeepAlive = true
    private var requestMethod = HTTPMethod.get

    // Response side.
    private var parser: HTTPResponseParser
    private var readBuffer = ByteBuffer(capacity: 16 * 1024)
    private var peerClosed = false
    private var responseHeadRead = false
    private var responseComplete = false
    private var responseKeepAlive = true
    private var responseTrailers = HTTPHeaders()
    /// Whether any byte of a response arrived: after that a failure is not a stale connection.
    private(set) var receivedResponseBytes = false
    /// Requests this connection has carried, the current one included.
    public private(set) var requestCount = 0

    public init(stream: any ByteStream, configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.stream = stream
        self.configuration = configuration
        self.parser = HTTPResponseParser(limits: configuration.limits)
        self.requestState = .complete
        self.responseComplete = true
    }

    /// Sends a whole request and reads the whole response.
    nonisolated(nonsending) public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let bodyLength = request.trailers.isEmpty ? request.body.count : nil
        try await writeRequestHead(request.head, bodyLength: bodyLength, firstBody: bodyLength == nil ? [] : request.body)
        if bodyLength == nil {
            try await writeRequestBody(request.body)
            try await finishRequest(trailers: request.trailers)
        }
        let head = try await readResponseHead()
        var body: [UInt8] = []
        while let chunk = try await readResponseBody() {
            if body.isEmpty { body = chunk } else { body.append(contentsOf: chunk) }
        }
        return HTTPResponse(head: head, body: body, trailers: responseTrailers)
    }

    // MARK: Request side

    /// Starts a request. `bodyLength` is the whole body's size when known (0: none), nil to
    /// stream it chunked (unless the head sets Content-Length, which is then kept).
    nonisolated(nonsending) public func writeRequestHead(_ head: HTTPRequestHead, bodyLength: Int?) async throws {
        try await writeRequestHead(head, bodyLength: bodyLength, firstBody: [])
    }

    nonisolated(nonsending) private func writeRequestHead(_ head: HTTPRequestHead, bodyLength: Int?, firstBody: [UInt8]) async throws {
        try acquire(writeBusy, "request writer")
        defer { writeBusy.store(false, ordering: .releasing) }
        guard case .complete = requestState, responseComplete, !broken.load(ordering: .acquiring) else {
            throw HTTPError.invalidState("connection is busy with another request or broken")
        }
        var head = head
        if head.version == .http1_1 && !head.headers.has(.host) {
            head.headers.add(name: "Host", value: head.host ?? "localhost")
        }
        let framing = HTTPFraming.prepare(&head, bodyLength: bodyLength)
        requestMethod = head.method
        requestKeepAlive = head.keepAlive
        requestCount += 1
        responseHeadRead = false
        responseComplete = false
        responseTrailers = HTTPHeaders()
        receivedResponseBytes = false
        parser.expectResponse(to: head.method)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        HTTPSerializer.append(head, to: &bytes)
        switch framing {
        case .none:
            requestState = .complete
        case .contentLength(let length):
            requestState = firstBody.count == length && bodyLength != nil ? .complete : .body(framing, written: 0)
        case .chunked, .untilClose:
            requestState = .body(framing, written: 0)
        }
        try await guarded { try await self.stream.writeHTTP(bytes, firstBody, timeout: self.configuration.writeTimeout) }
    }

    /// Sends request body bytes (one chunk when chunked).
    nonisolated(nonsending) public func writeRequestBody(_ bytes: [UInt8]) async throws {
        try acquire(writeBusy, "request writer")
        defer { writeBusy.store(false, ordering: .releasing) }
        guard case .body(let framing, let written) = requestState else {
            throw HTTPError.invalidState("writeRequestBody without a request body in progress")
        }
        guard !bytes.isEmpty else { return }
        switch framing {
        case .contentLength(let declared):
            guard written + bytes.count <= declared else {
                broken.store(true, ordering: .releasing)
                throw HTTPError.bodyLengthMismatch(declared: declared, written: written + bytes.count)
            }
            requestState = .body(framing, written: written + bytes.count)
            try await guarded { try await self.stream.writeHTTP(bytes, timeout: self.configuration.writeTimeout) }
        case .chunked:
            var prefix: [UInt8] = []
            HTTPSerializer.appendHex(bytes.count, to: &prefix)
            prefix += [13, 10]
            try await guarded { try await self.stream.writeHTTP([prefix, bytes, [13, 10]], timeout: self.configuration.writeTimeout) }
        case .none, .untilClose:
            throw HTTPError.invalidState("request has no body")
        }
    }

    /// Ends the request body (last chunk and trailers when chunked).
    nonisolated(nonsending) public func finishRequest(trailers: HTTPHeaders? = nil) async throws {
        try acquire(writeBusy, "request writer")
        defer { writeBusy.store(false, ordering: .releasing) }
        switch requestState {
        case .complete:
            return
        case .idle:
            throw HTTPError.invalidState("finishRequest before writeRequestHead")
        case .body(let framing, let written):
            requestState = .complete
            if case .contentLength(let declared) = framing, declared != written {
                broken.store(true, ordering: .releasing)
                throw HTTPError.bodyLengthMismatch(declared: declared, written: written)
            }
            if case .chunked = framing {
                var bytes: [UInt8] = []
                HTTPSerializer.appendLastChunk(trailers: trailers, to: &bytes)
                try await guarded { try await self.stream.writeHTTP(bytes, timeout: self.configuration.writeTimeout) }
            }
        }
    }

    // MARK: Response side

    /// Reads the final response head (interim 1xx responses are skipped; 101 is returned).
    nonisolated(nonsending) public func readResponseHead() async throws -> HTTPResponseHead {
        try acquire(readBusy, "response reader")
        defer { readBusy.store(false, ordering: .releasing) }
        guard !responseHeadRead else { throw HTTPError.invalidState("response head already read") }
        while true {
            switch try await nextPart() {
            case .head(let head):
                if head.status.isInformational && head.status.code != 101 {
                    // Its `.end` follows at once.
                    _ = try await nextPart()
                    continue
                }
                responseHeadRead = true
                responseKeepAlive = head.keepAlive && head.status.code != 101
                return head
            case .body, .end:
                broken.store(true, ordering: .releasing)
                throw HTTPError.invalidState("response body before its head")
            }
        }
    }

    /// The next response body bytes; nil at the end of the body.
    nonisolated(nonsending) public func readResponseBody() async throws -> [UInt8]? {
        try acquire(readBusy, "response reader")
        defer { readBusy.store(false, ordering: .releasing) }
        guard responseHeadRead else { throw HTTPError.invalidState("readResponseBody before readResponseHead") }
        if responseComplete { return nil }
        switch try await nextPart() {
        case .body(let bytes):
            return bytes
        case .end(let trailers):
            responseComplete = true
            responseTrailers = trailers ?? HTTPHeaders()
            if parser.isUpgraded || peerClosed { responseKeepAlive = false }
            return nil
        case .head:
            broken.store(true, ordering: .releasing)
            throw HTTPError.invalidState("second head inside a response")
        }
    }

    /// Trailer fields of the response, once its body has been read to the end.
    public var trailers: HTTPHeaders { responseTrailers }

    nonisolated(nonsending) private func nextPart() async throws -> HTTPResponsePart {
        while true {
            let part: HTTPResponsePart?
            do {
                part = try parser.next()
            } catch {
                broken.store(true, ordering: .releasing)
                throw HTTPError.parse(error)
            }
            if let part { return part }
            if peerClosed {
                broken.store(true, ordering: .releasing)
                throw HTTPError.connectionClosed
            }
            var buffer = ByteBuffer()
            swap(&buffer, &readBuffer)
            defer { swap(&buffer, &readBuffer) }
            let gotBytes = try await guarded { try await self.stream.readHTTP(into: &buffer, timeout: self.configuration.readTimeout) }
            if gotBytes {
                receivedResponseBytes = true
                buffer.withUnsafeReadableBytes { parser.append($0) }
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            } else {
                peerClosed = true
                parser.endOfInput()
            }
        }
    }

    // MARK: State

    /// Whether the connection can carry another request: both messages complete,
    /// both sides wanted keep-alive, nothing failed and nothing unasked arrived.
    public var isReusable: Bool {
        guard case .complete = requestState else { return false }
        return responseComplete && requestKeepAlive && responseKeepAlive && !peerClosed
            && !broken.load(ordering: .acquiring) && parser.bufferedByteCount == 0
    }

    nonisolated(nonsending) public func close() async {
        broken.store(true, ordering: .releasing)
        await stream.close()
    }

    private func acquire(_ flag: borrowing Atomic<Bool>, _ what: String) throws(HTTPError) {
        guard flag.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw HTTPError.concurrentUse(what)
        }
    }

    /// Runs an I/O operation; any failure leaves the connection unusable.
    nonisolated(nonsending) private func guarded<R>(_ operation: () async throws -> R) async throws -> R {
        do {
            return try await operation()
        } catch {
            broken.store(true, ordering: .releasing)
            throw error
        }
    }
}
