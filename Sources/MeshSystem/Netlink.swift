#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import Synchronization

/// One netlink request: a message type, its flags and its payload (the
/// family header and attributes, already encoded). The socket adds the
/// 16-byte nlmsghdr with a sequence number and NLM_F_REQUEST|NLM_F_ACK.
public struct NetlinkRequest: Sendable, Hashable {
    public var type: UInt16
    public var flags: UInt16
    public var payload: [UInt8]
    /// What the request does, for error messages: `RTM_NEWLINK veth mlv1a2b3c`.
    public var label: String

    public init(type: UInt16, flags: UInt16 = 0, payload: [UInt8], label: String) {
        self.type = type
        self.flags = flags
        self.payload = payload
        self.label = label
    }

    public static let flagRequest: UInt16 = 0x1
    public static let flagAck: UInt16 = 0x4
    public static let flagReplace: UInt16 = 0x100
    public static let flagExclusive: UInt16 = 0x200
    public static let flagCreate: UInt16 = 0x400

    /// The whole message with its header, as the kernel reads it.
    public func encoded(sequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + payload.count)
        Netlink.append32(UInt32(16 + payload.count), to: &bytes)
        Netlink.append16(type, to: &bytes)
        Netlink.append16(flags | Self.flagRequest | Self.flagAck, to: &bytes)
        Netlink.append32(sequence, to: &bytes)
        Netlink.append32(0, to: &bytes)  // port id: the kernel's
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }
}

/// A reply the kernel sent for a request (not the ACK): e.g. the RTM_NEWLINK
/// that answers an RTM_GETLINK.
public struct NetlinkReply: Sendable, Hashable {
    public var type: UInt16
    public var payload: [UInt8]
    /// Which request (its index in the batch) it answers.
    public var requestIndex: Int
}

/// Framing shared by the socket and the message builders (native byte order, as netlink is).
public enum Netlink {
    public static let messageError: UInt16 = 2
    public static let messageDone: UInt16 = 3

    public static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    public static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    public static func read16(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt16 {
        var value: UInt16 = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for i in 0..<2 { raw[i] = bytes[bytes.startIndex + offset + i] }
        }
        return value
    }

    public static func read32(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for i in 0..<4 { raw[i] = bytes[bytes.startIndex + offset + i] }
        }
        return value
    }

    /// Splits a datagram into (type, flags, sequence, payload) messages; stops at a malformed length.
    public static func messages(in datagram: ArraySlice<UInt8>) -> [(type: UInt16, flags: UInt16, sequence: UInt32, payload: ArraySlice<UInt8>)] {
        var out: [(UInt16, UInt16, UInt32, ArraySlice<UInt8>)] = []
        var offset = 0
        while datagram.count - offset >= 16 {
            let length = Int(read32(datagram, at: offset))
            guard length >= 16, offset + length <= datagram.count else { break }
            let base = datagram.startIndex + offset
            out.append((read16(datagram, at: offset + 4), read16(datagram, at: offset + 6), read32(datagram, at: offset + 8),
                        datagram[(base + 16)..<(base + length)]))
            offset += (length + 3) & ~3
        }
        return out
    }

    /// An NLMSG_ERROR payload: the errno (0 for an ACK) and, with extended
    /// ACKs, the kernel's message (`Unknown device type`).
    public static func errorPayload(_ payload: ArraySlice<UInt8>, flags: UInt16) -> (errno: CInt, message: String?) {
        guard payload.count >= 4 else { return (EIO, "short NLMSG_ERROR") }
        let code = CInt(bitPattern: read32(payload, at: 0))
        // Then the request's header, and its payload unless NLM_F_CAPPED (0x100).
        guard payload.count >= 20 else { return (-code, nil) }
        let echoed = flags & 0x100 != 0 ? 16 : Int(read32(payload, at: 4))
        var offset = 4 + ((echoed + 3) & ~3)
        guard flags & 0x200 != 0 else { return (-code, nil) }  // NLM_F_ACK_TLVS
        while payload.count - offset >= 4 {
            let length = Int(read16(payload, at: offset))
            let type = read16(payload, at: offset + 2) & 0x3FFF
            guard length >= 4, offset + length <= payload.count else { break }
            if type == 1 {  // NLMSGERR_ATTR_MSG
                let start = payload.startIndex + offset + 4
                let text = payload[start..<(payload.startIndex + offset + length)].prefix { $0 != 0 }
                return (-code, String(decoding: text, as: UTF8.self))
            }
            offset += (length + 3) & ~3
        }
        return (-code, nil)
    }
}

