/// The byte-level state machine shared by the request and the response parser.
///
/// Pure: bytes go in with `append`, parts come out of `next()`, nothing else
/// happens. Line endings: CRLF everywhere; a bare LF is also accepted as the end
/// of the start line and of field lines (RFC 9112 §2.2 allows it, and some
/// hand-written clients send it), but not inside chunked framing, where
/// disagreeing about line ends is how requests get smuggled. A CR that is not
/// followed by LF is always an error. Every head is re-serialized by whoever
/// forwards it, so tolerating LF here cannot make two hops disagree.
struct HTTPParserCore {
    enum Mode { case request, response }

    enum Event {
        case requestHead(HTTPRequestHead)
        case responseHead(HTTPResponseHead)
        case body([UInt8])
        case end(HTTPHeaders?)
    }

    enum State {
        /// Waiting for (the rest of) a head.
        case head
        /// Head delivered, message has no body: `.end` comes next.
        case endPending
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        /// Response body delimited by the server closing the connection.
        case untilClose
        /// After 101 Switching Protocols or a 2xx answer to CONNECT: bytes are no longer HTTP.
        case upgraded
        case failed(HTTPParseError)
    }

    let mode: Mode
    let limits: HTTPParserLimits
    private(set) var state: State = .head
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the search for the end of the head or trailers resumes.
    private var scanIndex = 0
    private var bodyBytesSeen = 0
    private var receivedEOF = false
    /// Request methods awaiting a response (response mode), oldest first.
    private var pendingMethods: [HTTPMethod] = []
    private var pendingMethodsStart = 0
    /// Whether the message in progress is an interim (1xx) response.
    private var currentIsInterim = false
    /// The message in progress switches protocols when it ends (101, CONNECT 2xx).
    private var upgradeAfterEnd = false
    /// Field storage handed back by the caller once done with a head (`recycle`): the
    /// next head's fields go into it, saving an allocation per message when nothing
    /// else still holds the array.
    private var spareFields: [HTTPHeaders.Field] = []

    init(mode: Mode, limits: HTTPParserLimits) {
        self.mode = mode
        self.limits = limits
    }

    var bufferedByteCount: Int { buffer.count - readIndex }

    /// No message in progress and nothing buffered.
    var isIdle: Bool {
        if case .head = state { return readIndex == buffer.count }
        return false
    }

