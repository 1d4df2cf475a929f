import Synchronization
@testable import MeshHTTP

/// An in-memory, full-duplex byte stream pair for handler tests without sockets.
/// Timeouts are not simulated: reads wait until bytes or the peer's close arrive.
final class MemoryTransport: HTTPTransport, Sendable {
    private struct Inbox {
        var chunks: [[UInt8]] = []
        var closed = false
        var waiter: CheckedContinuation<[UInt8]?, Never>?
    }

    private let inbox = Mutex(Inbox())
    private let peerBox = Mutex<MemoryTransport?>(nil)
    private let closedForWriting = Atomic<Bool>(false)
    /// Whether `isUnusableWhileIdle` tells the truth (a socket's MSG_PEEK would), or always says usable.
    let detectsIdleClose: Bool

    init(detectsIdleClose: Bool = true) {
        self.detectsIdleClose = detectsIdleClose
    }

    func isUnusableWhileIdle() -> Bool {
        guard detectsIdleClose else { return false }
        return inbox.withLock { !$0.chunks.isEmpty || $0.closed }
    }

    static func pair(detectsIdleClose: Bool = true) -> (MemoryTransport, MemoryTransport) {
        let a = MemoryTransport(detectsIdleClose: detectsIdleClose), b = MemoryTransport()
        a.peerBox.withLock { $0 = b }
        b.peerBox.withLock { $0 = a }
        return (a, b)
    }

    private func deliver(_ bytes: [UInt8]?) {
        let waiter: CheckedContinuation<[UInt8]?, Never>? = inbox.withLock { box in
            if box.closed { return nil }
            if let bytes {
                if let waiter = box.waiter {
                    box.waiter = nil
                    return waiter
                }
                box.chunks.append(bytes)
                return nil
            }
            box.closed = true
            let waiter = box.waiter
            box.waiter = nil
            return waiter
        }
        waiter?.resume(returning: bytes)
    }

    func read(timeout: Duration?) async throws -> [UInt8]? {
        try Task.checkCancellation()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
                let immediate: [UInt8]?? = inbox.withLock { box in
                    if !box.chunks.isEmpty { return .some(box.chunks.removeFirst()) }
                    if box.closed { return .some(nil) }
                    box.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = inbox.withLock { box in
                let waiter = box.waiter
                box.waiter = nil
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    func write(_ bytes: [UInt8], timeout: Duration?) async throws {
        guard !closedForWriting.load(ordering: .acquiring) else { throw HTTPError.connectionClosed }
        guard !bytes.isEmpty else { return }
        peerBox.withLock { $0 }?.deliver(bytes)
    }

    func shutdownOutput() async {
        guard !closedForWriting.exchange(true, ordering: .acquiringAndReleasing) else { return }
        peerBox.withLock { $0 }?.deliver(nil)
    }

    func close() async {
        await shutdownOutput()
        deliver(nil)
    }

    /// Reads until the peer closes (or `limit` bytes).
    func readAll(limit: Int = 1 << 20) async -> [UInt8] {
        var all: [UInt8] = []
        while all.count < limit, let bytes = try? await read(timeout: nil) { all += bytes }
        return all
    }
}
