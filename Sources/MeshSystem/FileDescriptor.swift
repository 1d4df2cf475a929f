#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An owned file descriptor: closed exactly once, by `close()` or when the last reference goes.
///
/// A class rather than a `~Copyable` struct so that sockets, listeners and event
/// loops can share it across tasks; the raw number sits in an atomic so that
/// `close()` and `release()` race safely (the loser sees -1 and does nothing).
/// meshlab opens everything with O_CLOEXEC / SOCK_CLOEXEC: a spawned child
/// only inherits what `SpawnConfiguration.inherit` lists.
public final class FileDescriptor: Sendable, CustomStringConvertible {
    private let raw: Atomic<CInt>

    /// Takes ownership of `fd` (which must be open).
    public init(owning fd: CInt) {
        raw = Atomic(fd)
    }

    deinit {
        let fd = raw.load(ordering: .relaxed)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// The descriptor number, or -1 once closed or released.
    public var rawValue: CInt { raw.load(ordering: .relaxed) }

    public var isOpen: Bool { rawValue >= 0 }

    /// Closes the descriptor now; later calls do nothing. Errors from close(2) (EIO on
    /// some file systems) are thrown, but the descriptor is gone either way.
    public func close() throws {
        let fd = raw.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { try Posix.close(fd) }
    }

    /// Gives up ownership: returns the number and never closes it (for handing a
    /// descriptor to a child process or to another owner).
    public func release() -> CInt {
        raw.exchange(-1, ordering: .acquiringAndReleasing)
    }

    public var description: String { "fd \(rawValue)" }
}
