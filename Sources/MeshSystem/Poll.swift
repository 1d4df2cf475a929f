#if canImport(Glibc)
import Glibc
#endif

extension Posix {
    /// poll(2) on one descriptor for reading: true when it is readable (or at
    /// end of file / hung up), false when `timeoutMilliseconds` passed first.
    /// For short-lived command-line waits; event-loop code uses epoll.
    public static func waitReadable(_ fd: FileDescriptor, timeoutMilliseconds: Int32) throws -> Bool {
        var entry = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        let ready = try call("poll") { poll(&entry, 1, timeoutMilliseconds) }
        return ready > 0
    }
}
