/// Why bytes from a peer are not a valid HTTP/1.1 message, and what a server answers.
///
/// Every error ends the connection: after a framing error nobody knows where the
/// next message starts (RFC 9112 §9.6 / §11.2), so a server sends `status` with
/// `Connection: close` and closes; a client drops the connection.
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// Request or status line is not `method SP target SP version` / `version SP code SP reason`.
        case malformedStartLine
        /// The request line exceeds `HTTPParserLimits.maxStartLineLength`.
        case startLineTooLong
        /// The header block (or the trailer section) exceeds its byte or field-count limit.
        case headerBlockTooLarge
        /// A field name is empty or has a byte outside `tchar`, or whitespace before the colon.
        case invalidHeaderName
        /// A field value has a control character (NUL, a lone CR, DEL, ...).
        case invalidHeaderValue
        /// A field line starting with whitespace (obs-fold, RFC 9112 §5.2): rejected, not unfolded.
        case obsoleteLineFolding
        /// Version other than HTTP/1.x.
        case unsupportedVersion
        /// HTTP/1.1 request without Host, or with more than one.
        case invalidHost
        /// Content-Length that is not a decimal number, or several that disagree.
        case invalidContentLength
        /// Both Transfer-Encoding and Content-Length: a classic request-smuggling vector.
        case contentLengthWithTransferEncoding
        /// A request whose Transfer-Encoding does not end in `chunked`, or repeats it,
        /// or Transfer-Encoding in an HTTP/1.0 message.
        case invalidTransferEncoding
        /// A transfer coding other than `chunked` (`gzip, chunked`): not implemented.
        case unsupportedTransferCoding
        /// A chunk-size line or chunk terminator that is not valid.
        case invalidChunk
        /// The body exceeds `HTTPParserLimits.maxBodyBytes`.
        case bodyTooLarge
        /// The peer closed the connection in the middle of a message.
        case truncatedMessage
    }

    public let kind: Kind
    /// Where or what, for a log line; never needed to decide anything.
    public let detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public static func == (lhs: HTTPParseError, rhs: HTTPParseError) -> Bool { lhs.kind == rhs.kind }

    /// The status a server answers with before closing.
    public var status: HTTPStatus {
        switch kind {
        case .startLineTooLong: return .uriTooLong
        case .headerBlockTooLarge: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .contentTooLarge
        case .unsupportedVersion: return .httpVersionNotSupported
        case .unsupportedTransferCoding: return .notImplemented
        default: return .badRequest
        }
    }

    public var description: String {
        detail.isEmpty ? "HTTP parse error: \(kind.rawValue)" : "HTTP parse error: \(kind.rawValue): \(detail)"
    }
}

/// Limits a parser enforces; each has the status a server answers when it is crossed.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line or status line, without its line ending (414 URI Too Long).
    public var maxStartLineLength: Int
    /// Largest header block in bytes (start line included), and largest trailer section (431).
    public var maxHeaderBytes: Int
    /// Most header fields in one block (431).
    public var maxHeaderCount: Int
    /// Largest body a message may have (413); `Int.max` for none, as a proxy streams.
    public var maxBodyBytes: Int
    /// Longest chunk-size line including chunk extensions (400).
    public var maxChunkLineLength: Int

    public init(maxStartLineLength: Int = 8192, maxHeaderBytes: Int = 65536, maxHeaderCount: Int = 100,
                maxBodyBytes: Int = 16 * 1024 * 1024, maxChunkLineLength: Int = 4096) {
        self.maxStartLineLength = maxStartLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineLength = maxChunkLineLength
    }
}
