import MeshSystem

/// Why bytes are not a DNS message. The server answers such a query with FORMERR.
public struct DNSWireError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// Fewer than the 12 header bytes.
        case shortHeader
        /// A field runs past the end of the message (or of its record's RDATA).
        case truncated
        /// A label length with the reserved top bits 01 or 10 (RFC 6891 §5 retired them).
        case badLabelType
        /// A name longer than 255 bytes once its pointers are followed.
        case nameTooLong
        /// A compression pointer that does not point strictly backwards of the previous
        /// one: the only way a pointer chain can loop.
        case badPointer
        /// RDATA whose length does not fit its type (an A record of 5 bytes, say).
        case badRecordData
        /// More than one OPT record, or one outside the additional section, or not at the root.
        case badOPT
        /// Bytes left after the last record.
        case trailingBytes
    }

    public var reason: Reason
    /// Where in the message reading failed.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "malformed DNS message at byte \(offset): \(reason)" }
}

// MARK: Reading

extension DNSMessage {
    /// Decodes the wire form (RFC 1035 §4.1; EDNS per RFC 6891). Never traps: anything
    /// malformed throws `DNSWireError`, including compression loops and trailing bytes.
    public init(decoding bytes: [UInt8]) throws(DNSWireError) {
        var reader = DNSWireReader(bytes: bytes)
        let header = try reader.readHeader()
        id = header.id
        isResponse = header.flags & 0x8000 != 0
        opcode = DNSOpcode(rawValue: UInt8(truncatingIfNeeded: header.flags >> 11))
        isAuthoritative = header.flags & 0x0400 != 0
        isTruncated = header.flags & 0x0200 != 0
        recursionDesired = header.flags & 0x0100 != 0
        recursionAvailable = header.flags & 0x0080 != 0
        authenticData = header.flags & 0x0020 != 0
        checkingDisabled = header.flags & 0x0010 != 0
        var rcode = header.flags & 0x000f

        questions = []
        for _ in 0..<header.questionCount {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            let `class` = try reader.readUInt16()
            questions.append(DNSQuestion(name: name, type: DNSRecordType(rawValue: type), class: DNSClass(rawValue: `class`)))
        }
        answers = []
        authority = []
        additional = []
        edns = nil
        for (section, count) in [(0, header.answerCount), (1, header.authorityCount), (2, header.additionalCount)] {
            for _ in 0..<count {
                let start = reader.position
                switch try reader.readRecord() {
                case .record(let record):
                    switch section {
                    case 0: answers.append(record)
                    case 1: authority.append(record)
                    default: additional.append(record)
                    }
                case .opt(let opt, let extendedRcode):
                    guard section == 2, edns == nil else { throw DNSWireError(.badOPT, at: start) }
                    edns = opt
                    rcode |= UInt16(extendedRcode) << 4
                }
            }
        }
        responseCode = DNSResponseCode(rawValue: rcode)
        if reader.position != bytes.count { throw DNSWireError(.trailingBytes, at: reader.position) }
    }

    /// The ID and flags of what may not be a whole message: enough to address a
    /// FORMERR. Nil for fewer than 12 bytes (nothing to answer to).
    public static func peekHeader(_ bytes: [UInt8]) -> (id: UInt16, flags: UInt16)? {
        guard bytes.count >= 12 else { return nil }
        return (UInt16(bytes[0]) << 8 | UInt16(bytes[1]), UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }
}

/// A cursor over a message's bytes. Every read checks bounds first.
struct DNSWireReader {
    let bytes: [UInt8]
    var position = 0

    struct Header {
        var id: UInt16
        var flags: UInt16
        var questionCount: UInt16
        var answerCount: UInt16
        var authorityCount: UInt16
        var additionalCount: UInt16
    }

    enum ReadRecord {
        case record(DNSRecord)
        case opt(EDNS, extendedRcode: UInt8)
    }

