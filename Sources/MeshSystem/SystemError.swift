#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, and the errno it left.
///
/// Every syscall in meshlab goes through `Posix` helpers that retry EINTR and
/// throw this, so an error a person sees always names the call that failed.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let errno: CInt
    public let function: String

    public init(errno: CInt, function: String) {
        self.errno = errno
        self.function = function
    }

    public var description: String {
        "\(function): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
