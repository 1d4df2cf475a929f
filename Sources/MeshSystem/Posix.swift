#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// The result of a non-blocking I/O call: it either did something, or the
/// kernel said "not now" (EAGAIN/EWOULDBLOCK) and the caller should wait for readiness.
public enum IOResult<Value: Sendable>: Sendable {
    case done(Value)
    case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}

/// The one door for system calls.
///
/// Every wrapper in MeshSystem calls through `Posix.call`, which retries EINTR
/// and turns -1/errno into a `SystemError` that names the call. Wrappers for one
/// area live in one enum (`Posix`, `Sockets`, `Epoll`, `Files`, `Signals`, ...)
/// with labelled arguments and `///` docs naming the syscall and the errno
/// values a caller should expect.
public enum Posix {
    /// Runs `body` until it does not fail with EINTR; -1 becomes `SystemError(errno, function)`.
    @inlinable
    public static func call<T: FixedWidthInteger>(_ function: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(errno: code, function: function())
        }
    }

    /// Like `call`, but EAGAIN/EWOULDBLOCK (and EINPROGRESS where `inProgressIsWait`)
    /// become `.wouldBlock` instead of an error: for non-blocking descriptors.
    @inlinable
    public static func nonBlockingCall<T: FixedWidthInteger>(
        _ function: @autoclosure () -> String, _ body: () -> T
    ) throws(SystemError) -> IOResult<T> {
        while true {
            let result = body()
            if result != -1 { return .done(result) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(errno: code, function: function())
        }
    }

    /// close(2). EINTR is *not* retried: on Linux the descriptor is gone either way,
    /// and retrying could close a descriptor another thread just got. EBADF means a bug.
    public static func close(_ fd: CInt) throws {
        if Glibc.close(fd) == -1 {
            let code = errno
            if code == EINTR { return }
            throw SystemError(errno: code, function: "close")
        }
    }

    /// read(2) into `buffer[range]`; returns the byte count (0 at end of file).
    /// Non-blocking descriptors give `.wouldBlock` on EAGAIN. Expect ECONNRESET on sockets.
    public static func read(_ fd: FileDescriptor, into buffer: inout [UInt8], range: Range<Int>) throws -> IOResult<Int> {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "read range outside buffer")
        return try buffer.withUnsafeMutableBytes { raw throws -> IOResult<Int> in
            let base = raw.baseAddress! + range.lowerBound
            let raw = fd.rawValue
            return try nonBlockingCall("read") { Glibc.read(raw, base, range.count) }
        }
    }

    /// write(2) of `bytes`; returns how many were written (may be fewer).
    /// Expect EPIPE on pipes whose reader is gone (with SIGPIPE ignored), ENOSPC on files.
    public static func write(_ fd: FileDescriptor, _ bytes: ArraySlice<UInt8>) throws -> IOResult<Int> {
        try bytes.withUnsafeBytes { raw throws -> IOResult<Int> in
            guard let base = raw.baseAddress, raw.count > 0 else { return .done(0) }
            return try nonBlockingCall("write") { Glibc.write(fd.rawValue, base, raw.count) }
        }
    }

    /// pipe2(2) with O_CLOEXEC (and O_NONBLOCK if asked): (read end, write end).
    public static func pipe(nonBlocking: Bool = false) throws -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: (CInt, CInt) = (-1, -1)
        let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
        _ = try withUnsafeMutablePointer(to: &fds) { pointer throws in
            try pointer.withMemoryRebound(to: CInt.self, capacity: 2) { fdsPointer throws in
                try call("pipe2") { meshlab_pipe2(fdsPointer, flags) }
            }
        }
        return (FileDescriptor(owning: fds.0), FileDescriptor(owning: fds.1))
    }

    /// Sets or clears O_NONBLOCK with fcntl(2).
    public static func setNonBlocking(_ fd: FileDescriptor, _ on: Bool = true) throws {
        let flags = try call("fcntl(F_GETFL)") { fcntl(fd.rawValue, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try call("fcntl(F_SETFL)") { fcntl(fd.rawValue, F_SETFL, wanted) } }
    }

    /// Sets or clears FD_CLOEXEC with fcntl(2): clear it on a descriptor a child must inherit.
    public static func setCloseOnExec(_ fd: FileDescriptor, _ on: Bool) throws {
        let flags = try call("fcntl(F_GETFD)") { fcntl(fd.rawValue, F_GETFD) }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags { _ = try call("fcntl(F_SETFD)") { fcntl(fd.rawValue, F_SETFD, wanted) } }
    }

    /// dup(2) with FD_CLOEXEC set on the copy (fcntl F_DUPFD_CLOEXEC).
    public static func duplicate(_ fd: FileDescriptor) throws -> FileDescriptor {
        FileDescriptor(owning: try call("fcntl(F_DUPFD_CLOEXEC)") { fcntl(fd.rawValue, F_DUPFD_CLOEXEC, 0) })
    }
}