    mutating func readHeader() throws(DNSWireError) -> Header {
        guard bytes.count >= 12 else { throw DNSWireError(.shortHeader, at: 0) }
        return Header(id: try readUInt16(), flags: try readUInt16(), questionCount: try readUInt16(),
                      answerCount: try readUInt16(), authorityCount: try readUInt16(), additionalCount: try readUInt16())
    }

    mutating func readUInt8() throws(DNSWireError) -> UInt8 {
        guard position < bytes.count else { throw DNSWireError(.truncated, at: position) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readUInt16() throws(DNSWireError) -> UInt16 {
        guard position + 2 <= bytes.count else { throw DNSWireError(.truncated, at: position) }
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    mutating func readUInt32() throws(DNSWireError) -> UInt32 {
        UInt32(try readUInt16()) << 16 | UInt32(try readUInt16())
    }

    mutating func readBytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, position + count <= bytes.count else { throw DNSWireError(.truncated, at: position) }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// A possibly compressed name (RFC 1035 §4.1.4). Each pointer must point before the
    /// previous one (or before itself, for the first): a chain then always ends, so a
    /// crafted loop is an error rather than a hang.
    mutating func readName() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var cursor = position
        var limit = position  // the next pointer must point below this
        var followedPointer = false
        while true {
            guard cursor < bytes.count else { throw DNSWireError(.truncated, at: cursor) }
            let length = bytes[cursor]
            switch length & 0xc0 {
            case 0x00:
                if length == 0 {
                    if !followedPointer { position = cursor + 1 }
                    return DNSName(unchecked: labels)
                }
                let start = cursor + 1
                let end = start + Int(length)
                guard end <= bytes.count else { throw DNSWireError(.truncated, at: cursor) }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maximumWireLength else { throw DNSWireError(.nameTooLong, at: cursor) }
                labels.append(Array(bytes[start..<end]))
                cursor = end
            case 0xc0:
                guard cursor + 1 < bytes.count else { throw DNSWireError(.truncated, at: cursor) }
                let target = Int(length & 0x3f) << 8 | Int(bytes[cursor + 1])
                guard target < limit, target < cursor else { throw DNSWireError(.badPointer, at: cursor) }
                if !followedPointer { position = cursor + 2 }
                followedPointer = true
                limit = target
                cursor = target
            default:
                throw DNSWireError(.badLabelType, at: cursor)
            }
        }
    }

    mutating func readRecord() throws(DNSWireError) -> ReadRecord {
        let start = position
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let `class` = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        let end = position + length
        guard end <= bytes.count else { throw DNSWireError(.truncated, at: position) }

        if type == .opt {
            guard name.isRoot else { throw DNSWireError(.badOPT, at: start) }
            var options: [EDNSOption] = []
            while position < end {
                let code = try readUInt16()
                let optionLength = Int(try readUInt16())
                guard position + optionLength <= end else { throw DNSWireError(.truncated, at: position) }
                options.append(EDNSOption(code: code, data: try readBytes(optionLength)))
            }
            guard position == end else { throw DNSWireError(.badOPT, at: start) }
            let opt = EDNS(udpPayloadSize: `class`, version: UInt8(truncatingIfNeeded: ttl >> 16),
                           dnssecOK: ttl & 0x8000 != 0, otherFlags: UInt16(truncatingIfNeeded: ttl & 0x7fff),
                           options: options)
            return .opt(opt, extendedRcode: UInt8(truncatingIfNeeded: ttl >> 24))
        }

        let data: DNSRecordData
        switch type {
        case .a:
            guard length == 4 else { throw DNSWireError(.badRecordData, at: position) }
            data = .a(IPv4Address(rawValue: try readUInt32()))
        case .aaaa:
            guard length == 16, let address = IPv6Address(bytes: try readBytes(16)) else {
                throw DNSWireError(.badRecordData, at: position)
            }
            data = .aaaa(address)
        case .ns: data = .ns(try readName())
        case .cname: data = .cname(try readName())
        case .ptr: data = .ptr(try readName())
        case .soa:
            data = .soa(DNSSOA(primaryServer: try readName(), mailbox: try readName(), serial: try readUInt32(),
                               refresh: try readUInt32(), retry: try readUInt32(), expire: try readUInt32(),
                               minimum: try readUInt32()))
        case .srv:
            data = .srv(DNSSRV(priority: try readUInt16(), weight: try readUInt16(), port: try readUInt16(),
                               target: try readName()))
        case .txt:
            var strings: [[UInt8]] = []
            while position < end { strings.append(try readBytes(Int(try readUInt8()))) }
            data = .txt(strings)
        default:
            data = .other(type, try readBytes(length))
        }
        // Typed RDATA must fill its length exactly: no more (read past), no less (junk inside).
        guard position == end else { throw DNSWireError(.badRecordData, at: start) }
        return .record(DNSRecord(name: name, class: DNSClass(rawValue: `class`), ttl: ttl, data: data))
    }
}

// MARK: Writing

extension DNSMessage {
    /// The wire form, names compressed (RFC 1035 §4.1.4). Counts past 65535 and
    /// messages past 65535 bytes are not DNS: use `encoded(fittingIn:)` for anything
    /// that goes on a wire.
    public func encoded() -> [UInt8] {
        var writer = DNSWireWriter()
        writer.writeUInt16(id)
        var flags = UInt16(opcode.rawValue) << 11 | responseCode.rawValue & 0x000f
        if isResponse { flags |= 0x8000 }
        if isAuthoritative { flags |= 0x0400 }
        if isTruncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        writer.writeUInt16(flags)
        writer.writeUInt16(UInt16(truncatingIfNeeded: questions.count))
        writer.writeUInt16(UInt16(truncatingIfNeeded: answers.count))
        writer.writeUInt16(UInt16(truncatingIfNeeded: authority.count))
        writer.writeUInt16(UInt16(truncatingIfNeeded: additional.count + (edns == nil ? 0 : 1)))
        for question in questions {
            writer.writeName(question.name)
            writer.writeUInt16(question.type.rawValue)
            writer.writeUInt16(question.class.rawValue)
        }
        for record in answers { writer.writeRecord(record) }
        for record in authority { writer.writeRecord(record) }
        for record in additional { writer.writeRecord(record) }
        if let edns {
            writer.bytes.append(0)  // the root
            writer.writeUInt16(DNSRecordType.opt.rawValue)
            writer.writeUInt16(edns.udpPayloadSize)
            let extendedRcode = UInt32(responseCode.rawValue >> 4)
            writer.writeUInt32(extendedRcode << 24 | UInt32(edns.version) << 16 | (edns.dnssecOK ? 0x8000 : 0)
                | UInt32(edns.otherFlags & 0x7fff))
            let lengthAt = writer.beginLength()
            for option in edns.options {
                writer.writeUInt16(option.code)
                writer.writeUInt16(UInt16(truncatingIfNeeded: option.data.count))
                writer.bytes.append(contentsOf: option.data)
            }
            writer.endLength(at: lengthAt)
        }
        return writer.bytes
    }

    /// The wire form in at most `limit` bytes (a UDP answer: 512, or the payload size
    /// EDNS agreed on; 65535 over TCP). What does not fit goes, least needed first:
    /// the additional section (optional data, RFC 2181 §9: no TC), then authority and
    /// the answers past the last whole one that fits, with TC set so the client asks
    /// again over TCP. The OPT record always stays (RFC 6891 §7).
    public func encoded(fittingIn limit: Int) -> [UInt8] {
        let whole = encoded()
        if whole.count <= limit { return whole }
        var trimmed = self
        trimmed.additional = []
        let withoutAdditional = trimmed.encoded()
        if withoutAdditional.count <= limit { return withoutAdditional }

        trimmed.authority = []
        trimmed.isTruncated = true
        let answers = self.answers
        // The size grows with the number of answers kept: find the most that fit.
        var low = 0
        var high = answers.count
        while low < high {
            let mid = (low + high + 1) / 2
            trimmed.answers = Array(answers.prefix(mid))
            if trimmed.encoded().count <= limit { low = mid } else { high = mid - 1 }
        }
        trimmed.answers = Array(answers.prefix(low))
        let result = trimmed.encoded()
        if result.count <= limit { return result }
        // Not even the question fits (a limit below any real one): the header alone says TC.
        trimmed.questions = []
        trimmed.edns = nil
        trimmed.answers = []
        return Array(trimmed.encoded().prefix(max(limit, 12)))
    }
}

/// Appends a message's wire form, remembering where each name suffix was written.
struct DNSWireWriter {
    var bytes: [UInt8] = []
    /// Suffixes already written, byte for byte (so a pointer never changes the case of
    /// what it stands for), and their offsets; only offsets a pointer can reach (< 0x4000).
    private var suffixOffsets: [[[UInt8]]: Int] = [:]

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(value >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: value))
    }

