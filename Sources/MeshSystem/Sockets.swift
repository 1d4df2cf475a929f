#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// Socket system calls. Every socket meshlab makes is SOCK_CLOEXEC; sends use
/// MSG_NOSIGNAL, so a peer that went away gives EPIPE rather than killing the
/// process with SIGPIPE.
public enum Sockets {
    /// Stream (TCP, unix stream) or datagram (UDP).
    public enum Kind: Sendable {
        case stream
        case datagram

        var rawValue: CInt {
            switch self {
            case .stream: return CInt(SOCK_STREAM.rawValue)
            case .datagram: return CInt(SOCK_DGRAM.rawValue)
            }
        }
    }

    /// socket(2) with SOCK_CLOEXEC (and SOCK_NONBLOCK unless `nonBlocking` is false).
    /// Expect EAFNOSUPPORT (no IPv6 here), EMFILE/ENFILE (out of descriptors).
    public static func makeSocket(family: CInt, kind: Kind, nonBlocking: Bool = true) throws -> FileDescriptor {
        let type = kind.rawValue | CInt(SOCK_CLOEXEC.rawValue) | (nonBlocking ? CInt(SOCK_NONBLOCK.rawValue) : 0)
        return FileDescriptor(owning: try Posix.call("socket") { socket(family, type, 0) })
    }

    /// bind(2). Expect EADDRINUSE, EACCES (privileged port), EADDRNOTAVAIL (address not on this host).
    public static func bind(_ fd: FileDescriptor, to address: SocketAddress) throws {
        try address.withSockAddr { pointer, length in
            _ = try Posix.call("bind(\(address))") { Glibc.bind(fd.rawValue, pointer, length) }
        }
    }

    /// listen(2). The kernel caps `backlog` at net.core.somaxconn.
    public static func listen(_ fd: FileDescriptor, backlog: CInt) throws {
        _ = try Posix.call("listen") { Glibc.listen(fd.rawValue, backlog) }
    }

