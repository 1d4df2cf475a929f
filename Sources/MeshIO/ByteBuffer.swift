import MeshSystem

/// Bytes with a read position: what streams read into and write from.
///
/// Storage is one `[UInt8]` (copy-on-write, so a buffer is a cheap value and
/// `Sendable`), of which `storage[readerIndex..<writerIndex]` is readable and
/// `storage[writerIndex...]` is spare room that the next socket read fills in
/// place. Why this shape:
///  - a connection keeps one buffer for its life: reads append into spare room
///    (no allocation per read), a parser consumes from the front by moving
///    `readerIndex` (no copying per request), and when everything is consumed
///    both indices go back to 0 so the same storage is reused;
///  - `[UInt8]` is what the rest of meshlab speaks (HTTP bodies, JSON), so a
///    buffer made from an array or turned into one copies nothing in the common
///    case (`ByteBuffer(bytes)`, `readableBytesView`);
///  - writes take buffers as they are: a constant response body shared by every
///    connection is written without being copied (gathered with the head by sendmsg).
/// Keep the buffer uniquely owned while reading into it: a live `readableBytesView`
/// slice makes the next read copy the storage (copy-on-write), not corrupt it.
public struct ByteBuffer: Sendable, Hashable, CustomStringConvertible {
    /// Backing bytes; `count` is the capacity in use (spare room is zero-filled).
    @usableFromInline var storage: [UInt8]
    /// First readable byte.
    public private(set) var readerIndex: Int
    /// One past the last readable byte; where the next write lands.
    public private(set) var writerIndex: Int


    public init() {
        storage = []
        readerIndex = 0
        writerIndex = 0
    }

    /// An empty buffer with room for `capacity` bytes.
    public init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: capacity)
        readerIndex = 0
        writerIndex = 0
    }

    /// A buffer whose readable bytes are `bytes` (no copy: the array becomes the storage).
    public init(_ bytes: [UInt8]) {
        storage = bytes
        readerIndex = 0
        writerIndex = bytes.count
    }

    public init(_ bytes: some Sequence<UInt8>) {
        self.init(Array(bytes))
    }

    public init(string: String) {
        self.init(Array(string.utf8))
    }

    // MARK: Reading

    /// How many bytes are readable.
    @inlinable public var readableBytes: Int { writerIndex - readerIndex }

    @inlinable public var isEmpty: Bool { writerIndex == readerIndex }

    /// The readable bytes as a slice of the storage (no copy).
    @inlinable public var readableBytesView: ArraySlice<UInt8> { storage[readerIndex..<writerIndex] }

    /// The readable bytes as a new array (a copy unless they are the whole storage).
    public var readableArray: [UInt8] {
        if readerIndex == 0 && writerIndex == storage.count { return storage }
        return Array(storage[readerIndex..<writerIndex])
    }

    /// Calls `body` with the readable bytes in place, e.g. to feed a parser.
    @inlinable
    public func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let range = readerIndex..<writerIndex
        return try storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[range]))
        }
    }

    /// Marks `count` bytes as consumed. When nothing readable is left, both indices
    /// return to 0 so the storage is reused from its start.
    public mutating func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= readableBytes, "moveReaderIndex past the readable bytes")
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Takes up to `count` bytes from the front.
    public mutating func readBytes(_ count: Int) -> [UInt8] {
        let taken = Swift.min(count, readableBytes)
        let bytes = Array(storage[readerIndex..<(readerIndex + taken)])
        moveReaderIndex(forwardBy: taken)
        return bytes
    }

    /// Takes up to `count` bytes from the front as a buffer of their own.
    public mutating func readSlice(_ count: Int) -> ByteBuffer {
        ByteBuffer(readBytes(count))
    }

    /// Takes everything readable as a string (invalid UTF-8 is repaired).
    public mutating func readString() -> String {
        let text = String(decoding: storage[readerIndex..<writerIndex], as: UTF8.self)
        moveReaderIndex(forwardBy: readableBytes)
        return text
    }

    /// Drops all bytes, keeping the storage.
    public mutating func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    // MARK: Writing

    /// Spare room after `writerIndex`.
    public var writableBytes: Int { storage.count - writerIndex }

    /// Appends bytes.
    public mutating func writeBytes(_ bytes: some Collection<UInt8>) {
        let count = bytes.count
        reserveWritableBytes(count)
        storage.replaceSubrange(writerIndex..<(writerIndex + count), with: bytes)
        writerIndex += count
    }

    /// Appends an array's bytes (one copy). The generic version above, called from another
    /// module, goes through the unspecialised generic path; this one is a plain memmove.
    public mutating func writeBytes(_ bytes: [UInt8]) {
        let count = bytes.count
        reserveWritableBytes(count)
        storage.replaceSubrange(writerIndex..<(writerIndex + count), with: bytes)
        writerIndex += count
    }

    public mutating func writeBuffer(_ other: ByteBuffer) {
        writeBytes(other.readableBytesView)
    }

    public mutating func writeString(_ string: String) {
        writeBytes(string.utf8)
    }

    /// Makes sure at least `count` bytes of spare room follow `writerIndex`: first by moving
    /// the readable bytes to the front (when that is enough and worthwhile), else by growing.
    public mutating func reserveWritableBytes(_ count: Int) {
        if writableBytes >= count { return }
        if readerIndex > 0 && storage.count - readableBytes >= count {
            discardReadBytes()
            if writableBytes >= count { return }
        }
        let needed = writerIndex + count
        let grown = Swift.max(needed, Swift.max(storage.count * 2, 64))
        storage.append(contentsOf: repeatElement(0, count: grown - storage.count))
    }

    /// Moves the readable bytes to the start of the storage, reclaiming consumed room.
    public mutating func discardReadBytes() {
        guard readerIndex > 0 else { return }
        let count = readableBytes
        // A plain loop, not a slice copy: a slice would share (and so copy) the storage.
        for index in 0..<count { storage[index] = storage[readerIndex + index] }
        readerIndex = 0
        writerIndex = count
    }

    /// Lets `fill` write into the spare room (at least `minimumWritable` bytes of it, at
    /// most `maximum`), then advances `writerIndex` by what it returns. The storage array
    /// is passed whole with the range to fill, so the unsafe part (the syscall) stays in MeshSystem.
    public mutating func writeWithStorage(
        minimumWritable: Int, maximum: Int,
        _ fill: (inout [UInt8], Range<Int>) throws -> Int
    ) rethrows -> Int {
        reserveWritableBytes(minimumWritable)
        let end = writerIndex + Swift.min(writableBytes, maximum)
        let written = try fill(&storage, writerIndex..<end)
        precondition(written >= 0 && written <= end - writerIndex, "fill reported more bytes than it had room for")
        writerIndex += written
        return written
    }

    // MARK: Value semantics

    /// Two buffers are equal when their readable bytes are.
    public static func == (lhs: ByteBuffer, rhs: ByteBuffer) -> Bool {
        lhs.readableBytesView.elementsEqual(rhs.readableBytesView)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(readableBytes)
        for byte in readableBytesView { hasher.combine(byte) }
    }

    public var description: String {
        let preview = readableBytesView.prefix(64)
        let text = String(decoding: preview, as: UTF8.self)
        return "ByteBuffer(\(readableBytes) bytes: \(text.debugDescription)\(readableBytes > 64 ? "…" : ""))"
    }
}
