import MeshSystem

/// The few DNS messages a stub resolver needs (RFC 1035): an A query, and the
/// addresses in the answer to it. Pure bytes in, bytes out.
enum DNSMessage {
    enum ResponseCode: Equatable, Sendable {
        case noError
        case nameError  // NXDOMAIN
        case other(Int)
    }

    struct Answer: Equatable, Sendable {
        var code: ResponseCode
        var addresses: [IPv4Address]
        /// The smallest TTL among the addresses, in seconds.
        var ttl: Int
        /// The server cut the answer short (TC): it did not fit in a datagram.
        var truncated: Bool
    }

    enum ParseError: Error, Equatable {
        case tooShort
        case notAResponse
        case wrongID
        case badName
    }

    static let typeA: UInt16 = 1
    static let classIN: UInt16 = 1

    /// An A query for `name` (no trailing dot) with recursion desired; nil when `name`
    /// cannot be a DNS name (an empty label, a label over 63 bytes, over 253 bytes in all).
    static func query(id: UInt16, name: String) -> [UInt8]? {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253,
              labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(18 + name.utf8.count)
        append16(id, to: &bytes)
        append16(0x0100, to: &bytes)  // RD
        append16(1, to: &bytes)  // QDCOUNT
        append16(0, to: &bytes)
        append16(0, to: &bytes)
        append16(0, to: &bytes)
        for label in labels {
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes.append(0)
        append16(typeA, to: &bytes)
        append16(classIN, to: &bytes)
        return bytes
    }

    /// The response code and A records of a response to query `id`.
    static func parseResponse(_ bytes: [UInt8], id: UInt16) throws(ParseError) -> Answer {
        guard bytes.count >= 12 else { throw .tooShort }
        guard read16(bytes, 0) == id else { throw .wrongID }
        let flags = read16(bytes, 2)
        guard flags & 0x8000 != 0 else { throw .notAResponse }
        let code: ResponseCode =
            switch Int(flags & 0x000F) {
            case 0: .noError
            case 3: .nameError
            case let other: .other(other)
            }
        let questions = Int(read16(bytes, 4))
        let answers = Int(read16(bytes, 6))
        var offset = 12
        for _ in 0..<questions {
            offset = try skipName(bytes, at: offset)
            offset += 4
        }
        var addresses: [IPv4Address] = []
        var ttl = Int.max
        for _ in 0..<answers {
            offset = try skipName(bytes, at: offset)
            guard offset + 10 <= bytes.count else { throw .tooShort }
            let type = read16(bytes, offset)
            let recordClass = read16(bytes, offset + 2)
            let recordTTL = Int(read16(bytes, offset + 4)) << 16 | Int(read16(bytes, offset + 6))
            let length = Int(read16(bytes, offset + 8))
            offset += 10
            guard offset + length <= bytes.count else { throw .tooShort }
            if type == typeA && recordClass == classIN && length == 4 {
                addresses.append(IPv4Address(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]))
                ttl = min(ttl, recordTTL)
            }
            offset += length
        }
        return Answer(code: code, addresses: addresses, ttl: addresses.isEmpty ? 0 : ttl,
                      truncated: flags & 0x0200 != 0)
    }

    /// The offset just past the (possibly compressed) name at `offset`.
    private static func skipName(_ bytes: [UInt8], at offset: Int) throws(ParseError) -> Int {
        var offset = offset
        while true {
            guard offset < bytes.count else { throw .tooShort }
            let length = Int(bytes[offset])
            if length == 0 { return offset + 1 }
            if length & 0xC0 == 0xC0 { return offset + 2 }  // a pointer ends the name
            guard length & 0xC0 == 0 else { throw .badName }
            offset += 1 + length
        }
    }

    private static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    private static func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}