/// A NETLINK_ROUTE socket: links, addresses and routes of the network
/// namespace it was opened in (the calling thread's, at `init`).
///
/// Requests go out in one sendmsg per batch and the kernel answers them in
/// order before `send` returns, so there is no waiting: it is as fast as
/// the kernel work itself, with no process to start.
public final class NetlinkSocket: Sendable {
    public let descriptor: FileDescriptor
    /// The next sequence number; held for a whole batch, so batches from
    /// several threads do not read each other's answers.
    private let sequence = Mutex<UInt32>(UInt32(truncatingIfNeeded: MonotonicClock.now()))

    /// socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) in the calling thread's
    /// network namespace. Expect EPERM/EACCES rarely; EAFNOSUPPORT without netlink.
    public init() throws(SystemError) {
        let raw = try Posix.call("socket(AF_NETLINK)") {
            socket(AF_NETLINK, CInt(SOCK_RAW.rawValue) | CInt(SOCK_CLOEXEC.rawValue), CInt(MESHLAB_NETLINK_ROUTE))
        }
        descriptor = FileDescriptor(owning: raw)
        var address = meshlab_sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        _ = try withUnsafePointer(to: &address) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (socketAddress) throws(SystemError) in
                try Posix.call("bind(AF_NETLINK)") {
                    bind(raw, socketAddress, socklen_t(MemoryLayout<meshlab_sockaddr_nl>.size))
                }
            }
        }
        var on: CInt = 1
        _ = setsockopt(raw, CInt(MESHLAB_SOL_NETLINK), CInt(MESHLAB_NETLINK_EXT_ACK), &on, socklen_t(MemoryLayout<CInt>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A failed request: the kernel's errno and message, named by the request's label.
    public struct RequestError: Error, Sendable, CustomStringConvertible {
        public var label: String
        public var errno: CInt
        public var message: String?

        public var description: String {
            "\(label): \(message.map { $0 + ": " } ?? "")\(String(cString: strerror(errno))) (errno \(errno))"
        }
    }

    /// Sends `requests` in one datagram and waits for each one's ACK. Returns
    /// the replies (e.g. answers to GET requests). The kernel handles every
    /// request even after one fails; the first failure is thrown.
    @discardableResult
    public func send(_ requests: [NetlinkRequest]) throws -> [NetlinkReply] {
        guard !requests.isEmpty else { return [] }
        return try sequence.withLock { next throws -> [NetlinkReply] in
            let first = next
            next &+= UInt32(requests.count)
            return try exchange(requests, firstSequence: first)
        }
    }

    private func exchange(_ requests: [NetlinkRequest], firstSequence first: UInt32) throws -> [NetlinkReply] {
        var datagram: [UInt8] = []
        for (index, request) in requests.enumerated() { datagram += request.encoded(sequence: first &+ UInt32(index)) }
        let sent = try datagram.withUnsafeBytes { raw throws(SystemError) in
            try Posix.call("sendto(netlink)") { Glibc.send(descriptor.rawValue, raw.baseAddress, raw.count, 0) }
        }
        guard sent == datagram.count else { throw SystemError(errno: EMSGSIZE, function: "sendto(netlink): short write") }

        var replies: [NetlinkReply] = []
        var acknowledged = Set<Int>()
        var failure: RequestError?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while acknowledged.count < requests.count {
            let count = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in
                try Posix.call("recv(netlink)") { recv(descriptor.rawValue, raw.baseAddress, raw.count, 0) }
            }
            for message in Netlink.messages(in: buffer[0..<count]) {
                let index = Int(message.sequence &- first)
                guard index >= 0 && index < requests.count else { continue }
                if message.type == Netlink.messageError {
                    acknowledged.insert(index)
                    let (code, text) = Netlink.errorPayload(message.payload, flags: message.flags)
                    if code != 0 && failure == nil {
                        failure = RequestError(label: requests[index].label, errno: code, message: text)
                    }
                } else if message.type != Netlink.messageDone {
                    replies.append(NetlinkReply(type: message.type, payload: Array(message.payload), requestIndex: index))
                }
            }
        }
        if let failure { throw failure }
        return replies
    }

    public func close() { try? descriptor.close() }
}
