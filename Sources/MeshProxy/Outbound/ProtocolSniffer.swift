import MeshIO
import MeshSystem

/// Tells HTTP/1.1 from anything else by a connection's first bytes, as Envoy's
/// http_inspector does: a known method followed by a space.
public enum ProtocolSniffer {
    static let methods: [[UInt8]] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"]
        .map { Array($0.utf8) + [32] }

    public enum Verdict: Equatable, Sendable {
        case http
        case other
        /// Too few bytes to tell yet.
        case needMore
    }

    public static func classify(_ bytes: ArraySlice<UInt8>) -> Verdict {
        var possible = false
        for method in methods {
            let count = min(bytes.count, method.count)
            if bytes.prefix(count).elementsEqual(method.prefix(count)) {
                if count == method.count { return .http }
                possible = true
            }
        }
        return possible ? .needMore : .other
    }

    /// Reads until the first bytes decide (at most `timeout` in all, since a
    /// server-first protocol sends nothing until it hears from the server).
    /// Returns the verdict and the bytes read, which must be replayed.
    public static func sniff(_ stream: any ByteStream, timeout: Duration) async -> (Verdict, ByteBuffer) {
        var buffer = ByteBuffer()
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return (.other, buffer) }
            do {
                guard try await stream.read(into: &buffer, maxBytes: 16 * 1024, timeout: remaining) != nil else {
                    return (.other, buffer)
                }
            } catch {
                return (.other, buffer)
            }
            let verdict = classify(buffer.readableBytesView)
            if verdict != .needMore { return (verdict, buffer) }
        }
    }
}

/// A stream that first hands out bytes already read (the sniffed prefix), then reads on.
final class PrefixedStream: ByteStream, @unchecked Sendable {
    // @unchecked: `prefix` is touched only by the one reader the ByteStream contract allows.
    let base: any ByteStream
    private var prefix: ByteBuffer

    init(base: any ByteStream, prefix: ByteBuffer) {
        self.base = base
        self.prefix = prefix
    }

    func read(into buffer: inout ByteBuffer, maxBytes: Int, timeout: Duration?) async throws -> Int? {
        if !prefix.isEmpty {
            let count = min(maxBytes, prefix.readableBytes)
            buffer.writeBytes(prefix.readableBytesView.prefix(count))
            prefix.moveReaderIndex(forwardBy: count)
            return count
        }
        return try await base.read(into: &buffer, maxBytes: maxBytes, timeout: timeout)
    }

    func write(_ buffers: [ByteBuffer], timeout: Duration?) async throws { try await base.write(buffers, timeout: timeout) }
    func write(_ buffer: ByteBuffer, timeout: Duration?) async throws { try await base.write(buffer, timeout: timeout) }
    func shutdownWrite() async throws { try await base.shutdownWrite() }
    func close() async { await base.close() }
    var localAddress: SocketAddress? { base.localAddress }
    var remoteAddress: SocketAddress? { base.remoteAddress }
}
