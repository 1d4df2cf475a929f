#if canImport(Glibc)
import Glibc
#endif
import MeshSystem

/// A connected stream socket — TCP or unix — on one event loop.
///
/// Made by `SocketListener.accept()` or `SocketConnection.connect(to:timeout:on:)`.
/// Run the code that uses it on `eventLoop` (`Task(executorPreference:)`): then every
/// operation runs inline on the loop thread; from elsewhere each call hops there first.
/// TCP connections get TCP_NODELAY. Closing is explicit (`close()`); a connection
/// dropped without closing closes its descriptor when released.
public final class SocketConnection: ByteStream, @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: all mutable state lives in `selectable`, touched only on `eventLoop`.
    public let eventLoop: EventLoop
    let selectable: Selectable
    /// The peer as accept(2) reported it (nil when connected by us: see `remoteAddress`).
    private let acceptedPeer: SocketAddress?
    private let connectedPeer: SocketAddress?

    init(descriptor: FileDescriptor, eventLoop: EventLoop, acceptedPeer: SocketAddress?, connectedPeer: SocketAddress?) {
        self.eventLoop = eventLoop
        self.selectable = Selectable(descriptor: descriptor)
        self.acceptedPeer = acceptedPeer
        self.connectedPeer = connectedPeer
    }

    deinit {
        // Not closed by its owner: leave epoll on the loop thread, close the descriptor now
        // (closing removes it from epoll; the registration slot is freed on the loop).
        guard !selectable.isClosed else { return }
        if eventLoop.isShutDown {
            try? selectable.descriptor.close()
            return
        }
        let selectable = LoopBound(self.selectable)
        eventLoop.execute { [eventLoop] in eventLoop.close(selectable.value) }
    }

    /// The descriptor (for socket options; do not read or write it directly).
    public var descriptor: FileDescriptor { selectable.descriptor }

    public var description: String {
        "SocketConnection(\(localAddress.map { "\($0)" } ?? "?") <-> \(remoteAddress.map { "\($0)" } ?? "?"))"
    }

    /// getsockname(2) on each call.
    public var localAddress: SocketAddress? { try? Sockets.localAddress(of: selectable.descriptor) }

    /// The peer: from accept(2), the address connected to, or getpeername(2).
    public var remoteAddress: SocketAddress? {
        acceptedPeer ?? connectedPeer ?? (try? Sockets.remoteAddress(of: selectable.descriptor))
    }

    // MARK: Connecting

    /// Connects to `address` (TCP or unix) with a non-blocking connect, waiting at most
    /// `timeout`. Refusal throws `SystemError` naming `connect(ADDRESS)` (ECONNREFUSED;
    /// ENOENT for a missing unix socket); the timeout throws `IOError.timedOut(.connect)`.
    /// With `source`, the socket is bound to that address first (port 0: any port), as the
    /// sidecar's inbound hop does (127.0.0.6, which the capture rules let through).
    public static func connect(
        to address: SocketAddress, from source: SocketAddress? = nil, timeout: Duration? = nil, on eventLoop: EventLoop
    ) async throws -> SocketConnection {
        let deadline = timeout.map { MonotonicClock.now() &+ $0.nanoseconds }
        return try await eventLoop.onLoop {
            let descriptor = try Sockets.makeSocket(family: address.family, kind: .stream)
            if let source { try Sockets.bind(descriptor, to: source) }
            if case .unix = address {} else { try Sockets.setNoDelay(descriptor) }
            let connection = SocketConnection(descriptor: descriptor, eventLoop: eventLoop, acceptedPeer: nil, connectedPeer: address)
            do {
                if case .wouldBlock = try Sockets.connect(descriptor, to: address) {
                    connection.selectable.mayWrite = false
                    while true {
                        try await eventLoop.waitUntilReady(connection.selectable, for: .write, deadline: deadline, operation: .connect)
                        let pending = try Sockets.pendingError(descriptor)
                        if pending == 0 { break }
                        if pending != EINPROGRESS && pending != EAGAIN {
                            throw SystemError(errno: pending, function: "connect(\(address))")
                        }
                    }
                }
            } catch {
                eventLoop.close(connection.selectable)
                throw error
            }
            return connection
        }
    }

    // MARK: ByteStream

    nonisolated(nonsending) public func read(into buffer: inout ByteBuffer, maxBytes: Int, timeout: Duration?) async throws -> Int? {
        precondition(maxBytes > 0, "read needs room for at least one byte")
        if eventLoop.inEventLoop { return try await readOnLoop(into: &buffer, maxBytes: maxBytes, timeout: timeout) }
        return try await eventLoop.hopAndRun { try await readOnLoop(into: &buffer, maxBytes: maxBytes, timeout: timeout) }
    }

    /// `read(into:maxBytes:timeout:)` for a caller already on `eventLoop` (checked), which
    /// may choose how its waits are cancelled.
    package nonisolated(nonsending) func readOnLoop(
        into buffer: inout ByteBuffer, maxBytes: Int, timeout: Duration?, cancellation: WaitCancellation = .perWait
    ) async throws -> Int? {
        precondition(eventLoop.inEventLoop, "readOnLoop off the loop thread")
        let selectable = self.selectable
        var deadline: UInt64?
        while true {
            if selectable.isClosed { throw IOError.closed(.read) }
            if selectable.mayRead {
                let wanted = min(maxBytes, max(buffer.writableBytes, 4096))
                var outcome = IOResult<Int>.wouldBlock
                _ = try buffer.writeWithStorage(minimumWritable: wanted, maximum: wanted) { storage, range in
                    outcome = try Sockets.receive(selectable.descriptor, into: &storage, range: range)
                    if case .done(let count) = outcome { return count }
                    return 0
                }
                switch outcome {
                case .done(0):
                    return nil
                case .done(let count):
                    // A short read drained the socket: the next read would say EAGAIN
                    // (unless the peer's EOF is already known: see Selectable).
                    if count < wanted && !selectable.readHangupSeen { selectable.mayRead = false }
                    return count
                case .wouldBlock:
                    selectable.mayRead = false
                }
            }
            if deadline == nil, let timeout { deadline = selectable.deadline(after: timeout) }
            try await eventLoop.waitUntilReady(selectable, for: .read, deadline: deadline, operation: .read,
                                               cancellation: cancellation)
        }
    }

    nonisolated(nonsending) public func write(_ buffer: ByteBuffer, timeout: Duration?) async throws {
        if buffer.isEmpty { return }
        if eventLoop.inEventLoop { return try await writeOnLoop(buffer.readableBytesView, timeout: timeout) }
        try await eventLoop.hopAndRun { try await writeOnLoop(buffer.readableBytesView, timeout: timeout) }
    }

    nonisolated(nonsending) public func write(_ buffers: [ByteBuffer], timeout: Duration?) async throws {
        switch buffers.count {
        case 0: return
        case 1: return try await write(buffers[0], timeout: timeout)
        default: break
        }
        let chunks = buffers.compactMap { $0.isEmpty ? nil : $0.readableBytesView }
        if eventLoop.inEventLoop { return try await writeOnLoop(chunks, timeout: timeout) }
        try await eventLoop.hopAndRun { try await writeOnLoop(chunks, timeout: timeout) }
    }

    /// `write(_:timeout:)` for a caller already on `eventLoop` (checked).
    package nonisolated(nonsending) func writeOnLoop(_ bytes: ArraySlice<UInt8>, timeout: Duration?) async throws {
        precondition(eventLoop.inEventLoop, "writeOnLoop off the loop thread")
        let selectable = self.selectable
        var remaining = bytes
        var deadline: UInt64?
        while true {
            if selectable.isClosed { throw IOError.closed(.write) }
            if selectable.mayWrite {
                switch try Sockets.send(selectable.descriptor, remaining) {
                case .done(let count):
                    remaining = remaining.dropFirst(count)
                    if remaining.isEmpty { return }
                    selectable.mayWrite = false  // a partial write: the socket buffer is full
                case .wouldBlock:
                    selectable.mayWrite = false
                }
            }
            if deadline == nil, let timeout { deadline = selectable.deadline(after: timeout) }
            try await eventLoop.waitUntilReady(selectable, for: .write, deadline: deadline, operation: .write)
        }
    }

    nonisolated(nonsending) private func writeOnLoop(_ chunks: [ArraySlice<UInt8>], timeout: Duration?) async throws {
        let selectable = self.selectable
        var remaining = chunks[...]
        var deadline: UInt64?
        while !remaining.isEmpty {
            if selectable.isClosed { throw IOError.closed(.write) }
            if selectable.mayWrite {
                let batch = remaining.prefix(Sockets.maximumChunksPerSend)
                let offered = batch.reduce(0) { $0 + $1.count }
                switch try Sockets.send(selectable.descriptor, chunks: batch) {
                case .done(var count):
                    if count < offered { selectable.mayWrite = false }  // the socket buffer is full
                    // Drop what went out: whole chunks, then part of one.
                    while count > 0, let first = remaining.first {
                        if count >= first.count {
                            count -= first.count
                            remaining = remaining.dropFirst()
                        } else {
                            remaining[remaining.startIndex] = first.dropFirst(count)
                            count = 0
                        }
                    }
                case .wouldBlock:
                    selectable.mayWrite = false
                }
                continue
            }
            if deadline == nil, let timeout { deadline = selectable.deadline(after: timeout) }
            try await eventLoop.waitUntilReady(selectable, for: .write, deadline: deadline, operation: .write)
        }
    }

    nonisolated(nonsending) public func shutdownWrite() async throws {
        try await eventLoop.onLoop {
            if selectable.isClosed { throw IOError.closed(.shutdown) }
            try Sockets.shutdown(selectable.descriptor, writing: true)
        }
    }

    nonisolated(nonsending) public func close() async {
        if eventLoop.inEventLoop {
            eventLoop.close(selectable)
            return
        }
        do {
            try await eventLoop.hopAndRun { eventLoop.close(selectable) }
        } catch {
            try? selectable.descriptor.close()  // the loop is gone: nothing else holds the descriptor
        }
    }

    /// Fails the waits in progress with `CancellationError`: the cancellation handler of a
    /// task whose waits use `WaitCancellation.byOwner`. Any thread; waits that start later
    /// see the task's cancellation themselves.
    package func cancelWaits() {
        guard !eventLoop.isShutDown else { return }  // the loop already failed every wait
        let selectable = LoopBound(self.selectable)
        eventLoop.execute { [eventLoop] in
            selectable.value.fail(.read, error: CancellationError(), timers: &eventLoop.timers)
            selectable.value.fail(.write, error: CancellationError(), timers: &eventLoop.timers)
        }
    }

    /// SO_KEEPALIVE on or off.
    public func setKeepAlive(_ on: Bool) throws {
        try Sockets.setKeepAlive(selectable.descriptor, on)
    }

    /// The destination before an iptables REDIRECT (the sidecar's outbound capture).
    /// Throws `SystemError` (ENOENT) on a connection that was not redirected.
    public func originalDestination() throws -> SocketAddress {
        try Sockets.originalDestination(of: selectable.descriptor)
    }
}
