import FoundationEssentials
import MeshIO
import Synchronization

/// Serves HTTP/1.1 on one connection: reads requests in order, runs the handler
/// for each, writes its response, and keeps the connection while both sides want it.
///
/// The request body reader and the response writer handed to a handler point back
/// here. They may be used from two tasks at once (a proxy streams both ways), so the
/// read side and the write side each have a busy flag: a second concurrent reader
/// or writer gets `HTTPError.concurrentUse` instead of a race. Each exchange has a
/// generation number; a reader or writer kept past its handler's return fails with
/// `invalidState`. That is why the class may be `@unchecked Sendable`: all mutable
/// state is touched by one task at a time, under one of those flags.
public final class HTTPServerConnection: @unchecked Sendable {
    let stream: any ByteStream
    /// `stream` when it is a socket. The connection's own reads and writes then call it
    /// directly when running on its loop, and the reads that wait for the next request
    /// leave cancellation to one handler around the whole connection (`run`).
    private let socket: SocketConnection?
    let configuration: HTTPServerConfiguration
    let lifecycle: HTTPServerLifecycle?

    private let readBusy = Atomic<Bool>(false)
    private let writeBusy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    /// Waiting for the next request with nothing buffered: safe to close at shutdown.
    let isIdle = Atomic<Bool>(false)

    // Read side.
    // Unchecked exclusivity (no run-time access tracking) for the two fields every read
    // modifies: only the holder of the read flag touches them, never re-entrantly.
    @exclusivity(unchecked) private var parser: HTTPRequestParser
    /// The connection's read buffer, kept for its life so reads allocate nothing.
    @exclusivity(unchecked) private var readBuffer = ByteBuffer(capacity: 16 * 1024)
    private var peerClosed = false
    private var bodyComplete = true
    private var requestTrailers = HTTPHeaders()
    /// A parse error met while reading a body: the exchange ends with its status and a close.
    private var readFailure: HTTPParseError?

    // Write side.
    /// Whole responses are serialized into this buffer, kept for the connection's life so
    /// that writing one allocates nothing (unchecked exclusivity: only the write flag's holder touches it).
    @exclusivity(unchecked) private var writeBuffer = ByteBuffer(capacity: 4096)
    private enum ResponseState {
        case notStarted
        case streaming(HTTPBodyFraming, written: Int)
        case finished
    }
    private var responseState = ResponseState.notStarted
    private var continueSent = false
    private var requestHead = HTTPRequestHead(method: .get, target: "/")
    private var keepAlive = true
    private var requestsServed = 0
    private var dateSecond = -1
    private var dateValue = ""

    init(stream: any ByteStream, configuration: HTTPServerConfiguration, lifecycle: HTTPServerLifecycle?) {
        self.stream = stream
        self.socket = stream as? SocketConnection
        self.configuration = configuration
        self.lifecycle = lifecycle
        self.parser = HTTPRequestParser(limits: configuration.limits)
    }

    /// Serves requests on `stream` with `handler` until either side closes, then closes it.
    /// (`HTTPServer` does this for every connection a listener accepts.)
    public static func serve(_ stream: any ByteStream, configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                             handler: some HTTPHandler) async {
        await HTTPServerConnection(stream: stream, configuration: configuration, lifecycle: nil).run(handler)
    }

    nonisolated(nonsending) func run(_ handler: some HTTPHandler) async {
        // The request loop specialised for the common handler type: its `handle` is then
        // a direct call the compiler can inline, not a call through a witness table
        // (one async frame and one executor switch fewer per request).
        if let simple = handler as? HTTPSimpleHandler {
            await serveRequests(simple)
        } else {
            await serveRequests(handler)
        }
        isIdle.store(false, ordering: .relaxed)
        await stream.close()
    }

    nonisolated(nonsending) private func serveRequests<Handler: HTTPHandler>(_ handler: Handler) async {
        guard let socket else {
            while await serveOneRequest(handler) {}
            return
        }
        // One cancellation handler for the connection's life instead of one per wait for a request.
        await withTaskCancellationHandler {
            while await serveOneRequest(handler) {}
        } onCancel: {
            socket.cancelWaits()
        }
    }

