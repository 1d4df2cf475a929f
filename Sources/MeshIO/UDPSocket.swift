import MeshSystem

/// One datagram and where it came from.
public struct Datagram: Sendable, Equatable {
    public var bytes: ByteBuffer
    /// The sender (for a received datagram) or destination.
    public var peer: SocketAddress

    public init(bytes: ByteBuffer, peer: SocketAddress) {
        self.bytes = bytes
        self.peer = peer
    }
}

/// A bound UDP socket on one event loop (the cluster DNS server's transport).
///
/// One task may receive while another sends. Run the receiving loop on `eventLoop`
/// (`Task(executorPreference:)`) to avoid a hop per datagram.
public final class UDPSocket: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: mutable state lives in `selectable`, touched only on `eventLoop`.
    public let eventLoop: EventLoop
    let selectable: Selectable
    /// Where it is bound (the real port when bound to port 0).
    public let localAddress: SocketAddress
    /// Receive room reused for every datagram (loop-confined); each datagram is copied out at its size.
    private var scratch = ByteBuffer()

    private init(descriptor: FileDescriptor, localAddress: SocketAddress, eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.selectable = Selectable(descriptor: descriptor)
        self.localAddress = localAddress
    }

    deinit {
        guard !selectable.isClosed else { return }
        if eventLoop.isShutDown {
            try? selectable.descriptor.close()
        } else {
            let selectable = LoopBound(self.selectable)
            eventLoop.execute { [eventLoop] in eventLoop.close(selectable.value) }
        }
    }

    public var description: String { "UDPSocket(\(localAddress))" }

    /// Binds to `address` (port 0: any free port). Throws `SystemError` naming `bind(ADDRESS)`.
    public static func bind(to address: SocketAddress, reuseAddress: Bool = false, on eventLoop: EventLoop) throws -> UDPSocket {
        let descriptor = try Sockets.makeSocket(family: address.family, kind: .datagram)
        if reuseAddress { try Sockets.setReuseAddress(descriptor) }
        try Sockets.bind(descriptor, to: address)
        let bound = try Sockets.localAddress(of: descriptor) ?? address
        return UDPSocket(descriptor: descriptor, localAddress: bound, eventLoop: eventLoop)
    }

    /// Waits for the next datagram, at most `timeout`. Datagrams longer than `maxBytes`
    /// are cut short (DNS over UDP fits in 512 bytes, or 4096 with EDNS).
    public func receive(maxBytes: Int = 65_535, timeout: Duration? = nil) async throws -> Datagram {
        let deadline = timeout.map { MonotonicClock.now() &+ $0.nanoseconds }
        return try await eventLoop.onLoop { try await receiveOnLoop(maxBytes: maxBytes, deadline: deadline) }
    }

    private func receiveOnLoop(maxBytes: Int, deadline: UInt64?) async throws -> Datagram {
        while true {
            if selectable.isClosed { throw IOError.closed(.receive) }
            if selectable.mayRead {
                var sender: SocketAddress?
                var outcome = IOResult<Int>.wouldBlock
                scratch.clear()
                _ = try scratch.writeWithStorage(minimumWritable: maxBytes, maximum: maxBytes) { storage, range in
                    outcome = try Sockets.receive(selectable.descriptor, into: &storage, range: range, sender: &sender)
                    if case .done(let count) = outcome { return count }
                    return 0
                }
                if case .done = outcome, let sender {
                    return Datagram(bytes: ByteBuffer(scratch.readableArray), peer: sender)
                }
                // Datagrams come whole: "maybe readable" stays up until recvfrom says EAGAIN.
                if case .wouldBlock = outcome { selectable.mayRead = false }
                continue
            }
            try await eventLoop.waitUntilReady(selectable, for: .read, deadline: deadline, operation: .receive)
        }
    }

    /// Sends one datagram to `address`. Throws `SystemError` naming `sendto(ADDRESS)`
    /// (EMSGSIZE when too big; ECONNREFUSED when an earlier datagram drew a port-unreachable).
    public func send(_ bytes: ByteBuffer, to address: SocketAddress, timeout: Duration? = nil) async throws {
        let deadline = timeout.map { MonotonicClock.now() &+ $0.nanoseconds }
        try await eventLoop.onLoop {
            while true {
                if selectable.isClosed { throw IOError.closed(.send) }
                if selectable.mayWrite {
                    if case .done = try Sockets.send(selectable.descriptor, bytes.readableBytesView, to: address) { return }
                    selectable.mayWrite = false
                }
                try await eventLoop.waitUntilReady(selectable, for: .write, deadline: deadline, operation: .send)
            }
        }
    }

    /// Closes the socket; a pending `receive` throws `IOError.closed(.receive)`.
    public func close() async {
        do {
            try await eventLoop.onLoop { eventLoop.close(selectable) }
        } catch {
            try? selectable.descriptor.close()
        }
    }
}
