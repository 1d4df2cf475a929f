import MeshIO

/// Fields a head gets on its way to the wire beyond (or instead of) its own: what
/// framing and connection management decided. Known fields in `omitted` are left out
/// of the head's own fields; the rest are written after them.
struct HeadAdditions {
    var omitted: UInt16 = 0
    var contentLength: Int?
    var chunked = false
    var connection: StaticString?
    var date: String?
    var server: String?

    /// Bytes the additions take on the wire (an upper bound).
    var byteCount: Int {
        var count = 0
        if contentLength != nil { count += 16 + 20 + 2 }
        if chunked { count += 28 }
        if let connection { count += 12 + connection.utf8CodeUnitCount + 2 }
        if let date { count += 6 + date.utf8.count + 2 }
        if let server { count += 8 + server.utf8.count + 2 }
        return count
    }

    /// Leaves out the head's own fields of these kinds (only those it has).
    mutating func omit(_ fields: KnownField..., from headers: HTTPHeaders) {
        for field in fields where headers.has(field) { omitted |= field.rawValue }
    }

    /// The same change made to a header list (for callers that keep the head).
    func apply(to headers: inout HTTPHeaders) {
        for field in [KnownField.contentLength, .transferEncoding, .connection, .date, .server]
        where omitted & field.rawValue != 0 {
            headers.remove(field)
        }
        if let contentLength {
            headers.add(name: "Content-Length", value: HTTPSyntax.decimal(contentLength), known: .contentLength)
        }
        if chunked { headers.add(name: "Transfer-Encoding", value: "chunked", known: .transferEncoding) }
        if let connection { headers.add(name: "Connection", value: connection.description, known: .connection) }
        if let date { headers.add(name: "Date", value: date, known: .date) }
        if let server { headers.add(name: "Server", value: server, known: .server) }
    }
}

/// How the body of a message being written is delimited on the wire.
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body bytes at all (HEAD responses, 1xx/204/304, requests without a body).
    case none
    case contentLength(Int)
    case chunked
    /// The body ends when the connection closes (a streamed response to an HTTP/1.0 client).
    case untilClose
}

/// Writes heads and body framing as bytes. Pure functions that append to a buffer.
///
/// Whatever the head holds, the output is one well-formed message: a value with
/// CR, LF or NUL has those bytes written as spaces and a field whose name is not
/// a token is left out, so a handler that echoes user input into a header
/// cannot split the response (RFC 9110 §5.5). A target with spaces or controls
/// is percent-encoded.
public enum HTTPSerializer {
    private static let crlf: [UInt8] = [13, 10]

    /// Appends `method SP target SP version CRLF`, the fields and the blank line.
    public static func append(_ head: HTTPRequestHead, to buffer: inout [UInt8]) {
        appendToken(head.method.rawValue, fallback: "GET", to: &buffer)
        buffer.append(HTTPSyntax.space)
        var target = head.target
        if target.isEmpty { target = "/" }
        target.withUTF8 { bytes in
            if bytes.allSatisfy(HTTPSyntax.isTargetByte) {
                buffer.append(contentsOf: bytes)
            } else {
                for byte in bytes {
                    if HTTPSyntax.isTargetByte(byte) { buffer.append(byte) } else { appendPercentEncoded(byte, to: &buffer) }
                }
            }
        }
        buffer.append(HTTPSyntax.space)
        appendVersion(head.version, to: &buffer)
        buffer.append(contentsOf: crlf)
        appendFields(head.headers, to: &buffer)
        buffer.append(contentsOf: crlf)
    }

    /// Appends `version SP code SP reason CRLF`, the fields and the blank line.
    public static func append(_ head: HTTPResponseHead, to buffer: inout [UInt8]) {
        if buffer.isEmpty {
            buffer = serialize(head)
        } else {
            buffer.append(contentsOf: serialize(head))
        }
    }

    /// The bytes of a response head, written in one pass into an array of the right size
    /// (the server's hot path: no growth, no per-byte append calls).
    public static func serialize(_ head: HTTPResponseHead) -> [UInt8] {
        serialize(head, adding: HeadAdditions())
    }

