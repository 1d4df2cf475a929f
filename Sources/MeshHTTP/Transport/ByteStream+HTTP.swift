import MeshIO

/// What the HTTP layer needs from a MeshIO `ByteStream`, in HTTP's terms: timeouts
/// become `HTTPError.timedOut`, and bytes travel as arrays (what parsers and
/// handlers hold) wrapped in buffers without copying.
extension ByteStream {
    /// Reads what is available into `buffer`; false at end of stream.
    @inline(__always)
    nonisolated(nonsending) func readHTTP(into buffer: inout ByteBuffer, timeout: Duration?) async throws -> Bool {
        do {
            return try await read(into: &buffer, maxBytes: 64 * 1024, timeout: timeout) != nil
        } catch IOError.timedOut {
            throw HTTPError.timedOut("no bytes from the peer within \(Self.describe(timeout))")
        }
    }

    @inline(__always)
    nonisolated(nonsending) func writeHTTP(_ bytes: [UInt8], timeout: Duration?) async throws {
        try await writeHTTP(ByteBuffer(bytes), timeout: timeout)
    }

    @inline(__always)
    nonisolated(nonsending) func writeHTTP(_ buffer: ByteBuffer, timeout: Duration?) async throws {
        do {
            try await write(buffer, timeout: timeout)
        } catch IOError.timedOut {
            throw Self.writeTimedOut(timeout)
        }
    }

    /// Writes a head and a body in one gathered write (no array of arrays on the way).
    @inline(__always)
    nonisolated(nonsending) func writeHTTP(_ head: [UInt8], _ body: [UInt8], timeout: Duration?) async throws {
        try await writeHTTP(ByteBuffer(head), body, timeout: timeout)
    }

    @inline(__always)
    nonisolated(nonsending) func writeHTTP(_ head: ByteBuffer, _ body: [UInt8], timeout: Duration?) async throws {
        if body.isEmpty { return try await writeHTTP(head, timeout: timeout) }
        do {
            try await write([head, ByteBuffer(body)], timeout: timeout)
        } catch IOError.timedOut {
            throw Self.writeTimedOut(timeout)
        }
    }

    /// Writes several arrays in order, gathered into as few syscalls as the stream can.
    @inline(__always)
    nonisolated(nonsending) func writeHTTP(_ parts: [[UInt8]], timeout: Duration?) async throws {
        do {
            var buffers: [ByteBuffer] = []
            buffers.reserveCapacity(parts.count)
            for part in parts where !part.isEmpty { buffers.append(ByteBuffer(part)) }
            try await write(buffers, timeout: timeout)
        } catch IOError.timedOut {
            throw Self.writeTimedOut(timeout)
        }
    }

    static func describe(_ timeout: Duration?) -> String { timeout.map { "\($0)" } ?? "-" }

    static func writeTimedOut(_ timeout: Duration?) -> HTTPError {
        HTTPError.timedOut("peer did not take our bytes within \(describe(timeout))")
    }

    /// A check without waiting, for a pooled connection before reuse: true when the peer
    /// has closed it, reset it, or sent bytes nobody asked for. A read that would wait is
    /// the healthy answer (it times out at once).
    nonisolated(nonsending) func isUnusableWhileIdle() async -> Bool {
        var probe = ByteBuffer()
        do {
            _ = try await read(into: &probe, maxBytes: 1, timeout: .zero)
            return true
        } catch IOError.timedOut {
            return false
        } catch {
            return true
        }
    }
}

/// The same in HTTP's terms for a caller on the socket's own loop, which the server's
/// connection task is: a direct call rather than one through `any ByteStream` (no
/// executor switch on return), and the caller chooses how a wait is cancelled.
extension SocketConnection {
    @inline(__always)
    nonisolated(nonsending) func readHTTPOnLoop(
        into buffer: inout ByteBuffer, timeout: Duration?, cancellation: WaitCancellation
    ) async throws -> Bool {
        do {
            return try await readOnLoop(into: &buffer, maxBytes: 64 * 1024, timeout: timeout, cancellation: cancellation) != nil
        } catch IOError.timedOut {
            throw HTTPError.timedOut("no bytes from the peer within \(Self.describe(timeout))")
        }
    }

    @inline(__always)
    nonisolated(nonsending) func writeHTTPOnLoop(_ buffer: ByteBuffer, timeout: Duration?) async throws {
        if buffer.isEmpty { return }
        do {
            try await writeOnLoop(buffer.readableBytesView, timeout: timeout)
        } catch IOError.timedOut {
            throw Self.writeTimedOut(timeout)
        }
    }
}
