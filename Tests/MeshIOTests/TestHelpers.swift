import Glibc
import MeshIO
import MeshSystem
import Synchronization

/// Runs `body` with a fresh event loop group, shut down afterwards even when `body` throws.
func withEventLoopGroup<T>(threads: Int = 2, _ body: (EventLoopGroup) async throws -> T) async throws -> T {
    let group = try EventLoopGroup(threads: threads, name: "test-io")
    do {
        let result = try await body(group)
        group.shutdown()
        return result
    } catch {
        group.shutdown()
        throw error
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// Reads exactly `count` bytes (or fewer if the stream ends first).
func readExactly(_ stream: any ByteStream, count: Int, timeout: Duration? = .seconds(20)) async throws -> [UInt8] {
    var buffer = ByteBuffer(capacity: min(count, 64 * 1024))
    var received: [UInt8] = []
    received.reserveCapacity(count)
    while received.count < count {
        guard try await stream.read(into: &buffer, maxBytes: count - received.count, timeout: timeout) != nil else { break }
        received.append(contentsOf: buffer.readableBytesView)
        buffer.clear()
    }
    return received
}

/// Accepts connections until the listener closes, echoing each on its own loop.
func runEchoServer(_ listener: SocketListener) async {
    await withDiscardingTaskGroup { group in
        while true {
            guard let connection = try? await listener.accept() else { return }
            group.addTask(executorPreference: connection.eventLoop) {
                var buffer = ByteBuffer(capacity: 64 * 1024)
                do {
                    while try await connection.read(into: &buffer) != nil {
                        try await connection.write(buffer)
                        buffer.clear()
                    }
                } catch {}
                await connection.close()
            }
        }
    }
}

/// Collects values appended from any task or thread.
final class Recorder<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])

    func append(_ value: Value) -> Int {
        storage.withLock { values in
            values.append(value)
            return values.count
        }
    }

    var values: [Value] { storage.withLock { $0 } }
}

/// Debug trace to stderr (unbuffered), for diagnosing a hang.
func trace(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
