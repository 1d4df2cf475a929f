import MeshIO
import Testing

@Suite struct ByteBufferTests {
    @Test func readerIndexConsumesAndResetsWhenEmpty() {
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        #expect(buffer.readableBytes == 16)
        buffer.moveReaderIndex(forwardBy: 4)
        #expect(buffer.readerIndex == 4)
        #expect(String(decoding: buffer.readableBytesView.prefix(1), as: UTF8.self) == "/")
        buffer.moveReaderIndex(forwardBy: 12)
        #expect(buffer.isEmpty)
        #expect(buffer.readerIndex == 0 && buffer.writerIndex == 0)
    }

    @Test func writesGrowAndCompactInsteadOfGrowingWhenConsumedRoomSuffices() {
        var buffer = ByteBuffer(capacity: 8)
        buffer.writeString("abcdefgh")
        #expect(buffer.writableBytes == 0)
        buffer.moveReaderIndex(forwardBy: 6)
        buffer.reserveWritableBytes(4)
        #expect(buffer.readerIndex == 0)
        #expect(buffer.readableArray == Array("gh".utf8))
        #expect(buffer.writableBytes >= 4)
        buffer.writeString("ijklmnopqrstuvwxyz")
        #expect(buffer.readString() == "ghijklmnopqrstuvwxyz")
    }

    @Test func equalityIsByReadableBytes() {
        var a = ByteBuffer(string: "xxhello")
        a.moveReaderIndex(forwardBy: 2)
        #expect(a == ByteBuffer(string: "hello"))
        #expect(a.hashValue == ByteBuffer(string: "hello").hashValue)
        #expect(a != ByteBuffer(string: "hell"))
    }

    @Test func arrayRoundTripDoesNotCopyWholeStorage() {
        let bytes: [UInt8] = [1, 2, 3]
        let buffer = ByteBuffer(bytes)
        #expect(buffer.readableArray == bytes)
        var parsed: [UInt8] = []
        buffer.withUnsafeReadableBytes { parsed = Array($0) }
        #expect(parsed == bytes)
    }

    @Test func writeWithStorageFillsSpareRoom() {
        var buffer = ByteBuffer()
        let written = buffer.writeWithStorage(minimumWritable: 10, maximum: 4) { storage, range in
            for index in range { storage[index] = 7 }
            return range.count
        }
        #expect(written == 4)
        #expect(buffer.readableArray == [7, 7, 7, 7])
    }

    @Test func readBytesAndSlices() {
        var buffer = ByteBuffer(string: "abcdef")
        #expect(buffer.readBytes(2) == Array("ab".utf8))
        #expect(buffer.readSlice(10) == ByteBuffer(string: "cdef"))
        #expect(buffer.isEmpty)
    }

    @Test func appendingAnArrayAfterConsumedBytesKeepsThemInOrder() {
        var buffer = ByteBuffer(capacity: 8)
        buffer.writeBytes([1, 2, 3, 4, 5, 6] as [UInt8])
        buffer.moveReaderIndex(forwardBy: 4)
        buffer.writeBytes([7, 8, 9, 10, 11] as [UInt8])  // needs the consumed room or growth
        #expect(buffer.readableArray == [5, 6, 7, 8, 9, 10, 11])
        buffer.writeBytes([] as [UInt8])
        #expect(buffer.readableBytes == 7)
    }
}