    /// Serves one request; false when the connection must close.
    nonisolated(nonsending) private func serveOneRequest(_ handler: some HTTPHandler) async -> Bool {
        let head: HTTPRequestHead
        do {
            guard let next = try await readHead() else { return false }
            head = next
        } catch HTTPError.parse(let error) {
            requestHead = HTTPRequestHead(method: .get, target: "/")
            await respondAndClose(error.status, reason: error.description)
            return false
        } catch HTTPError.timedOut {
            requestHead = HTTPRequestHead(method: .get, target: "/")
            if parser.isInMessage { await respondAndClose(.requestTimeout, reason: "request not received in time") }
            return false
        } catch {
            return false
        }
        beginExchange(head)
        if parser.finishIfBodyless() { bodyComplete = true }
        if head.headers.has(.expect) && !head.expectsContinue {
            await respondAndClose(.expectationFailed, reason: "only 100-continue is understood")
            return false
        }
        let current = generation.add(1, ordering: .acquiringAndReleasing).newValue
        let request = HTTPServerRequest(head: head, body: HTTPRequestBody(exchange: self, generation: current))
        var handlerError: (any Error)?
        do {
            try await handler.handle(request, HTTPResponseWriter(exchange: self, generation: current))
        } catch {
            handlerError = error
        }
        // The common case needs no I/O to finish: skip the async path.
        if handlerError == nil, case .finished = responseState, bodyComplete, keepAlive, readFailure == nil,
           readBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            if writeBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                generation.add(1, ordering: .acquiringAndReleasing)
                requestsServed += 1
                writeBusy.store(false, ordering: .releasing)
                readBusy.store(false, ordering: .releasing)
                return true
            }
            readBusy.store(false, ordering: .releasing)
        }
        return await completeExchange(handlerError: handlerError)
    }

    private func beginExchange(_ head: HTTPRequestHead) {
        requestHead = head
        responseState = .notStarted
        continueSent = false
        bodyComplete = false
        requestTrailers = HTTPHeaders()
        readFailure = nil
        keepAlive = head.keepAlive
    }

    // MARK: - Reading

    private func parseNext() throws(HTTPError) -> HTTPRequestPart? {
        do {
            return try parser.next()
        } catch {
            throw HTTPError.parse(error)
        }
    }

    /// The socket, when the caller runs on its loop.
    private var socketOnLoop: SocketConnection? {
        guard let socket, socket.eventLoop.inEventLoop else { return nil }
        return socket
    }

    /// Reads more request bytes into the parser. `.byOwner` only from the connection's
    /// own task (inside `run`'s cancellation handler).
    @inline(__always)
    nonisolated(nonsending) private func readMore(timeout: Duration?, cancellation: WaitCancellation = .perWait) async throws {
        var buffer = ByteBuffer()
        swap(&buffer, &readBuffer)
        defer { swap(&buffer, &readBuffer) }
        let more: Bool
        if let socket = socketOnLoop {
            more = try await socket.readHTTPOnLoop(into: &buffer, timeout: timeout, cancellation: cancellation)
        } else {
            more = try await stream.readHTTP(into: &buffer, timeout: timeout)
        }
        if more {
            buffer.withUnsafeReadableBytes { parser.append($0) }
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        } else {
            peerClosed = true
            parser.endOfInput()
        }
    }

    @inline(__always)
    nonisolated(nonsending) private func readHead() async throws -> HTTPRequestHead? {
        // The previous request is done with: its field storage can take the next one's.
        parser.recycle(&requestHead.headers)
        while true {
            if let part = try parseNext() {
                guard case .head(let head) = part else { throw HTTPError.invalidState("body before head") }
                return head
            }
            if peerClosed { return nil }
            let waitingIdle = !parser.isInMessage
            if waitingIdle && lifecycle?.isShuttingDown == true { return nil }
            isIdle.store(waitingIdle, ordering: .relaxed)
            defer { isIdle.store(false, ordering: .relaxed) }
            try await readMore(timeout: waitingIdle ? configuration.idleTimeout : configuration.readTimeout,
                               cancellation: .byOwner)
        }
    }

    nonisolated(nonsending) func readBodyChunk(generation expected: Int) async throws -> [UInt8]? {
        try checkGeneration(expected)
        guard readBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw HTTPError.concurrentUse("request body")
        }
        defer { readBusy.store(false, ordering: .releasing) }
        if bodyComplete { return nil }
        if requestHead.expectsContinue && !continueSent { try await sendContinue() }
        while true {
            let part: HTTPRequestPart?
            do {
                part = try parseNext()
            } catch {
                if case .parse(let parseError) = error { readFailure = parseError }
                throw error
            }
            switch part {
            case .body(let bytes)?:
                return bytes
            case .end(let trailers)?:
                bodyComplete = true
                requestTrailers = trailers ?? HTTPHeaders()
                return nil
            case .head?:
                throw HTTPError.invalidState("head inside a body")
            case nil:
                if peerClosed { throw HTTPError.connectionClosed }
                try await readMore(timeout: configuration.readTimeout)
            }
        }
    }

    func bodyIsComplete(generation expected: Int) -> Bool {
        generation.load(ordering: .acquiring) == expected && bodyComplete
    }

    func trailers(generation expected: Int) -> HTTPHeaders {
        generation.load(ordering: .acquiring) == expected ? requestTrailers : HTTPHeaders()
    }

    nonisolated(nonsending) func waitForDisconnect(generation expected: Int) async {
        do {
            while try await readBodyChunk(generation: expected) != nil {}
            guard readBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
            defer { readBusy.store(false, ordering: .releasing) }
            // Whatever comes now belongs to the next request: keep it, within the head limit.
            while !peerClosed && parser.bufferedByteCount <= configuration.limits.maxHeaderBytes {
                try checkGeneration(expected)
                try await readMore(timeout: nil)
            }
        } catch {
            return
        }
    }

    nonisolated(nonsending) private func sendContinue() async throws {
        guard requestHead.version == .http1_1,
              writeBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { writeBusy.store(false, ordering: .releasing) }
        guard case .notStarted = responseState else { return }
        continueSent = true
        try await write(Self.continueBytes)
    }

    /// Writes `bytes` within the write timeout: straight to the socket when on its loop.
    @inline(__always)
    nonisolated(nonsending) private func write(_ bytes: [UInt8]) async throws {
        try await write(ByteBuffer(bytes))
    }

    @inline(__always)
    nonisolated(nonsending) private func write(_ buffer: ByteBuffer) async throws {
        if let socket = socketOnLoop {
            try await socket.writeHTTPOnLoop(buffer, timeout: configuration.writeTimeout)
        } else {
            try await stream.writeHTTP(buffer, timeout: configuration.writeTimeout)
        }
    }

    private static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    private static let crlf: [UInt8] = [13, 10]
    /// Bodies up to this size are copied behind the head and written as one buffer.
    static let copyBodyLimit = 8 * 1024

    // MARK: - Writing

    private func checkGeneration(_ expected: Int) throws(HTTPError) {
        guard generation.load(ordering: .acquiring) == expected else {
            throw HTTPError.invalidState("request or response used after its handler returned")
        }
    }

    private func acquireWriter(_ expected: Int) throws(HTTPError) {
        try checkGeneration(expected)
        guard writeBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw HTTPError.concurrentUse("response writer")
        }
    }

    private func releaseWriter() { writeBusy.store(false, ordering: .releasing) }

    func responseStarted(generation expected: Int) -> Bool {
        guard generation.load(ordering: .acquiring) == expected else { return true }
        if case .notStarted = responseState { return false }
        return true
    }

    nonisolated(nonsending) func send(_ response: HTTPResponse, generation expected: Int) async throws {
        try acquireWriter(expected)
        defer { releaseWriter() }
        try await sendLocked(response)
    }

    @inline(__always)
    nonisolated(nonsending) private func sendLocked(_ response: HTTPResponse) async throws {
        guard case .notStarted = responseState else { throw HTTPError.invalidState("response already started") }
        let head = response.head
        if head.status.isInformational && head.status.code != 101 {
            // An interim response (103 Early Hints): the final one still has to come.
            return try await write(HTTPSerializer.serialize(head))
        }
        let (framing, additions) = settle(head, bodyLength: response.trailers.isEmpty ? response.body.count : nil)
        responseState = .finished
        var buffer = ByteBuffer()
        swap(&buffer, &writeBuffer)
        HTTPSerializer.write(head, adding: additions, into: &buffer)
        var separateBody: [UInt8]?
        switch framing {
        case .none:
            break
        case .contentLength, .untilClose:
            // A small body goes out in the head's buffer: a copy is cheaper than a gathered write.
            if response.body.count <= Self.copyBodyLimit { buffer.writeBytes(response.body) } else { separateBody = response.body }
        case .chunked:
            var chunked: [UInt8] = []
            HTTPSerializer.appendBody(response.body, trailers: response.trailers, framing: .chunked, to: &chunked)
            buffer.writeBytes(chunked)
        }
        do {
            if let separateBody {
                try await stream.writeHTTP(buffer, separateBody, timeout: configuration.writeTimeout)
            } else {
                try await write(buffer)
            }
        } catch {
            keepAlive = false
            throw error
        }
        buffer.clear()
        writeBuffer = buffer
    }

    nonisolated(nonsending) func writeHead(_ head: HTTPResponseHead, generation expected: Int) async throws {
        try acquireWriter(expected)
        defer { releaseWriter() }
        guard case .notStarted = responseState else { throw HTTPError.invalidState("response already started") }
        let (framing, additions) = settle(head, bodyLength: nil)
        let bytes = HTTPSerializer.serialize(head, adding: additions)
        responseState = .streaming(framing, written: 0)
        do {
            try await write(bytes)
        } catch {
            keepAlive = false
            throw error
        }
    }

    nonisolated(nonsending) func writeBody(_ body: [UInt8], generation expected: Int) async throws {
        try acquireWriter(expected)
        defer { releaseWriter() }
        guard case .streaming(let framing, let written) = responseState else {
            throw HTTPError.invalidState("writeBody without a streamed head")
        }
        guard !body.isEmpty else { return }
        do {
            switch framing {
            case .none:
                return
            case .contentLength(let declared):
                guard written + body.count <= declared else {
                    keepAlive = false
                    throw HTTPError.bodyLengthMismatch(declared: declared, written: written + body.count)
                }
                responseState = .streaming(framing, written: written + body.count)
                try await write(body)
            case .untilClose:
                try await write(body)
            case .chunked:
                var prefix: [UInt8] = []
                HTTPSerializer.appendHex(body.count, to: &prefix)
                prefix.append(contentsOf: [13, 10])
                try await stream.writeHTTP([prefix, body, Self.crlf], timeout: configuration.writeTimeout)
            }
        } catch {
            keepAlive = false
            throw error
        }
    }

    nonisolated(nonsending) func finish(trailers: HTTPHeaders?, generation expected: Int) async throws {
        try acquireWriter(expected)
        defer { releaseWriter() }
        try await finishLocked(trailers: trailers)
    }

    nonisolated(nonsending) private func finishLocked(trailers: HTTPHeaders?) async throws {
        guard case .streaming(let framing, let written) = responseState else {
            if case .finished = responseState { return }
            throw HTTPError.invalidState("finish without a streamed head")
        }
        responseState = .finished
        switch framing {
        case .none, .untilClose:
            return
        case .contentLength(let declared):
            if written != declared {
                keepAlive = false
                throw HTTPError.bodyLengthMismatch(declared: declared, written: written)
            }
        case .chunked:
            var bytes: [UInt8] = []
            HTTPSerializer.appendLastChunk(trailers: trailers, to: &bytes)
            do {
                try await write(bytes)
            } catch {
                keepAlive = false
                throw error
            }
        }
    }

    /// Decides the response's framing and the fields the server adds (Connection, Date,
    /// Server), and settles whether the connection stays open.
    private func settle(_ head: HTTPResponseHead, bodyLength: Int?) -> (HTTPBodyFraming, HeadAdditions) {
        var (framing, additions) = HTTPFraming.decide(head, requestMethod: requestHead.method,
                                                      requestVersion: requestHead.version, bodyLength: bodyLength)
        let unreadBodyUnwanted = !bodyComplete && requestHead.expectsContinue && !continueSent
        let limitReached = configuration.maxRequestsPerConnection.map { requestsServed + 1 >= $0 } ?? false
        if keepAlive && (framing == .untilClose || unreadBodyUnwanted || limitReached
                         || lifecycle?.isShuttingDown == true || head.headers.containsToken("close", in: .connection)) {
            keepAlive = false
        }
        if !keepAlive {
            additions.omit(.connection, from: head.headers)
            additions.connection = "close"
        } else if requestHead.version == .http1_0 {
            additions.omit(.connection, from: head.headers)
            additions.connection = "keep-alive"
        }
        if configuration.sendsDate && !head.headers.has(.date) { additions.date = currentDate() }
        if let serverName = configuration.serverName, !head.headers.has(.server) { additions.server = serverName }
        return (framing, additions)
    }

    private func currentDate() -> String {
        let now = Int(Date().timeIntervalSince1970)
        if now != dateSecond {
            dateSecond = now
            dateValue = HTTPDate.format(secondsSinceEpoch: now)
        }
        return dateValue
    }

    // MARK: - Ending an exchange

    /// After the handler returned: makes sure a whole response went out, discards an
    /// unread body, and says whether the connection can carry another request.
    nonisolated(nonsending) private func completeExchange(handlerError: (any Error)?) async -> Bool {
        // A handler that left a task reading or writing: nothing can be trusted, close.
        guard readBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        guard writeBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        generation.add(1, ordering: .acquiringAndReleasing)
        defer {
            readBusy.store(false, ordering: .releasing)
            writeBusy.store(false, ordering: .releasing)
        }
        switch responseState {
        case .notStarted:
            let status: HTTPStatus
            if let readFailure {
                status = readFailure.status
                keepAlive = false
            } else if case HTTPError.bodyTooLarge? = handlerError {
                status = .contentTooLarge
                keepAlive = false
            } else if case HTTPError.timedOut? = handlerError {
                status = .requestTimeout
                keepAlive = false
            } else {
                status = .internalServerError
            }
            let response = HTTPResponse(status: status, text: "\(status)\n")
            do { try await sendLocked(response) } catch { return false }
        case .streaming:
            guard handlerError == nil else { return false }
            do { try await finishLocked(trailers: nil) } catch { return false }
        case .finished:
            break
        }
        if readFailure != nil || !keepAlive {
            await lingerIfBodyUnread()
            return false
        }
        requestsServed += 1
        return await discardUnreadBody()
    }

    /// Reads and drops what is left of the request body, within `maxDiscardBytes`.
    nonisolated(nonsending) private func discardUnreadBody() async -> Bool {
        if bodyComplete { return true }
        if requestHead.expectsContinue && !continueSent { return false }
        var discarded = 0
        do {
            while true {
                switch try parseNext() {
                case .body(let bytes)?:
                    discarded += bytes.count
                    if discarded > configuration.maxDiscardBytes { return false }
                case .end?:
                    bodyComplete = true
                    return true
                case .head?:
                    return false
                case nil:
                    if peerClosed { return false }
                    try await readMore(timeout: configuration.readTimeout)
                }
            }
        } catch {
            return false
        }
    }

    /// Before closing with request bytes still coming, stop writing and read a little
    /// longer, so the kernel does not answer them with a reset that destroys the response.
    nonisolated(nonsending) private func lingerIfBodyUnread() async {
        guard !bodyComplete || readFailure != nil, !peerClosed else { return }
        try? await stream.shutdownWrite()
        var scratch = ByteBuffer()
        var drained = 0
        while drained < 1 << 20 {
            guard (try? await stream.readHTTP(into: &scratch, timeout: Duration.seconds(2))) == true else { return }
            drained += scratch.readableBytes
            scratch.clear()
        }
    }

    /// Answers a request that could not be read (400, 408, 413, 414, 417, 431, 501, 505) and closes.
    nonisolated(nonsending) private func respondAndClose(_ status: HTTPStatus, reason: String) async {
        keepAlive = false
        responseState = .notStarted
        bodyComplete = false
        readFailure = readFailure ?? HTTPParseError(.malformedStartLine, reason)
        let response = HTTPResponse(status: status, text: "\(status)\n")
        do { try await sendLocked(response) } catch { return }
        await lingerIfBodyUnread()
    }
}

/// State a server shares with its connections: whether it is shutting down.
final class HTTPServerLifecycle: Sendable {
    private let shuttingDown = Atomic<Bool>(false)

    init() {}

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }

    func beginShutdown() { shuttingDown.store(true, ordering: .releasing) }
}
