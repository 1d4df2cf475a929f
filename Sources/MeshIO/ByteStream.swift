#if canImport(Glibc)
import Glibc
#endif
import MeshSystem

/// A bidirectional byte stream: a TCP or unix socket connection, an in-memory pair
/// (MeshTestSupport), and later TLS over either. Protocol code (HTTP, the proxy)
/// is written against this, so it can be tested without sockets.
///
/// At most one task reads and one task writes at a time (a reader and a writer may
/// run concurrently). Every method may be called from any task; a socket runs it on
/// its event loop, cheapest when the caller already runs there.
///
/// The methods are `nonisolated(nonsending)`: they run in the caller's isolation, so
/// a task on the loop enters them without an executor switch (each switch costs a
/// lookup of the task's executor preference under a lock: measured, −6% instructions
/// per HTTP request). A conformer may still implement them as plain `async` methods.
public protocol ByteStream: AnyObject, Sendable {
    /// Reads what is available — at least one byte, at most `maxBytes` — appending it
    /// to `buffer`. Returns the count, or nil at end of stream (the peer shut down its
    /// writing side; reading again gives nil again). Waits at most `timeout` for data
    /// (`IOError.timedOut`); nil waits as long as it takes.
    nonisolated(nonsending) func read(into buffer: inout ByteBuffer, maxBytes: Int, timeout: Duration?) async throws -> Int?

    /// Writes all of `buffers` in order (gathered into as few syscalls as possible).
    /// Returns as soon as the bytes are with the kernel; suspends only while the peer
    /// is not keeping up, at most `timeout` in all.
    nonisolated(nonsending) func write(_ buffers: [ByteBuffer], timeout: Duration?) async throws

    /// Writes all readable bytes of `buffer`, like `write(_:timeout:)` with one buffer.
    nonisolated(nonsending) func write(_ buffer: ByteBuffer, timeout: Duration?) async throws

    /// Shuts down the writing side: the peer reads end of stream, and can still send.
    nonisolated(nonsending) func shutdownWrite() async throws

    /// Closes both directions and releases the stream; pending reads and writes fail
    /// with `IOError.closed`. Closing twice does nothing.
    nonisolated(nonsending) func close() async

    /// This side's address (nil for in-memory streams or unnamed unix sockets).
    var localAddress: SocketAddress? { get }
    /// The peer's address (nil for in-memory streams or unnamed unix sockets).
    var remoteAddress: SocketAddress? { get }
}

extension ByteStream {
    /// Reads into `buffer` with no timeout; nil at end of stream.
    nonisolated(nonsending) public func read(into buffer: inout ByteBuffer, maxBytes: Int = 64 * 1024) async throws -> Int? {
        try await read(into: &buffer, maxBytes: maxBytes, timeout: nil)
    }

    /// Reads what is available as a fresh buffer; nil at end of stream.
    nonisolated(nonsending) public func read(maxBytes: Int = 64 * 1024, timeout: Duration? = nil) async throws -> ByteBuffer? {
        var buffer = ByteBuffer()
        guard try await read(into: &buffer, maxBytes: maxBytes, timeout: timeout) != nil else { return nil }
        return buffer
    }

    nonisolated(nonsending) public func write(_ buffer: ByteBuffer) async throws {
        try await write(buffer, timeout: nil)
    }

    nonisolated(nonsending) public func write(_ buffers: [ByteBuffer]) async throws {
        try await write(buffers, timeout: nil)
    }

    nonisolated(nonsending) public func write(_ bytes: [UInt8], timeout: Duration? = nil) async throws {
        try await write(ByteBuffer(bytes), timeout: timeout)
    }

    nonisolated(nonsending) public func write(_ string: String, timeout: Duration? = nil) async throws {
        try await write(ByteBuffer(string: string), timeout: timeout)
    }

    /// Reads until end of stream (at most `limit` bytes: `IOError.tooLarge` beyond).
    nonisolated(nonsending) public func readAll(limit: Int = 16 * 1024 * 1024, timeout: Duration? = nil) async throws -> ByteBuffer {
        var buffer = ByteBuffer()
        while try await read(into: &buffer, maxBytes: 64 * 1024, timeout: timeout) != nil {
            if buffer.readableBytes > limit { throw IOError.tooLarge(limit: limit) }
        }
        return buffer
    }
}

/// I/O failures that are not a syscall's errno (those are `SystemError`).
public enum IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done.
    public enum Operation: String, Sendable {
        case read, write, accept, connect, receive, send, shutdown
    }

    /// The operation did not finish within its timeout.
    case timedOut(Operation)
    /// The stream or socket was closed (by this side) before or during the operation.
    case closed(Operation)
    /// The event loop the socket belongs to was shut down.
    case eventLoopShutDown
    /// More bytes arrived than the caller allowed.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .timedOut(let operation): return "\(operation.rawValue) timed out"
        case .closed(let operation): return "\(operation.rawValue) on a closed socket"
        case .eventLoopShutDown: return "the event loop was shut down"
        case .tooLarge(let limit): return "more than \(limit) bytes"
        }
    }
}

extension Error {
    /// The peer reset or abandoned the connection (ECONNRESET, EPIPE): normal for a
    /// server whose client went away, not worth a warning.
    public var isConnectionReset: Bool {
        guard let error = self as? SystemError else { return false }
        return error.errno == ECONNRESET || error.errno == EPIPE
    }
}