    static func serialize(_ head: HTTPResponseHead, adding additions: HeadAdditions) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: maximumByteCount(head, adding: additions)) { out, count in
            count = write(head, adding: additions, to: out.baseAddress!)
        }
    }

    /// Appends the head's bytes to `buffer` (the server's write buffer, reused for every
    /// response of a connection: no allocation).
    static func write(_ head: HTTPResponseHead, adding additions: HeadAdditions, into buffer: inout ByteBuffer) {
        let capacity = maximumByteCount(head, adding: additions)
        _ = buffer.writeWithStorage(minimumWritable: capacity, maximum: capacity) { storage, range in
            storage.withUnsafeMutableBufferPointer { write(head, adding: additions, to: $0.baseAddress! + range.lowerBound) }
        }
    }

    /// What the head can take on the wire at most.
    private static func maximumByteCount(_ head: HTTPResponseHead, adding additions: HeadAdditions) -> Int {
        var capacity = 17 + head.status.reasonPhrase.utf8.count + additions.byteCount
        for field in head.headers.fields { capacity += field.name.utf8.count + field.value.utf8.count + 4 }
        return capacity
    }

    /// Writes the head at `base`, which has room for `maximumByteCount`; returns the count written.
    private static func write(_ head: HTTPResponseHead, adding additions: HeadAdditions,
                              to base: UnsafeMutablePointer<UInt8>) -> Int {
        // Only look at names when some field must be left out and the head has it.
        let omitted = additions.omitted & head.headers.knownPresent
        var writer = HeadWriter(base: base)
        writer.version(head.version)
        let code = min(max(head.status.code, 100), 999)
        writer.byte(HTTPSyntax.space)
        writer.byte(UInt8(48 + code / 100))
        writer.byte(UInt8(48 + code / 10 % 10))
        writer.byte(UInt8(48 + code % 10))
        writer.byte(HTTPSyntax.space)
        writer.value(head.status.reasonPhrase)
        writer.crlf()
        for field in head.headers.fields {
            if omitted != 0 && HTTPHeaders.knownBit(field.name) & omitted != 0 { continue }
            writer.field(field.name, field.value)
        }
        writer.additions(additions)
        writer.crlf()
        return writer.count
    }

    /// Writes head bytes through a pointer into room the caller sized beforehand.
    struct HeadWriter {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0

        @inline(__always) mutating func byte(_ byte: UInt8) {
            base[count] = byte
            count += 1
        }

        @inline(__always) mutating func crlf() {
            base[count] = HTTPSyntax.cr
            base[count + 1] = HTTPSyntax.lf
            count += 2
        }

        mutating func version(_ version: HTTPVersion) {
            literal("HTTP/")
            byte(UInt8(48 + min(max(version.major, 0), 9)))
            byte(46)
            byte(UInt8(48 + min(max(version.minor, 0), 9)))
        }

        @inline(__always) mutating func literal(_ text: StaticString) {
            (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        mutating func decimal(_ value: Int) {
            var digits = max(value, 0), length = 0
            repeat {
                base[count + length] = UInt8(48 + digits % 10)
                digits /= 10
                length += 1
            } while digits > 0
            var digitsView = UnsafeMutableBufferPointer(start: base + count, count: length)
            digitsView.reverse()
            count += length
        }

        mutating func additions(_ additions: HeadAdditions) {
            if let contentLength = additions.contentLength {
                literal("Content-Length: ")
                decimal(contentLength)
                crlf()
            }
            if additions.chunked { literal("Transfer-Encoding: chunked\r\n") }
            if let connection = additions.connection {
                literal("Connection: ")
                literal(connection)
                crlf()
            }
            if let date = additions.date { field("Date", date) }
            if let server = additions.server { field("Server", server) }
        }

        /// Calls `body` with the string's UTF-8 bytes in place (a copy only for bridged strings).
        @inline(__always)
        func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
            var copy = text
            return copy.withUTF8(body)
        }

        /// A value, with bytes that could end the line written as spaces.
        mutating func value(_ text: String) {
            let destination = base + count
            count += withBytes(text) { bytes in
                guard let source = bytes.baseAddress else { return 0 }
                // One branch-free pass to see whether any byte is a control (vectorizes),
                // then a plain copy; the byte-by-byte repair only for bad values.
                var invalid: UInt8 = 0
                for index in 0..<bytes.count {
                    let byte = source[index]
                    invalid |= (byte < 0x20 ? 1 : 0) & (byte != HTTPSyntax.tab ? 1 : 0) | (byte == 0x7F ? 1 : 0)
                }
                if invalid == 0 {
                    destination.update(from: source, count: bytes.count)
                } else {
                    for index in 0..<bytes.count {
                        let byte = source[index]
                        destination[index] = HTTPSyntax.isFieldValueByte(byte) ? byte : HTTPSyntax.space
                    }
                }
                return bytes.count
            }
        }

        /// `name: value CRLF`, or nothing when the name is not a token.
        mutating func field(_ name: String, _ value: String) {
            let destination = base + count
            let written = withBytes(name) { bytes -> Int in
                guard let source = bytes.baseAddress, !bytes.isEmpty else { return 0 }
                var valid: UInt64 = 1
                for index in 0..<bytes.count { valid &= HTTPSyntax.tokenBit(source[index]) }
                guard valid == 1 else { return 0 }
                destination.update(from: source, count: bytes.count)
                return bytes.count
            }
            guard written > 0 else { return }
            count += written
            byte(HTTPSyntax.colon)
            byte(HTTPSyntax.space)
            self.value(value)
            crlf()
        }
    }

    /// Appends one chunk (`size CRLF data CRLF`). An empty chunk would end the body, so it writes nothing.
    public static func appendChunk<Bytes: Collection>(_ bytes: Bytes, to buffer: inout [UInt8]) where Bytes.Element == UInt8 {
        let count = bytes.count
        guard count > 0 else { return }
        appendHex(count, to: &buffer)
        buffer.append(contentsOf: crlf)
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: crlf)
    }

    /// Appends the last chunk (`0 CRLF`), any trailer fields and the final CRLF.
    public static func appendLastChunk(trailers: HTTPHeaders? = nil, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "0"))
        buffer.append(contentsOf: crlf)
        if let trailers { appendFields(trailers, to: &buffer) }
        buffer.append(contentsOf: crlf)
    }

    /// A whole response: head with framing fields set by `HTTPFraming.prepare`, then the body
    /// (none for HEAD, 1xx, 204, 304; chunked with trailers when the response has trailers).
    public static func serialize(_ response: HTTPResponse, requestMethod: HTTPMethod = .get,
                                 requestVersion: HTTPVersion = .http1_1) -> [UInt8] {
        var head = response.head
        let framing = HTTPFraming.prepare(&head, requestMethod: requestMethod, requestVersion: requestVersion,
                                          bodyLength: response.trailers.isEmpty ? response.body.count : nil)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256 + response.body.count)
        append(head, to: &buffer)
        appendBody(response.body, trailers: response.trailers, framing: framing, to: &buffer)
        return buffer
    }

    /// A whole request, with Content-Length set from the body (chunked when it has trailers).
    public static func serialize(_ request: HTTPRequest) -> [UInt8] {
        var head = request.head
        let framing = HTTPFraming.prepare(&head, bodyLength: request.trailers.isEmpty ? request.body.count : nil)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256 + request.body.count)
        append(head, to: &buffer)
        appendBody(request.body, trailers: request.trailers, framing: framing, to: &buffer)
        return buffer
    }

    static func appendBody(_ body: [UInt8], trailers: HTTPHeaders, framing: HTTPBodyFraming, to buffer: inout [UInt8]) {
        switch framing {
        case .none:
            break
        case .contentLength, .untilClose:
            buffer.append(contentsOf: body)
        case .chunked:
            appendChunk(body, to: &buffer)
            appendLastChunk(trailers: trailers.isEmpty ? nil : trailers, to: &buffer)
        }
    }

    static func appendVersion(_ version: HTTPVersion, to buffer: inout [UInt8]) {
        if version == .http1_1 {
            buffer.append(contentsOf: [72, 84, 84, 80, 47, 49, 46, 49])  // HTTP/1.1
        } else {
            buffer.append(contentsOf: "HTTP/\(min(max(version.major, 0), 9)).\(min(max(version.minor, 0), 9))".utf8)
        }
    }

    static func appendFields(_ headers: HTTPHeaders, to buffer: inout [UInt8]) {
        for field in headers.fields {
            var name = field.name
            let valid = name.withUTF8 { bytes in
                guard !bytes.isEmpty else { return false }
                for byte in bytes where !HTTPSyntax.isTokenByte(byte) { return false }
                buffer.append(contentsOf: bytes)
                return true
            }
            guard valid else { continue }
            buffer.append(HTTPSyntax.colon)
            buffer.append(HTTPSyntax.space)
            appendValue(field.value, to: &buffer)
            buffer.append(contentsOf: crlf)
        }
    }

    static func appendValue(_ value: String, to buffer: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            var clean = true
            for byte in bytes where !HTTPSyntax.isFieldValueByte(byte) {
                clean = false
                break
            }
            if clean {
                buffer.append(contentsOf: bytes)
            } else {
                for byte in bytes { buffer.append(HTTPSyntax.isFieldValueByte(byte) ? byte : HTTPSyntax.space) }
            }
        }
    }

    static func appendToken(_ token: String, fallback: String, to buffer: inout [UInt8]) {
        let valid = !token.isEmpty && token.utf8.allSatisfy(HTTPSyntax.isTokenByte)
        buffer.append(contentsOf: (valid ? token : fallback).utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func appendHex(_ value: Int, to buffer: inout [UInt8]) {
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        if shift < 0 { shift = 0 }
        while shift >= 0 {
            buffer.append(hexDigits[(value >> shift) & 0xF])
            shift -= 4
        }
    }

    static func appendPercentEncoded(_ byte: UInt8, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "%"))
        buffer.append(hexDigits[Int(byte >> 4)])
        buffer.append(hexDigits[Int(byte & 0xF)])
    }
}