    /// Writes `name`, ending in a pointer to the longest suffix already written when
    /// `compress` (RFC 3597 §4: only names in well-known RDATA and the owner names).
    mutating func writeName(_ name: DNSName, compress: Bool = true) {
        let labels = name.labels
        for index in labels.indices {
            let suffix = Array(labels[index...])
            if compress, let offset = suffixOffsets[suffix] {
                writeUInt16(0xc000 | UInt16(offset))
                return
            }
            if bytes.count < 0x4000 { suffixOffsets[suffix] = bytes.count }
            bytes.append(UInt8(labels[index].count))
            bytes.append(contentsOf: labels[index])
        }
        bytes.append(0)
    }

    mutating func writeRecord(_ record: DNSRecord) {
        writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.class.rawValue)
        writeUInt32(record.ttl)
        let lengthAt = beginLength()
        switch record.data {
        case .a(let address): writeUInt32(address.rawValue)
        case .aaaa(let address): bytes.append(contentsOf: address.bytes)
        case .ns(let name), .cname(let name), .ptr(let name): writeName(name)
        case .soa(let soa):
            writeName(soa.primaryServer)
            writeName(soa.mailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .srv(let srv):
            writeUInt16(srv.priority)
            writeUInt16(srv.weight)
            writeUInt16(srv.port)
            writeName(srv.target, compress: false)  // RFC 2782: "name compression is not to be used"
        case .txt(let strings):
            for string in strings {
                let piece = string.prefix(255)
                bytes.append(UInt8(piece.count))
                bytes.append(contentsOf: piece)
            }
        case .other(_, let data): bytes.append(contentsOf: data)
        }
        endLength(at: lengthAt)
    }

    /// Leaves room for an RDLENGTH; `endLength` fills it in.
    mutating func beginLength() -> Int {
        writeUInt16(0)
        return bytes.count
    }

    mutating func endLength(at start: Int) {
        let length = UInt16(truncatingIfNeeded: bytes.count - start)
        bytes[start - 2] = UInt8(length >> 8)
        bytes[start - 1] = UInt8(truncatingIfNeeded: length)
    }
}

// MARK: TCP framing

/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message preceded by its length in two bytes.
public enum DNSTCPFraming {
    /// `message` with its length prefix; nil when longer than 65535 bytes.
    public static func frame(_ message: [UInt8]) -> [UInt8]? {
        guard message.count <= 0xffff else { return nil }
        return [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
    }

    /// Takes the next whole message off the front of `buffer` (reader moved past it);
    /// nil while the buffer holds only part of one.
    public static func nextMessage(from buffer: inout [UInt8]) -> [UInt8]? {
        guard buffer.count >= 2 else { return nil }
        let length = Int(buffer[0]) << 8 | Int(buffer[1])
        guard buffer.count >= 2 + length else { return nil }
        let message = Array(buffer[2..<2 + length])
        buffer.removeFirst(2 + length)
        return message
    }
}