    /// accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC: the new connection and its peer,
    /// or `.wouldBlock` when none is waiting. ECONNABORTED (a peer gave up while
    /// queued) is skipped to the next one; expect EMFILE/ENFILE under load.
    public static func accept(_ fd: FileDescriptor) throws -> IOResult<(FileDescriptor, SocketAddress?)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        while true {
            let result = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { meshlab_accept4(fd.rawValue, $0, &length, flags) }
            }
            if result >= 0 {
                return .done((FileDescriptor(owning: result), SocketAddress(storage: &storage, length: length)))
            }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemError(errno: code, function: "accept")
            }
        }
    }

    /// connect(2) on a non-blocking socket: `.done` when connected at once (unix sockets,
    /// often), `.wouldBlock` when in progress (EINPROGRESS: wait for writable, then read
    /// `pendingError`). Expect ECONNREFUSED, ENOENT (unix path), ENETUNREACH, and EAGAIN
    /// for a unix socket whose listener's backlog is full (thrown: there is nothing to wait for).
    public static func connect(_ fd: FileDescriptor, to address: SocketAddress) throws -> IOResult<Void> {
        try address.withSockAddr { pointer, length in
            while true {
                if Glibc.connect(fd.rawValue, pointer, length) == 0 { return .done(()) }
                let code = errno
                switch code {
                case EINTR: continue
                case EINPROGRESS: return .wouldBlock
                default: throw SystemError(errno: code, function: "connect(\(address))")
                }
            }
        }
    }

    /// getsockopt(SO_ERROR): the result of a non-blocking connect, 0 when it succeeded.
    public static func pendingError(_ fd: FileDescriptor) throws -> CInt {
        try getOption(fd, level: SOL_SOCKET, name: SO_ERROR)
    }

    /// shutdown(2). Expect ENOTCONN when the peer already reset the connection.
    public static func shutdown(_ fd: FileDescriptor, reading: Bool = false, writing: Bool = true) throws {
        let how: CInt
        switch (reading, writing) {
        case (true, true): how = CInt(SHUT_RDWR)
        case (true, false): how = CInt(SHUT_RD)
        case (false, true): how = CInt(SHUT_WR)
        case (false, false): return
        }
        _ = try Posix.call("shutdown") { Glibc.shutdown(fd.rawValue, how) }
    }

    // MARK: Data

    /// recv(2) into `buffer[range]`: the byte count, 0 when the peer shut down its side.
    /// Expect ECONNRESET.
    public static func receive(_ fd: FileDescriptor, into buffer: inout [UInt8], range: Range<Int>) throws -> IOResult<Int> {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "receive range outside buffer")
        let raw = fd.rawValue
        return try buffer.withUnsafeMutableBytes { bytes in
            try Posix.nonBlockingCall("read") { recv(raw, bytes.baseAddress! + range.lowerBound, range.count, 0) }
        }
    }

    /// send(2) with MSG_NOSIGNAL: how many bytes went (maybe fewer than given).
    /// Expect EPIPE and ECONNRESET when the peer is gone.
    public static func send(_ fd: FileDescriptor, _ bytes: ArraySlice<UInt8>) throws -> IOResult<Int> {
        let raw = fd.rawValue
        return try bytes.withUnsafeBytes { pointer in
            try Posix.nonBlockingCall("write") { Glibc.send(raw, pointer.baseAddress, pointer.count, CInt(MSG_NOSIGNAL)) }
        }
    }

    /// sendmsg(2) with MSG_NOSIGNAL of several chunks in one call (gathered write).
    /// At most `maximumChunksPerSend` chunks go per call; the count says how far it got.
    public static func send(_ fd: FileDescriptor, chunks: [ArraySlice<UInt8>]) throws -> IOResult<Int> {
        try send(fd, chunks: chunks[...])
    }

    /// `send(_:chunks:)` for a slice of chunks (what is left after a partial send).
    public static func send(_ fd: FileDescriptor, chunks: ArraySlice<ArraySlice<UInt8>>) throws -> IOResult<Int> {
        if chunks.count == 1 { return try send(fd, chunks[chunks.startIndex]) }
        let count = min(chunks.count, maximumChunksPerSend)
        let first = chunks.startIndex
        let raw = fd.rawValue
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { vectors in
            // Pins each chunk's storage in turn (nested), so every pointer is valid during sendmsg.
            func pin(_ index: Int) throws -> IOResult<Int> {
                if index == count {
                    var message = msghdr()
                    message.msg_iov = vectors.baseAddress
                    message.msg_iovlen = count
                    return try Posix.nonBlockingCall("write") { sendmsg(raw, &message, CInt(MSG_NOSIGNAL)) }
                }
                return try chunks[first + index].withUnsafeBytes { bytes in
                    vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                    return try pin(index + 1)
                }
            }
            return try pin(0)
        }
    }

    /// How many chunks one gathered send takes (well under IOV_MAX, and a bounded pin depth).
    public static let maximumChunksPerSend = 64

    /// recvfrom(2) of one datagram into `buffer[range]`: its length and sender.
    /// A datagram longer than the range is cut (MSG_TRUNC not requested).
    public static func receive(
        _ fd: FileDescriptor, into buffer: inout [UInt8], range: Range<Int>, sender: inout SocketAddress?
    ) throws -> IOResult<Int> {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "receive range outside buffer")
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let raw = fd.rawValue
        let result = try buffer.withUnsafeMutableBytes { bytes in
            try withUnsafeMutablePointer(to: &storage) { storagePointer in
                try storagePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    try Posix.nonBlockingCall("recvfrom") {
                        recvfrom(raw, bytes.baseAddress! + range.lowerBound, range.count, 0, address, &length)
                    }
                }
            }
        }
        if case .done = result { sender = SocketAddress(storage: &storage, length: length) }
        return result
    }

    /// sendto(2) of one datagram. Expect EMSGSIZE (too big), ECONNREFUSED (an earlier
    /// datagram drew an ICMP port unreachable).
    public static func send(_ fd: FileDescriptor, _ bytes: ArraySlice<UInt8>, to address: SocketAddress) throws -> IOResult<Int> {
        let raw = fd.rawValue
        return try address.withSockAddr { target, length in
            try bytes.withUnsafeBytes { pointer in
                try Posix.nonBlockingCall("sendto(\(address))") {
                    sendto(raw, pointer.baseAddress, pointer.count, CInt(MSG_NOSIGNAL), target, length)
                }
            }
        }
    }

    // MARK: Names

    /// getsockname(2): the address this socket is bound to (the real port after binding port 0).
    public static func localAddress(of fd: FileDescriptor) throws -> SocketAddress? {
        try name(of: fd, function: "getsockname", getsockname)
    }

    /// getpeername(2): the connected peer. Expect ENOTCONN.
    public static func remoteAddress(of fd: FileDescriptor) throws -> SocketAddress? {
        try name(of: fd, function: "getpeername", getpeername)
    }

    private static func name(
        of fd: FileDescriptor, function: String,
        _ call: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                try Posix.call(function) { call(fd.rawValue, address, &length) }
            }
        }
        return SocketAddress(storage: &storage, length: length)
    }

    /// The destination a connection had before an iptables REDIRECT/DNAT rewrote it:
    /// getsockopt(SOL_IP, SO_ORIGINAL_DST), or (SOL_IPV6, IP6T_SO_ORIGINAL_DST) for IPv6.
    /// Expect ENOENT when the connection was not redirected (no conntrack entry) and
    /// ENOPROTOOPT when netfilter's conntrack is not loaded.
    public static func originalDestination(of fd: FileDescriptor) throws -> SocketAddress {
        let local = try localAddress(of: fd)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let isIPv6: Bool
        if case .ipv6 = local { isIPv6 = true } else { isIPv6 = false }
        let level = isIPv6 ? CInt(IPPROTO_IPV6) : CInt(SOL_IP)
        let name = isIPv6 ? CInt(MESHLAB_IP6T_SO_ORIGINAL_DST) : CInt(MESHLAB_SO_ORIGINAL_DST)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try Posix.call("getsockopt(SO_ORIGINAL_DST)") { getsockopt(fd.rawValue, level, name, pointer, &length) }
        }
        guard let address = SocketAddress(storage: &storage, length: length) else {
            throw SystemError(errno: EAFNOSUPPORT, function: "getsockopt(SO_ORIGINAL_DST)")
        }
        return address
    }

    // MARK: Options

    /// setsockopt(2) of an integer option.
    public static func setOption(_ fd: FileDescriptor, level: CInt, name: CInt, value: CInt) throws {
        var value = value
        _ = try Posix.call("setsockopt(\(level), \(name))") {
            setsockopt(fd.rawValue, level, name, &value, socklen_t(MemoryLayout<CInt>.size))
        }
    }

    /// getsockopt(2) of an integer option.
    public static func getOption(_ fd: FileDescriptor, level: CInt, name: CInt) throws -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = try Posix.call("getsockopt(\(level), \(name))") { getsockopt(fd.rawValue, level, name, &value, &length) }
        return value
    }

    /// SO_REUSEADDR: rebind a port whose old connections linger in TIME_WAIT.
    public static func setReuseAddress(_ fd: FileDescriptor, _ on: Bool = true) throws {
        try setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: on ? 1 : 0)
    }

    /// SO_REUSEPORT: several sockets (one per event loop) share one port; the kernel spreads connections.
    public static func setReusePort(_ fd: FileDescriptor, _ on: Bool = true) throws {
        try setOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: on ? 1 : 0)
    }

    /// TCP_NODELAY: send small writes at once instead of waiting (Nagle) — what request/response protocols want.
    public static func setNoDelay(_ fd: FileDescriptor, _ on: Bool = true) throws {
        try setOption(fd, level: CInt(IPPROTO_TCP), name: TCP_NODELAY, value: on ? 1 : 0)
    }

    /// SO_KEEPALIVE: the kernel probes an idle connection and resets it if the peer vanished.
    public static func setKeepAlive(_ fd: FileDescriptor, _ on: Bool = true) throws {
        try setOption(fd, level: SOL_SOCKET, name: SO_KEEPALIVE, value: on ? 1 : 0)
    }

    /// IPV6_V6ONLY: an IPv6 listener that does not also take IPv4 connections.
    public static func setIPv6Only(_ fd: FileDescriptor, _ on: Bool = true) throws {
        try setOption(fd, level: CInt(IPPROTO_IPV6), name: IPV6_V6ONLY, value: on ? 1 : 0)
    }
}