/// Decides how a message's body goes on the wire and sets the framing fields to match.
public enum HTTPFraming {
    /// Prepares a response head: `bodyLength` is the whole body's size when known, nil when streamed.
    ///
    /// - 1xx and 204 lose Content-Length and Transfer-Encoding (they cannot have a body);
    ///   304 keeps a Content-Length the handler set; neither sends body bytes.
    /// - A HEAD response sends no body but keeps the fields a GET would have
    ///   (Content-Length from `bodyLength` when the handler set none).
    /// - A known length sets Content-Length (replacing the handler's, which could disagree).
    /// - A streamed body uses the handler's Content-Length if it set one, else chunked
    ///   for HTTP/1.1 clients, else (HTTP/1.0) ends at close with `Connection: close`.
    public static func prepare(_ head: inout HTTPResponseHead, requestMethod: HTTPMethod,
                               requestVersion: HTTPVersion, bodyLength: Int?) -> HTTPBodyFraming {
        let (framing, additions) = decide(head, requestMethod: requestMethod, requestVersion: requestVersion,
                                          bodyLength: bodyLength)
        additions.apply(to: &head.headers)
        return framing
    }

    /// The decision of `prepare` without touching the head: what framing, and which fields
    /// to leave out or add when the head is written (`HTTPSerializer.serialize(_:adding:)`).
    /// The server writes the additions straight into the bytes, so the handler's header
    /// array is never copied or grown.
    static func decide(_ head: HTTPResponseHead, requestMethod: HTTPMethod, requestVersion: HTTPVersion,
                       bodyLength: Int?) -> (HTTPBodyFraming, HeadAdditions) {
        var additions = HeadAdditions()
        let headers = head.headers
        let status = head.status
        if status.isInformational || status.code == 204 {
            additions.omit(.contentLength, .transferEncoding, from: headers)
            return (.none, additions)
        }
        if status.code == 304 {
            additions.omit(.transferEncoding, from: headers)
            return (.none, additions)
        }
        if requestMethod == .head {
            if let bodyLength, !headers.has(.contentLength), !headers.has(.transferEncoding) {
                additions.contentLength = bodyLength
            }
            return (.none, additions)
        }
        if let bodyLength {
            additions.omit(.contentLength, .transferEncoding, from: headers)
            additions.contentLength = bodyLength
            return (.contentLength(bodyLength), additions)
        }
        if !headers.has(.transferEncoding),
           let declared = headers.first(.contentLength), let length = Int(declared), length >= 0 {
            return (.contentLength(length), additions)
        }
        additions.omit(.contentLength, .transferEncoding, from: headers)
        if requestVersion.keepsAliveByDefault {
            additions.chunked = true
            return (.chunked, additions)
        }
        additions.omit(.connection, from: headers)
        additions.connection = "close"
        return (.untilClose, additions)
    }

    /// Prepares a request head: a known body length sets Content-Length (left out for an
    /// empty body of a method that normally has none, as curl does); a streamed body is chunked
    /// unless the caller set Content-Length.
    public static func prepare(_ head: inout HTTPRequestHead, bodyLength: Int?) -> HTTPBodyFraming {
        if let bodyLength {
            head.headers.remove(.transferEncoding)
            let method = head.method
            let bodyless = method == .get || method == .head || method == .delete || method == .options
                || method == .trace || method == .connect
            if bodyLength == 0 && bodyless {
                head.headers.remove(.contentLength)
                return .none
            }
            head.headers.replaceOrAdd(.contentLength, name: "Content-Length", value: HTTPSyntax.decimal(bodyLength))
            return .contentLength(bodyLength)
        }
        if !head.headers.has(.transferEncoding),
           let declared = head.headers.first(.contentLength), let length = Int(declared), length >= 0 {
            return .contentLength(length)
        }
        head.headers.remove(.contentLength)
        head.headers.replaceOrAdd(.transferEncoding, name: "Transfer-Encoding", value: "chunked")
        return .chunked
    }
}
