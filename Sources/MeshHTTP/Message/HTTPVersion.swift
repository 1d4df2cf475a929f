/// The protocol version of a message (`HTTP/1.1`). Only major version 1 is spoken.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }

    /// Whether a connection stays open by default (RFC 9112 §9.3): yes from 1.1 on.
    public var keepsAliveByDefault: Bool { major > 1 || (major == 1 && minor >= 1) }
}
