#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// epoll(7): the readiness source under MeshIO's event loops.
///
/// Owned and used by one thread (its event loop): the event array is reused
/// across waits, so this type is not Sendable.
public final class Epoll {
    /// Which readiness to watch or report (EPOLLIN, EPOLLOUT, ...).
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        /// The peer shut down its write side (reported with readable: a read gives EOF).
        public static let readHangup = Events(rawValue: EPOLLRDHUP.rawValue)
        /// Both directions are gone (always reported, never asked for).
        public static let hangup = Events(rawValue: EPOLLHUP.rawValue)
        /// An error is pending (always reported; read it with SO_ERROR or the next I/O call).
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        /// Report a change of readiness once, not for as long as it lasts.
        public static let edgeTriggered = Events(rawValue: EPOLLET.rawValue)
    }

    public let descriptor: FileDescriptor
    private let events: UnsafeMutableBufferPointer<epoll_event>

    /// epoll_create1(EPOLL_CLOEXEC) with room for `capacity` events per wait.
    public init(capacity: Int = 256) throws {
        descriptor = FileDescriptor(owning: try Posix.call("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) })
        events = .allocate(capacity: max(1, capacity))
    }

    deinit { events.deallocate() }

    /// epoll_ctl(ADD): watch `fd` for `events`; each report carries `data`.
    /// Expect EEXIST (already added), EPERM (a regular file cannot be polled).
    public func add(_ fd: CInt, events interest: Events, data: UInt64) throws {
        try control(EPOLL_CTL_ADD, fd, interest, data, "epoll_ctl(ADD)")
    }

    /// epoll_ctl(MOD): change what `fd` is watched for.
    public func modify(_ fd: CInt, events interest: Events, data: UInt64) throws {
        try control(EPOLL_CTL_MOD, fd, interest, data, "epoll_ctl(MOD)")
    }

    /// epoll_ctl(DEL). Expect ENOENT/EBADF when the descriptor is already closed (closing removes it).
    public func remove(_ fd: CInt) throws {
        try control(EPOLL_CTL_DEL, fd, [], 0, "epoll_ctl(DEL)")
    }

    private func control(_ operation: CInt, _ fd: CInt, _ interest: Events, _ data: UInt64, _ function: String) throws {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = data
        _ = try Posix.call(function) { epoll_ctl(descriptor.rawValue, operation, fd, &event) }
    }

    /// epoll_wait(2): blocks up to `timeoutMilliseconds` (-1: forever, 0: just poll) and
    /// returns how many events `event(at:)` can read. EINTR returns 0 rather than retrying,
    /// so a caller recomputes its timeout.
    public func wait(timeoutMilliseconds: CInt) throws -> Int {
        let count = epoll_wait(descriptor.rawValue, events.baseAddress, CInt(events.count), timeoutMilliseconds)
        if count >= 0 { return Int(count) }
        let code = errno
        if code == EINTR { return 0 }
        throw SystemError(errno: code, function: "epoll_wait")
    }

    /// The `index`th event of the last wait: its `data` and what is ready.
    @inline(__always)
    public func event(at index: Int) -> (data: UInt64, events: Events) {
        let event = events[index]
        return (event.data.u64, Events(rawValue: event.events))
    }
}

/// eventfd(2): a counter descriptor that one thread writes to wake a loop blocked in epoll_wait.
public enum EventFD {
    /// eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK).
    public static func make() throws -> FileDescriptor {
        FileDescriptor(owning: try Posix.call("eventfd") { eventfd(0, CInt(EFD_CLOEXEC | EFD_NONBLOCK)) })
    }

    /// Adds 1 to the counter: the descriptor becomes readable. EAGAIN (counter full) cannot
    /// matter: a full counter is readable anyway.
    public static func signal(_ fd: FileDescriptor) throws {
        var one: UInt64 = 1
        _ = try Posix.nonBlockingCall("write(eventfd)") { Glibc.write(fd.rawValue, &one, 8) }
    }

    /// Reads and resets the counter.
    public static func drain(_ fd: FileDescriptor) throws {
        var value: UInt64 = 0
        _ = try Posix.nonBlockingCall("read(eventfd)") { Glibc.read(fd.rawValue, &value, 8) }
    }
}
