#if canImport(Glibc)
import Glibc
#endif
import MeshSystem

/// A listening stream socket (TCP or unix) whose accepted connections are spread over
/// the loops of an `EventLoopGroup`, round robin.
///
/// `accept()` runs on the listener's own loop (`eventLoop`); each connection it
/// returns belongs to the next loop of the group — run its handler there with
/// `Task(executorPreference: connection.eventLoop)` or `group.addTask(executorPreference:)`.
public final class SocketListener: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: mutable state lives in `selectable`, touched only on `eventLoop`.
    public let eventLoop: EventLoop
    /// Where accepted connections go: spread over a group, or kept on `eventLoop`.
    private let group: EventLoopGroup?
    let selectable: Selectable
    /// Where it listens (the real port when bound to port 0).
    public let localAddress: SocketAddress
    /// The socket file to remove on close (only for listeners that made it).
    private let ownedUnixPath: String?
    private let isTCP: Bool

    private init(descriptor: FileDescriptor, localAddress: SocketAddress, ownedUnixPath: String?, placement: Placement) {
        switch placement {
        case .group(let group):
            self.group = group
            self.eventLoop = group.next()
        case .loop(let loop):
            self.group = nil
            self.eventLoop = loop
        }
        self.selectable = Selectable(descriptor: descriptor)
        self.localAddress = localAddress
        self.ownedUnixPath = ownedUnixPath
        if case .unix = localAddress { isTCP = false } else { isTCP = true }
    }

    deinit {
        if !selectable.isClosed {
            if eventLoop.isShutDown {
                try? selectable.descriptor.close()
            } else {
                let selectable = LoopBound(self.selectable)
                eventLoop.execute { [eventLoop] in eventLoop.close(selectable.value) }
            }
            if let ownedUnixPath { _ = try? Files.remove(ownedUnixPath) }
        }
    }

    public var description: String { "SocketListener(\(localAddress))" }

    /// Which loops serve a listener's connections.
    public enum Placement: Sendable {
        /// Accept on one loop of the group, spread connections over all of them (round robin).
        case group(EventLoopGroup)
        /// Accept on this loop and keep every connection on it: with `reusePort`, one
        /// listener per loop lets the kernel spread connections with no cross-thread hand-off.
        case loop(EventLoop)
    }

    /// Listens on a TCP address: `.loopback(port: 0)` picks a free port (see `localAddress`).
    /// SO_REUSEADDR is on by default (restarts do not wait for TIME_WAIT); `reusePort`
    /// lets several listeners share the port. Throws `SystemError` naming `bind(ADDRESS)`
    /// on EADDRINUSE/EACCES.
    public static func bind(
        _ address: SocketAddress, backlog: CInt = 1024, reuseAddress: Bool = true, reusePort: Bool = false,
        group: EventLoopGroup
    ) throws -> SocketListener {
        try bind(address, backlog: backlog, reuseAddress: reuseAddress, reusePort: reusePort, placement: .group(group))
    }

    /// Like `bind(_:backlog:reuseAddress:reusePort:group:)`, with an explicit placement.
    public static func bind(
        _ address: SocketAddress, backlog: CInt = 1024, reuseAddress: Bool = true, reusePort: Bool = false,
        placement: Placement
    ) throws -> SocketListener {
        if case .unix(let path) = address { return try bindUnix(path: path, backlog: backlog, placement: placement) }
        let descriptor = try Sockets.makeSocket(family: address.family, kind: .stream)
        if reuseAddress { try Sockets.setReuseAddress(descriptor) }
        if reusePort { try Sockets.setReusePort(descriptor) }
        try Sockets.bind(descriptor, to: address)
        try Sockets.listen(descriptor, backlog: backlog)
        let bound = try Sockets.localAddress(of: descriptor) ?? address
        return SocketListener(descriptor: descriptor, localAddress: bound, ownedUnixPath: nil, placement: placement)
    }

    /// Listens on a unix socket at `path` with file mode `mode` (0600: only this user).
    /// A stale socket file (nobody accepting) is replaced; a live one throws EADDRINUSE;
    /// any other kind of file there throws EEXIST rather than being deleted.
    /// The mode is set before listen(2), so nobody can connect while it is wider.
    /// `close()` removes the file.
    public static func bindUnix(
        path: String, mode: mode_t = 0o600, backlog: CInt = 1024, group: EventLoopGroup
    ) throws -> SocketListener {
        try bindUnix(path: path, mode: mode, backlog: backlog, placement: .group(group))
    }

    /// Like `bindUnix(path:mode:backlog:group:)`, with an explicit placement.
    public static func bindUnix(
        path: String, mode: mode_t = 0o600, backlog: CInt = 1024, placement: Placement
    ) throws -> SocketListener {
        let address = try SocketAddress(parsing: "unix:" + path)
        try removeStaleSocket(at: path)
        let descriptor = try Sockets.makeSocket(family: AF_UNIX, kind: .stream)
        try Sockets.bind(descriptor, to: address)
        do {
            try Files.setMode(path, mode)
            try Sockets.listen(descriptor, backlog: backlog)
        } catch {
            _ = try? Files.remove(path)
            throw error
        }
        return SocketListener(descriptor: descriptor, localAddress: address, ownedUnixPath: path, placement: placement)
    }

    private static func removeStaleSocket(at path: String) throws {
        guard let kind = try Files.kind(of: path) else { return }
        guard kind == .socket else { throw SystemError(errno: EEXIST, function: "bind(unix:\(path)): not a socket") }
        let probe = try Sockets.makeSocket(family: AF_UNIX, kind: .stream, nonBlocking: false)
        do {
            _ = try Sockets.connect(probe, to: .unix(path: path))
            throw SystemError(errno: EADDRINUSE, function: "bind(unix:\(path)): a server is listening")
        } catch let error as SystemError where error.errno == ECONNREFUSED {
            try Files.remove(path)
        }
    }

    /// Takes over a listening socket opened elsewhere (socket activation: the launcher
    /// binds in one network namespace, the daemon inherits the descriptor). Made
    /// non-blocking and close-on-exec; throws EINVAL if it is not a listening stream socket.
    public static func adopt(descriptor: FileDescriptor, group: EventLoopGroup) throws -> SocketListener {
        try adopt(descriptor: descriptor, placement: .group(group))
    }

    /// Like `adopt(descriptor:group:)`, with an explicit placement.
    public static func adopt(descriptor: FileDescriptor, placement: Placement) throws -> SocketListener {
        let accepting = try Sockets.getOption(descriptor, level: SOL_SOCKET, name: SO_ACCEPTCONN)
        guard accepting != 0 else { throw SystemError(errno: EINVAL, function: "adopt(\(descriptor)): not listening") }
        try Posix.setNonBlocking(descriptor)
        try Posix.setCloseOnExec(descriptor, true)
        guard let address = try Sockets.localAddress(of: descriptor) else {
            throw SystemError(errno: EINVAL, function: "adopt(\(descriptor)): unnamed socket")
        }
        return SocketListener(descriptor: descriptor, localAddress: address, ownedUnixPath: nil, placement: placement)
    }

    /// The descriptor (e.g. to hand to a child process; do not accept on it directly).
    public var descriptor: FileDescriptor { selectable.descriptor }

    /// Waits for the next connection, at most `timeout` (`IOError.timedOut(.accept)`).
    /// Cancelling the task throws `CancellationError`; closing the listener throws
    /// `IOError.closed(.accept)`. EMFILE/ENFILE (out of descriptors) throw `SystemError`:
    /// a server should pause and accept again rather than stop.
    public func accept(timeout: Duration? = nil) async throws -> SocketConnection {
        let deadline = timeout.map { MonotonicClock.now() &+ $0.nanoseconds }
        return try await eventLoop.onLoop { try await acceptOnLoop(deadline: deadline) }
    }

    private func acceptOnLoop(deadline: UInt64?) async throws -> SocketConnection {
        while true {
            if selectable.isClosed { throw IOError.closed(.accept) }
            if selectable.mayRead {
                switch try Sockets.accept(selectable.descriptor) {
                case .done(let (descriptor, peer)):
                    if isTCP { try? Sockets.setNoDelay(descriptor) }
                    let loop = group?.next() ?? eventLoop
                    return SocketConnection(descriptor: descriptor, eventLoop: loop, acceptedPeer: peer, connectedPeer: nil)
                case .wouldBlock:
                    selectable.mayRead = false
                }
            }
            try await eventLoop.waitUntilReady(selectable, for: .read, deadline: deadline, operation: .accept)
        }
    }

    /// Stops listening: a pending `accept()` throws `IOError.closed(.accept)`, and a unix
    /// socket file this listener made is removed.
    public func close() async {
        do {
            try await eventLoop.onLoop { eventLoop.close(selectable) }
        } catch {
            try? selectable.descriptor.close()
        }
        if let ownedUnixPath { _ = try? Files.remove(ownedUnixPath) }
    }
}
