import MeshModel

/// One entry of a log segment or snapshot, and its byte format.
///
/// A file is an 8-byte magic (`MESHWAL1` for log segments, `MESHSNP1` for
/// snapshots) followed by frames:
/// ```
/// frame   := length:u32le  crc:u32le  payload[length]      crc = CRC-32 of payload
/// payload := type:u8  revision:u64le  body
///   put    (1): group:str resource:str namespace:str name:str  object:JSON (rest of payload)
///   delete (2): group:str resource:str namespace:str name:str
///   header (3): objectCount:u64le                  (first frame of a snapshot)
/// str     := length:u32le  UTF-8 bytes
/// ```
/// Records carry the revision they were committed at, so replay can skip what
/// a snapshot already holds and check that revisions only go up. A put holds
/// the whole object as compact JSON, exactly as stored (resourceVersion
/// included); a delete holds only the key, since replay knows the last state.
enum LogRecord: Equatable {
    case put(revision: UInt64, key: ObjectKey, object: JSONValue)
    case delete(revision: UInt64, key: ObjectKey)
    case snapshotHeader(revision: UInt64, objectCount: UInt64)

    static let logMagic: [UInt8] = Array("MESHWAL1".utf8)
    static let snapshotMagic: [UInt8] = Array("MESHSNP1".utf8)
    static let frameHeaderSize = 8
    /// Larger frames are refused on write and treated as damage on read, so a
    /// corrupted length cannot make recovery allocate gigabytes.
    static let maxPayloadSize = 64 << 20

    var revision: UInt64 {
        switch self {
        case .put(let revision, _, _), .delete(let revision, _), .snapshotHeader(let revision, _): revision
        }
    }

    // MARK: Encoding

    /// Appends this record's frame to `out`.
    func encode(into out: inout [UInt8]) {
        var payload: [UInt8] = []
        switch self {
        case .put(let revision, let key, let object):
            payload.append(1)
            Self.append(revision, to: &payload)
            Self.append(key, to: &payload)
            payload.append(contentsOf: object.serialized().utf8)
        case .delete(let revision, let key):
            payload.append(2)
            Self.append(revision, to: &payload)
            Self.append(key, to: &payload)
        case .snapshotHeader(let revision, let count):
            payload.append(3)
            Self.append(revision, to: &payload)
            Self.append(count, to: &payload)
        }
        Self.append(UInt32(payload.count), to: &out)
        Self.append(CRC32.checksum(payload), to: &out)
        out.append(contentsOf: payload)
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    private static func append(_ key: ObjectKey, to out: inout [UInt8]) {
        for string in [key.resource.group, key.resource.resource, key.namespace, key.name] {
            append(UInt32(string.utf8.count), to: &out)
            out.append(contentsOf: string.utf8)
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    // MARK: Decoding

    /// What is at `offset` of a file's bytes.
    enum Scan: Equatable {
        /// A whole frame whose checksum matches; the next frame starts at `next`.
        case record(LogRecord, next: Int)
        /// Nothing more: `offset` is the end of the bytes.
        case end
        /// Not a valid frame; `reason` says why. `frameEnd` is where the frame
        /// would end by its length field when that length is plausible and fits
        /// in the file, which tells a torn tail from damage in the middle.
        case damaged(reason: String, frameEnd: Int?)
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Scan {
        let remaining = bytes.count - offset
        if remaining == 0 { return .end }
        if remaining < frameHeaderSize {
            return .damaged(reason: "truncated frame header (\(remaining) of \(frameHeaderSize) bytes)", frameEnd: nil)
        }
        let length = Int(readInteger(UInt32.self, bytes, at: offset))
        let crc = readInteger(UInt32.self, bytes, at: offset + 4)
        if length == 0 { return .damaged(reason: "frame with length 0", frameEnd: nil) }
        if length > maxPayloadSize {
            return .damaged(reason: "frame length \(length) exceeds the limit of \(maxPayloadSize)", frameEnd: nil)
        }
        if remaining - frameHeaderSize < length {
            return .damaged(reason: "truncated frame (\(remaining - frameHeaderSize) of \(length) payload bytes)",
                            frameEnd: nil)
        }
        let start = offset + frameHeaderSize
        let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
        let end = start + length
        guard CRC32.checksum(payload) == crc else { return .damaged(reason: "checksum mismatch", frameEnd: end) }
        switch decodePayload(payload) {
        case .success(let record): return .record(record, next: end)
        case .failure(let failure): return .damaged(reason: failure.reason, frameEnd: end)
        }
    }

    struct DecodeFailure: Error { var reason: String }

    private static func decodePayload(_ payload: UnsafeRawBufferPointer) -> Result<LogRecord, DecodeFailure> {
        var cursor = 0
        func integer<T: FixedWidthInteger>(_: T.Type) throws(DecodeFailure) -> T {
            guard payload.count - cursor >= MemoryLayout<T>.size else { throw DecodeFailure(reason: "malformed record: too short") }
            defer { cursor += MemoryLayout<T>.size }
            return readInteger(T.self, payload, at: cursor)
        }
        func string() throws(DecodeFailure) -> String {
            let length = Int(try integer(UInt32.self))
            guard payload.count - cursor >= length else { throw DecodeFailure(reason: "malformed record: string past the end") }
            defer { cursor += length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: payload[cursor..<cursor + length]), as: UTF8.self)
        }
        func key() throws(DecodeFailure) -> ObjectKey {
            let group = try string()
            let resource = try string()
            let namespace = try string()
            let name = try string()
            return ObjectKey(GroupResource(group: group, resource: resource), namespace: namespace, name: name)
        }
        do throws(DecodeFailure) {
            let type = try integer(UInt8.self)
            let revision = try integer(UInt64.self)
            switch type {
            case 1:
                let key = try key()
                let json = UnsafeRawBufferPointer(rebasing: payload[cursor...])
                do {
                    let object = try JSONValue(parsing: json.assumingMemoryBound(to: UInt8.self))
                    return .success(.put(revision: revision, key: key, object: object))
                } catch {
                    throw DecodeFailure(reason: "malformed record: object JSON: \(error)")
                }
            case 2:
                let key = try key()
                guard cursor == payload.count else { throw DecodeFailure(reason: "malformed record: trailing bytes") }
                return .success(.delete(revision: revision, key: key))
            case 3:
                let count = try integer(UInt64.self)
                guard cursor == payload.count else { throw DecodeFailure(reason: "malformed record: trailing bytes") }
                return .success(.snapshotHeader(revision: revision, objectCount: count))
            default:
                throw DecodeFailure(reason: "malformed record: unknown type \(type)")
            }
        } catch {
            return .failure(error)
        }
    }

    private static func readInteger<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size])) }
        return T(littleEndian: value)
    }
}
