#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address, kept in host byte order (`127.0.0.1` is `0x7f00_0001`).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text ("10.0.0.1"); nil for anything else (inet_pton's strict rules).
    public init?(_ text: String) {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        rawValue = UInt32(bigEndian: address.s_addr)
    }

    public static let any = IPv4Address(rawValue: 0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    public var octets: [UInt8] {
        [UInt8(rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    public var isLoopback: Bool { rawValue >> 24 == 127 }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv6 address: 16 bytes in network order, held as two big-endian halves.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, as a big-endian number.
    public var high: UInt64
    /// The last 8 bytes, as a big-endian number.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address from its 16 bytes in network order; nil unless exactly 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses IPv6 text ("::1", "fe80::1", "::ffff:10.0.0.1"); nil when it is not one.
    public init?(_ text: String) {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &address) { Array($0) }
        self.init(bytes: bytes)
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var isLoopback: Bool { self == .loopback }

    /// RFC 5952 text, as inet_ntop writes it.
    public var description: String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why a socket address could not be parsed or used.
public struct SocketAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "invalid socket address \"\(text)\": \(reason)" }
}

/// Where a socket is: an IPv4 or IPv6 address with a port, or a unix socket path.
///
/// Text forms (both parsed and printed): `127.0.0.1:8080`, `[::1]:80`,
/// `[fe80::1%2]:80` (scope id), `unix:/run/meshlab/api.sock` (a bare
/// absolute path is also accepted when parsing).
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4Address, port: UInt16)
    case ipv6(IPv6Address, port: UInt16, scopeID: UInt32 = 0)
    case unix(path: String)

    /// The longest unix socket path the kernel takes (sun_path less its NUL).
    public static let maximumUnixPathLength = 107

    /// Parses the text forms above. Host names are not resolved: an address is numeric.
    public init(parsing text: String) throws(SocketAddressError) {
        if text.hasPrefix("unix:") {
            self = try SocketAddress.unixChecked(String(text.dropFirst(5)), text: text)
            return
        }
        if text.hasPrefix("/") {
            self = try SocketAddress.unixChecked(text, text: text)
            return
        }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw SocketAddressError(text: text, reason: "missing ']' after IPv6 address")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw SocketAddressError(text: text, reason: "expected ':PORT' after ']'")
            }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw SocketAddressError(text: text, reason: "expected HOST:PORT")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw SocketAddressError(text: text, reason: "write an IPv6 address in brackets: [ADDR]:PORT")
            }
        }
        guard !portPart.isEmpty, portPart.allSatisfy(\.isASCII), portPart.allSatisfy(\.isNumber),
              let port = UInt16(portPart) else {
            throw SocketAddressError(text: text, reason: "port must be a number from 0 to 65535")
        }
        if text.hasPrefix("[") {
            var host = hostPart
            var scopeID: UInt32 = 0
            if let percent = host.firstIndex(of: "%") {
                guard let scope = UInt32(host[host.index(after: percent)...]) else {
                    throw SocketAddressError(text: text, reason: "scope id after '%' must be a number")
                }
                scopeID = scope
                host = host[..<percent]
            }
            guard let address = IPv6Address(String(host)) else {
                throw SocketAddressError(text: text, reason: "\"\(host)\" is not an IPv6 address")
            }
            self = .ipv6(address, port: port, scopeID: scopeID)
        } else {
            guard let address = IPv4Address(String(hostPart)) else {
                throw SocketAddressError(text: text, reason: "\"\(hostPart)\" is not an IPv4 address (names are not resolved)")
            }
            self = .ipv4(address, port: port)
        }
    }

    private static func unixChecked(_ path: String, text: String) throws(SocketAddressError) -> SocketAddress {
        guard !path.isEmpty else { throw SocketAddressError(text: text, reason: "empty unix socket path") }
        guard path.utf8.count <= maximumUnixPathLength else {
            throw SocketAddressError(text: text, reason: "unix socket path longer than \(maximumUnixPathLength) bytes")
        }
        guard !path.utf8.contains(0) else { throw SocketAddressError(text: text, reason: "NUL in unix socket path") }
        return .unix(path: path)
    }

    /// 127.0.0.1:`port`.
    public static func loopback(port: UInt16) -> SocketAddress { .ipv4(.loopback, port: port) }

    /// The port of an IP address; nil for a unix socket.
    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _): return port
        case .unix: return nil
        }
    }

    /// The same address with another port (a unix address is returned unchanged).
    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self {
        case .ipv4(let address, _): return .ipv4(address, port: port)
        case .ipv6(let address, _, let scope): return .ipv6(address, port: port, scopeID: scope)
        case .unix: return self
        }
    }

    /// AF_INET, AF_INET6 or AF_UNIX.
    public var family: CInt {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let address, let port): return "\(address):\(port)"
        case .ipv6(let address, let port, let scope):
            return scope == 0 ? "[\(address)]:\(port)" : "[\(address)%\(scope)]:\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}

// MARK: - sockaddr conversion (used by Sockets)

extension SocketAddress {
    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) throws -> R {
        switch self {
        case .ipv4(let address, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = in_addr(s_addr: address.rawValue.bigEndian)
            return try withUnsafePointer(to: &sin) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(let address, let port, let scope):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_scope_id = scope
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
                for (index, byte) in address.bytes.enumerated() { raw[index] = byte }
            }
            return try withUnsafePointer(to: &sin6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count <= SocketAddress.maximumUnixPathLength else {
                throw SocketAddressError(text: path, reason: "unix socket path longer than \(SocketAddress.maximumUnixPathLength) bytes")
            }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
                raw[bytes.count] = 0
            }
            let length = MemoryLayout<sa_family_t>.size + bytes.count + 1
            return try withUnsafePointer(to: &sun) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(length))
                }
            }
        }
    }

    /// Reads a `sockaddr_storage` the kernel filled in; nil for families meshlab does not use
    /// (or an unnamed unix socket, whose path is empty).
    init?(storage: inout sockaddr_storage, length: socklen_t) {
        switch CInt(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            self = .ipv4(IPv4Address(rawValue: UInt32(bigEndian: sin.sin_addr.s_addr)), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var addr = sin6.sin6_addr
            let bytes = withUnsafeBytes(of: &addr) { Array($0) }
            self = .ipv6(IPv6Address(bytes: bytes)!, port: UInt16(bigEndian: sin6.sin6_port), scopeID: sin6.sin6_scope_id)
        case AF_UNIX:
            let pathOffset = MemoryLayout<sa_family_t>.size
            let pathLength = Int(length) - pathOffset
            guard pathLength > 0 else { return nil }
            let bytes = withUnsafeBytes(of: &storage) { raw in
                Array(raw[pathOffset..<(pathOffset + pathLength)])
            }
            let path = bytes.prefix { $0 != 0 }
            guard !path.isEmpty else { return nil }
            self = .unix(path: String(decoding: path, as: UTF8.self))
        default:
            return nil
        }
    }
}
