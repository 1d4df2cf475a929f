/// The byte stream the HTTP server and client run over: one connection, full duplex.
///
/// One task may read while another writes (a proxy streams both ways); two tasks
/// never read at once, nor write at once (the HTTP layer makes sure). Timeouts
/// are the transport's, so an event loop can keep one timer per direction
/// instead of a task per operation.
public protocol HTTPTransport: Sendable {
    /// The next bytes from the peer; nil once the peer has closed its side.
    /// Throws `HTTPError.timedOut` when nothing arrives within `timeout`, and
    /// `CancellationError` when the task is cancelled while waiting.
    func read(timeout: Duration?) async throws -> [UInt8]?
    /// Writes all of `bytes`; throws `HTTPError.timedOut` if the peer stops taking them for `timeout`.
    func write(_ bytes: [UInt8], timeout: Duration?) async throws
    /// Writes `first` then `second` in one go when the transport can gather (a head and a shared body).
    func write(_ first: [UInt8], _ second: [UInt8], timeout: Duration?) async throws
    /// Ends our side of the stream (FIN) while the peer may still send.
    func shutdownOutput() async
    /// Closes both directions; a pending read or write ends.
    func close() async
    /// A check without waiting, for a pooled connection before reuse: true when the peer
    /// has closed it or sent something unasked (either way it must not carry a request).
    func isUnusableWhileIdle() -> Bool
}

extension HTTPTransport {
    /// Transports that cannot tell say it looks usable; a failure is then seen on first use.
    public func isUnusableWhileIdle() -> Bool { false }

    public func write(_ first: [UInt8], _ second: [UInt8], timeout: Duration?) async throws {
        if second.isEmpty { return try await write(first, timeout: timeout) }
        if first.isEmpty { return try await write(second, timeout: timeout) }
        try await write(first + second, timeout: timeout)
    }
}
