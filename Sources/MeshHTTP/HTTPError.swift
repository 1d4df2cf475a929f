/// What went wrong in an HTTP exchange above the byte level.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer sent bytes that are not HTTP/1.1 (see the parse error's kind and status).
    case parse(HTTPParseError)
    /// The peer closed the connection before the message was complete.
    case connectionClosed
    /// A read or write made no progress within its timeout.
    case timedOut(String)
    /// The API was used out of order (body written before head, head written twice, ...).
    case invalidState(String)
    /// More (or fewer) body bytes than the Content-Length that was sent.
    case bodyLengthMismatch(declared: Int, written: Int)
    /// Two tasks used the same body reader or response writer at once.
    case concurrentUse(String)
    /// A request body was larger than the caller allowed.
    case bodyTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .parse(let error): return error.description
        case .connectionClosed: return "connection closed by peer"
        case .timedOut(let what): return "timed out: \(what)"
        case .invalidState(let what): return "invalid use of the HTTP API: \(what)"
        case .bodyLengthMismatch(let declared, let written): return "Content-Length \(declared) but \(written) body bytes"
        case .concurrentUse(let what): return "\(what) used by two tasks at once"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        }
    }
}