    /// Whether a message is in progress (its head, or part of it, has arrived but not its end).
    var isInMessage: Bool {
        switch state {
        case .head: return readIndex != buffer.count
        case .upgraded, .failed: return false
        default: return true
        }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    mutating func expectResponse(to method: HTTPMethod) {
        pendingMethods.append(method)
    }

    mutating func endOfInput() { receivedEOF = true }

    mutating func recycle(_ headers: inout HTTPHeaders) {
        swap(&spareFields, &headers.fields)
        headers = HTTPHeaders()
    }

    /// Ends a message that has no body right away (its `.end` is all that is left).
    mutating func finishIfBodyless() -> Bool {
        guard case .endPending = state, !upgradeAfterEnd else { return false }
        finishMessage()
        return true
    }

    /// Bytes received but not parsed: what follows an upgrade, or the rest after an error.
    mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[readIndex...])
        buffer.removeAll(keepingCapacity: true)
        readIndex = 0
        scanIndex = 0
        return rest
    }

    private mutating func compactIfWorthwhile() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanIndex -= readIndex
            readIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseError {
        state = .failed(error)
        return error
    }

    // MARK: - Stepping

    mutating func next() throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .upgraded:
                return nil
            case .head:
                do throws(HTTPParseError) {
                    guard let event = try parseHead() else {
                        if receivedEOF && readIndex != buffer.count {
                            throw fail(HTTPParseError(.truncatedMessage, "connection closed inside a head"))
                        }
                        return nil
                    }
                    return event
                } catch {
                    throw fail(error)
                }
            case .endPending:
                finishMessage()
                return .end(nil)
            case .fixed(let remaining):
                let available = buffer.count - readIndex
                if available == 0 {
                    if receivedEOF { throw fail(HTTPParseError(.truncatedMessage, "\(remaining) body bytes missing")) }
                    return nil
                }
                let count = min(available, remaining)
                let part = takeBytes(count)
                state = remaining == count ? .endPending : .fixed(remaining: remaining - count)
                return .body(part)
            case .untilClose:
                if readIndex < buffer.count {
                    let count = min(buffer.count - readIndex, max(limits.maxBodyBytes - bodyBytesSeen, 0))
                    if count == 0 { throw fail(HTTPParseError(.bodyTooLarge)) }
                    bodyBytesSeen += count
                    return .body(takeBytes(count))
                }
                if receivedEOF {
                    finishMessage()
                    return .end(nil)
                }
                return nil
            case .chunkSize:
                do throws(HTTPParseError) {
                    guard try parseChunkSize() else {
                        if receivedEOF { throw HTTPParseError(.truncatedMessage, "inside a chunk-size line") }
                        return nil
                    }
                } catch {
                    throw fail(error)
                }
            case .chunkData(let remaining):
                let available = buffer.count - readIndex
                if available == 0 {
                    if receivedEOF { throw fail(HTTPParseError(.truncatedMessage, "inside a chunk")) }
                    return nil
                }
                let count = min(available, remaining)
                let part = takeBytes(count)
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(part)
            case .chunkDataEnd:
                if buffer.count - readIndex < 2 {
                    if receivedEOF { throw fail(HTTPParseError(.truncatedMessage, "after a chunk")) }
                    return nil
                }
                guard buffer[readIndex] == HTTPSyntax.cr, buffer[readIndex + 1] == HTTPSyntax.lf else {
                    throw fail(HTTPParseError(.invalidChunk, "chunk data not followed by CRLF"))
                }
                readIndex += 2
                state = .chunkSize
            case .trailers:
                do throws(HTTPParseError) {
                    guard let trailers = try parseTrailers() else {
                        if receivedEOF { throw HTTPParseError(.truncatedMessage, "inside trailers") }
                        return nil
                    }
                    finishMessage()
                    return .end(trailers.isEmpty ? nil : trailers)
                } catch {
                    throw fail(error)
                }
            }
        }
    }

    private mutating func takeBytes(_ count: Int) -> [UInt8] {
        let part = Array(buffer[readIndex..<readIndex + count])
        readIndex += count
        return part
    }

    private mutating func finishMessage() {
        bodyBytesSeen = 0
        scanIndex = readIndex
        state = upgradeAfterEnd ? .upgraded : .head
        if mode == .response && !currentIsInterim && pendingMethodsStart < pendingMethods.count {
            pendingMethodsStart += 1
            if pendingMethodsStart == pendingMethods.count {
                pendingMethods.removeAll(keepingCapacity: true)
                pendingMethodsStart = 0
            }
        }
    }

    // MARK: - Heads

    /// Finds the end of the head that starts at `readIndex`, enforcing the size limits.
    /// Returns the index just past the blank line, or nil when more bytes are needed.
    private mutating func findHeadEnd() throws(HTTPParseError) -> Int? {
        let maxStart = limits.maxStartLineLength
        let maxHead = limits.maxHeaderBytes
        let isRequest = mode == .request
        let begin = readIndex
        var scan = max(scanIndex, begin)
        let result: Result<Int?, HTTPParseError> = buffer.withUnsafeBufferPointer { bytes in
            let end = bytes.count
            // The start line must fit its own limit, even before the whole head is here.
            // Its content may be `maxStart` bytes, then CR LF.
            var firstLineEnd: Int?
            var i = begin
            let searchEnd = min(end, begin + maxStart + 2)
            while i < searchEnd {
                if bytes[i] == HTTPSyntax.lf { firstLineEnd = i; break }
                i += 1
            }
            func tooLong() -> Result<Int?, HTTPParseError> {
                .failure(HTTPParseError(isRequest ? .startLineTooLong : .malformedStartLine,
                                        "start line longer than \(maxStart) bytes"))
            }
            guard let firstLineEnd else {
                return end - begin >= maxStart + 2 ? tooLong() : .success(nil)
            }
            let contentLength = firstLineEnd - begin - (firstLineEnd > begin && bytes[firstLineEnd - 1] == HTTPSyntax.cr ? 1 : 0)
            if contentLength > maxStart { return tooLong() }
            scan = max(scan, firstLineEnd)
            while scan < end {
                if bytes[scan] == HTTPSyntax.lf {
                    if scan + 1 >= end { break }
                    let next = bytes[scan + 1]
                    if next == HTTPSyntax.lf { return checkSize(scan + 2) }
                    if next == HTTPSyntax.cr {
                        if scan + 2 >= end { break }
                        if bytes[scan + 2] == HTTPSyntax.lf { return checkSize(scan + 3) }
                    }
                }
                scan += 1
            }
            if end - begin > maxHead {
                return .failure(HTTPParseError(.headerBlockTooLarge, "header block over \(maxHead) bytes"))
            }
            return .success(nil)
        }
        func checkSize(_ headEnd: Int) -> Result<Int?, HTTPParseError> {
            headEnd - begin > maxHead
                ? .failure(HTTPParseError(.headerBlockTooLarge, "header block over \(maxHead) bytes"))
                : .success(headEnd)
        }
        scanIndex = scan
        return try result.get()
    }

    private mutating func skipLeadingBlankLines() {
        // RFC 9112 §2.2: ignore empty lines before a request line (some clients add CRLF after a body).
        while readIndex < buffer.count {
            if buffer[readIndex] == HTTPSyntax.lf {
                readIndex += 1
            } else if buffer[readIndex] == HTTPSyntax.cr, readIndex + 1 < buffer.count, buffer[readIndex + 1] == HTTPSyntax.lf {
                readIndex += 2
            } else {
                break
            }
        }
    }

    private mutating func parseHead() throws(HTTPParseError) -> Event? {
        skipLeadingBlankLines()
        guard readIndex < buffer.count, let headEnd = try findHeadEnd() else { return nil }
        let start = readIndex
        var fields = FieldScan(reusing: &spareFields)
        let parsed: Result<Event, HTTPParseError> = buffer.withUnsafeBufferPointer { bytes in
            var cursor = start
            let firstLine = HTTPParserCore.line(in: bytes, from: &cursor)
            do throws(HTTPParseError) {
                try fields.parse(bytes, from: &cursor, until: headEnd, maxCount: limits.maxHeaderCount)
                switch mode {
                case .request:
                    let (method, target, version) = try HTTPParserCore.parseRequestLine(bytes, firstLine)
                    return .success(.requestHead(HTTPRequestHead(method: method, target: target, version: version, headers: fields.headers)))
                case .response:
                    let (version, status) = try HTTPParserCore.parseStatusLine(bytes, firstLine)
                    return .success(.responseHead(HTTPResponseHead(status: status, version: version, headers: fields.headers)))
                }
            } catch {
                return .failure(error)
            }
        }
        readIndex = headEnd
        scanIndex = headEnd
        let event = try parsed.get()
        try decideFraming(for: event, hosts: fields.hostCount)
        return event
    }

    private mutating func decideFraming(for event: Event, hosts: Int) throws(HTTPParseError) {
        currentIsInterim = false
        bodyBytesSeen = 0
        switch event {
        case .requestHead(let head):
            let framing = try FieldScan.framing(of: head.headers, version: head.version)
            if hosts > 1 || (hosts == 0 && head.version == .http1_1) {
                throw HTTPParseError(.invalidHost, hosts == 0 ? "HTTP/1.1 request without Host" : "\(hosts) Host fields")
            }
            try startBody(framing, absentMeans: .endPending)
        case .responseHead(let head):
            let method = pendingMethodsStart < pendingMethods.count ? pendingMethods[pendingMethodsStart] : .get
            let code = head.status.code
            if code == 101 || (method == .connect && head.status.isSuccess) {
                upgradeAfterEnd = true
                state = .endPending
                return
            }
            if head.status.isInformational { currentIsInterim = true }
            let framing = try FieldScan.framing(of: head.headers, version: head.version)
            if method == .head || head.status.forbidsBody {
                state = .endPending
                return
            }
            try startBody(framing, absentMeans: .untilClose)
        case .body, .end:
            break
        }
    }

    private mutating func startBody(_ framing: FieldScan.Framing, absentMeans: State) throws(HTTPParseError) {
        switch framing {
        case .chunked:
            state = .chunkSize
        case .length(let length):
            if length > limits.maxBodyBytes {
                throw HTTPParseError(.bodyTooLarge, "Content-Length \(length) over \(limits.maxBodyBytes)")
            }
            state = length == 0 ? .endPending : .fixed(remaining: length)
        case .absent:
            state = absentMeans
        case .untilClose:
            // A response whose Transfer-Encoding does not end in chunked (RFC 9112 §6.3 item 4).
            if mode == .request { throw HTTPParseError(.invalidTransferEncoding, "Transfer-Encoding must end in chunked") }
            state = .untilClose
        }
    }

    // MARK: - Chunked framing

    /// Reads one chunk-size line; returns false when more bytes are needed.
    private mutating func parseChunkSize() throws(HTTPParseError) -> Bool {
        let limit = limits.maxChunkLineLength
        var lineFeed: Int?
        var i = readIndex
        while i < buffer.count && i - readIndex <= limit {
            if buffer[i] == HTTPSyntax.lf { lineFeed = i; break }
            i += 1
        }
        guard let lineFeed else {
            if buffer.count - readIndex > limit { throw HTTPParseError(.invalidChunk, "chunk-size line over \(limit) bytes") }
            return false
        }
        guard lineFeed > readIndex, buffer[lineFeed - 1] == HTTPSyntax.cr else {
            throw HTTPParseError(.invalidChunk, "chunk-size line not ended by CRLF")
        }
        let lineEnd = lineFeed - 1
        var cursor = readIndex
        var size = 0
        var digits = 0
        while cursor < lineEnd, let value = HTTPRequestHead.hexValue(buffer[cursor]) {
            digits += 1
            guard digits <= 15 else { throw HTTPParseError(.invalidChunk, "chunk size too large") }
            size = size << 4 | Int(value)
            cursor += 1
        }
        guard digits > 0 else { throw HTTPParseError(.invalidChunk, "chunk-size line without a size") }
        // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): extensions are ignored,
        // but they may only hold field-value bytes and must start with ";".
        while cursor < lineEnd, buffer[cursor] == HTTPSyntax.space || buffer[cursor] == HTTPSyntax.tab { cursor += 1 }
        if cursor < lineEnd {
            guard buffer[cursor] == UInt8(ascii: ";") else { throw HTTPParseError(.invalidChunk, "junk after chunk size") }
            while cursor < lineEnd {
                guard HTTPSyntax.isFieldValueByte(buffer[cursor]) else {
                    throw HTTPParseError(.invalidChunk, "control byte in chunk extension")
                }
                cursor += 1
            }
        }
        readIndex = lineFeed + 1
        if size == 0 {
            scanIndex = readIndex
            state = .trailers
            return true
        }
        if size > limits.maxBodyBytes - bodyBytesSeen {
            throw HTTPParseError(.bodyTooLarge, "chunked body over \(limits.maxBodyBytes) bytes")
        }
        bodyBytesSeen += size
        state = .chunkData(remaining: size)
        return true
    }

    /// Reads the trailer section after the last chunk; nil when more bytes are needed.
    private mutating func parseTrailers() throws(HTTPParseError) -> HTTPHeaders? {
        let start = readIndex
        let limit = limits.maxHeaderBytes
        // Fast path: no trailers, just the final CRLF.
        if buffer.count - start >= 2, buffer[start] == HTTPSyntax.cr, buffer[start + 1] == HTTPSyntax.lf {
            readIndex += 2
            scanIndex = readIndex
            return HTTPHeaders()
        }
        // The section ends at the first empty line: CRLF at the start or LF CRLF / LF LF later.
        var end: Int?
        var scan = max(scanIndex, start)
        while scan < buffer.count {
            if buffer[scan] == HTTPSyntax.lf {
                guard scan + 1 < buffer.count else { break }
                if buffer[scan + 1] == HTTPSyntax.lf { end = scan + 2; break }
                if buffer[scan + 1] == HTTPSyntax.cr {
                    guard scan + 2 < buffer.count else { break }
                    if buffer[scan + 2] == HTTPSyntax.lf { end = scan + 3; break }
                }
            }
            scan += 1
        }
        scanIndex = scan
        guard let end else {
            if buffer.count - start > limit { throw HTTPParseError(.headerBlockTooLarge, "trailers over \(limit) bytes") }
            if buffer.count - start >= 1 && buffer[start] == HTTPSyntax.lf {
                throw HTTPParseError(.invalidChunk, "last chunk not ended by CRLF")
            }
            return nil
        }
        if end - start > limit { throw HTTPParseError(.headerBlockTooLarge, "trailers over \(limit) bytes") }
        let maxCount = limits.maxHeaderCount
        let result: Result<HTTPHeaders, HTTPParseError> = buffer.withUnsafeBufferPointer { bytes in
            var cursor = start
            var fields = FieldScan()
            do throws(HTTPParseError) {
                try fields.parse(bytes, from: &cursor, until: end, maxCount: maxCount)
                return .success(fields.headers)
            } catch {
                return .failure(error)
            }
        }
        readIndex = end
        scanIndex = end
        return try result.get()
    }

    // MARK: - Lines

    /// The line at `cursor` (without its line ending; a lone CR stays in and is rejected later);
    /// moves `cursor` past the LF.
    static func line(in bytes: UnsafeBufferPointer<UInt8>, from cursor: inout Int) -> Range<Int> {
        let start = cursor
        var i = start
        while bytes[i] != HTTPSyntax.lf { i += 1 }
        cursor = i + 1
        return start..<(i > start && bytes[i - 1] == HTTPSyntax.cr ? i - 1 : i)
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// `HTTP/1.1` at `range`: a version of major 1, else an error.
    static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) throws(HTTPParseError) -> HTTPVersion {
        // "HTTP/" DIGIT "." DIGIT: exactly eight bytes, case-sensitive (RFC 9112 §2.3).
        guard bytes[start] == UInt8(ascii: "H"), bytes[start + 1] == UInt8(ascii: "T"), bytes[start + 2] == UInt8(ascii: "T"),
              bytes[start + 3] == UInt8(ascii: "P"), bytes[start + 4] == UInt8(ascii: "/"),
              isDigit(bytes[start + 5]), bytes[start + 6] == UInt8(ascii: "."), isDigit(bytes[start + 7]) else {
            throw HTTPParseError(.malformedStartLine, "bad HTTP version")
        }
        let major = Int(bytes[start + 5] - UInt8(ascii: "0"))
        let minor = Int(bytes[start + 7] - UInt8(ascii: "0"))
        guard major == 1 else { throw HTTPParseError(.unsupportedVersion, "HTTP/\(major).\(minor)") }
        return HTTPVersion(major: major, minor: minor)
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    static func parseRequestLine(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>)
        throws(HTTPParseError) -> (HTTPMethod, String, HTTPVersion) {
        // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
        var i = line.lowerBound
        while i < line.upperBound && HTTPSyntax.isTokenByte(bytes[i]) { i += 1 }
        guard i > line.lowerBound, i < line.upperBound, bytes[i] == HTTPSyntax.space else {
            throw HTTPParseError(.malformedStartLine, "bad method")
        }
        let methodRange = line.lowerBound..<i
        i += 1
        let targetStart = i
        while i < line.upperBound && HTTPSyntax.isTargetByte(bytes[i]) { i += 1 }
        guard i > targetStart, i < line.upperBound, bytes[i] == HTTPSyntax.space, line.upperBound - i == 9 else {
            throw HTTPParseError(.malformedStartLine, "bad request target or version")
        }
        let version = try parseVersion(bytes, i + 1)
        let method = knownMethod(bytes, methodRange) ?? HTTPMethod(string(bytes, methodRange))
        let target = string(bytes, targetStart..<i)
        // authority-form only for CONNECT, asterisk-form only for OPTIONS (RFC 9112 §3.2).
        let first = bytes[targetStart]
        if method == .connect {
            guard first != UInt8(ascii: "/") && first != UInt8(ascii: "*") else {
                throw HTTPParseError(.malformedStartLine, "CONNECT needs host:port")
            }
        } else if first == UInt8(ascii: "*") {
            guard method == .options, i - targetStart == 1 else { throw HTTPParseError(.malformedStartLine, "bad * target") }
        } else if first != UInt8(ascii: "/") {
            guard HTTPRequestHead(method: method, target: target).isAbsoluteForm else {
                throw HTTPParseError(.malformedStartLine, "target is neither origin- nor absolute-form")
            }
        }
        return (method, target, version)
    }

    /// The shared constant for the common methods, so parsing them allocates nothing.
    static func knownMethod(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> HTTPMethod? {
        let b = bytes.baseAddress! + range.lowerBound
        switch range.count {
        case 3:
            if b[0] == 71 && b[1] == 69 && b[2] == 84 { return .get }
            if b[0] == 80 && b[1] == 85 && b[2] == 84 { return .put }
        case 4:
            if b[0] == 80 && b[1] == 79 && b[2] == 83 && b[3] == 84 { return .post }
            if b[0] == 72 && b[1] == 69 && b[2] == 65 && b[3] == 68 { return .head }
        default:
            break
        }
        return nil
    }

    static func parseStatusLine(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>)
        throws(HTTPParseError) -> (HTTPVersion, HTTPStatus) {
        // HTTP-version SP 3DIGIT SP [reason]; the SP before an empty reason is often left out.
        let start = line.lowerBound
        guard line.count >= 12, bytes[start + 8] == HTTPSyntax.space else {
            throw HTTPParseError(.malformedStartLine, "bad status line")
        }
        let version = try parseVersion(bytes, start)
        let c0 = bytes[start + 9], c1 = bytes[start + 10], c2 = bytes[start + 11]
        guard isDigit(c0), isDigit(c1), isDigit(c2), c0 >= UInt8(ascii: "1") else {
            throw HTTPParseError(.malformedStartLine, "bad status code")
        }
        let code = Int(c0 - 48) * 100 + Int(c1 - 48) * 10 + Int(c2 - 48)
        var reason = ""
        if line.count > 12 {
            guard bytes[start + 12] == HTTPSyntax.space else { throw HTTPParseError(.malformedStartLine, "bad status line") }
            let reasonRange = (start + 13)..<line.upperBound
            for i in reasonRange where !HTTPSyntax.isFieldValueByte(bytes[i]) {
                throw HTTPParseError(.malformedStartLine, "control byte in reason phrase")
            }
            reason = string(bytes, reasonRange)
        }
        let standard = HTTPStatus(code: code)
        return (version, reason == standard.reasonPhrase ? standard : HTTPStatus(code: code, reasonPhrase: reason))
    }
}

/// Parses field lines and reads the framing fields out of them.
struct FieldScan {
    var headers = HTTPHeaders()
    /// Host fields seen (a request must have exactly one): counted while the names are classified anyway.
    var hostCount = 0

    init() {}

    /// Takes `spare`'s storage (emptied; kept when not shared) instead of a new array.
    init(reusing spare: inout [HTTPHeaders.Field]) {
        swap(&headers.fields, &spare)
        headers.fields.removeAll(keepingCapacity: true)
    }

    /// Parses `name: value` lines from `cursor` up to and including the blank line that ends at `end`.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, from cursor: inout Int, until end: Int, maxCount: Int)
        throws(HTTPParseError) {
        headers.fields.reserveCapacity(8)
        while cursor < end {
            let line = HTTPParserCore.line(in: bytes, from: &cursor)
            if line.isEmpty { return }
            let first = bytes[line.lowerBound]
            if first == HTTPSyntax.space || first == HTTPSyntax.tab {
                throw HTTPParseError(.obsoleteLineFolding, "field line starts with whitespace")
            }
            var i = line.lowerBound
            while i < line.upperBound && HTTPSyntax.isTokenByte(bytes[i]) { i += 1 }
            guard i > line.lowerBound, i < line.upperBound, bytes[i] == HTTPSyntax.colon else {
                throw HTTPParseError(.invalidHeaderName, "bad field name")
            }
            let nameRange = line.lowerBound..<i
            var valueStart = i + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd && (bytes[valueStart] == HTTPSyntax.space || bytes[valueStart] == HTTPSyntax.tab) {
                valueStart += 1
            }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == HTTPSyntax.space || bytes[valueEnd - 1] == HTTPSyntax.tab) {
                valueEnd -= 1
            }
            for j in valueStart..<valueEnd where !HTTPSyntax.isFieldValueByte(bytes[j]) {
                throw HTTPParseError(.invalidHeaderValue, "control byte in value of \(HTTPParserCore.string(bytes, nameRange))")
            }
            guard headers.count < maxCount else { throw HTTPParseError(.headerBlockTooLarge, "more than \(maxCount) fields") }
            let known = KnownField.classify(UnsafeBufferPointer(rebasing: bytes[nameRange]))
            if known == .host { hostCount += 1 }
            headers.add(name: HTTPParserCore.string(bytes, nameRange), value: HTTPParserCore.string(bytes, valueStart..<valueEnd),
                        known: known)
        }
    }

    enum Framing: Equatable {
        case absent
        case length(Int)
        case chunked
        /// Transfer-Encoding present but not ending in chunked.
        case untilClose
    }

    /// Content-Length / Transfer-Encoding, with the smuggling defenses of RFC 9112 §6.
    static func framing(of headers: HTTPHeaders, version: HTTPVersion) throws(HTTPParseError) -> Framing {
        guard headers.has(.contentLength) || headers.has(.transferEncoding) else { return .absent }
        var length: Int?
        var codings: [Substring] = []
        var sawTransferEncoding = false
        for field in headers {
            let nameCount = field.name.utf8.count
            if nameCount == 14 && HTTPSyntax.equalsIgnoringCase(field.name, "content-length") {
                // "5, 5" and repeated fields are accepted when every value agrees (RFC 9110 §8.6).
                for element in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let digits = element.trimmingOWS()
                    guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy(HTTPParserCore.isDigit),
                          let value = Int(digits) else {
                        throw HTTPParseError(.invalidContentLength, "Content-Length: \(field.value)")
                    }
                    if let length, length != value {
                        throw HTTPParseError(.invalidContentLength, "conflicting Content-Length values")
                    }
                    length = value
                }
            } else if nameCount == 17 && HTTPSyntax.equalsIgnoringCase(field.name, "transfer-encoding") {
                sawTransferEncoding = true
                codings.append(contentsOf: HTTPSyntax.listElements(field.value))
            }
        }
        guard sawTransferEncoding else { return length.map { .length($0) } ?? .absent }
        if length != nil {
            throw HTTPParseError(.contentLengthWithTransferEncoding, "both Content-Length and Transfer-Encoding")
        }
        if version == .http1_0 {
            throw HTTPParseError(.invalidTransferEncoding, "Transfer-Encoding in an HTTP/1.0 message")
        }
        let chunkedCount = codings.filter { HTTPSyntax.equalsIgnoringCase(String($0), "chunked") }.count
        guard let last = codings.last, HTTPSyntax.equalsIgnoringCase(String(last), "chunked") else {
            if chunkedCount > 0 { throw HTTPParseError(.invalidTransferEncoding, "chunked is not the last coding") }
            return .untilClose
        }
        if chunkedCount > 1 { throw HTTPParseError(.invalidTransferEncoding, "chunked applied twice") }
        if codings.count > 1 { throw HTTPParseError(.unsupportedTransferCoding, "Transfer-Encoding: \(codings.joined(separator: ", "))") }
        return .chunked
    }
}
