import MeshSystem
import Synchronization

/// Two connected in-memory byte streams: what one writes, the other reads.
///
/// Behaves like a socket pair where protocol code can tell: reads return what is
/// there (up to `maxBytes`) or wait; `shutdownWrite()` makes the peer read end of
/// stream while it can still send back; writing after the peer closed throws
/// `SystemError` EPIPE; operations on a closed stream throw `IOError.closed`;
/// read timeouts run on the injected clock (a `ManualClock` makes them instant).
/// Writes never block (unbounded buffering).
public final class InMemoryStream: ByteStream, Sendable, CustomStringConvertible {
    /// One direction of the pair.
    final class Pipe: Sendable {
        struct State {
            var bytes: [UInt8] = []
            var readIndex = 0
            /// The writer shut down or closed: the reader gets EOF once the bytes are read.
            var writerDone = false
            /// The reader closed: writes fail with EPIPE.
            var readerClosed = false
            var waiter: CheckedContinuation<Void, Error>?
            var waitID: UInt64 = 0
            /// A timeout or cancellation that hit wait `waitID` before its reader parked.
            var earlyFailure: (id: UInt64, error: any Error)?
            var totalWritten = 0
        }

        let state = Mutex(State())

        /// Takes the parked reader, if any, to resume outside the lock.
        func wake(_ state: inout State) -> CheckedContinuation<Void, Error>? {
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }

        /// Fails wait `id`: resumes its reader, or records the failure for when it parks.
        func fail(id: UInt64, with error: any Error) {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Error>? in
                guard state.waitID == id else { return nil }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter
                }
                state.earlyFailure = (id, error)
                return nil
            }
            waiter?.resume(throwing: error)
        }
    }

    private let inbound: Pipe
    private let outbound: Pipe
    private let clock: any Clock<Duration>
    private let closed = Atomic<Bool>(false)
    public let name: String

    private init(name: String, inbound: Pipe, outbound: Pipe, clock: any Clock<Duration>) {
        self.name = name
        self.inbound = inbound
        self.outbound = outbound
        self.clock = clock
    }

    /// A connected pair (named "client" and "server" in descriptions).
    public static func pair(clock: any Clock<Duration> = ContinuousClock()) -> (InMemoryStream, InMemoryStream) {
        let aToB = Pipe()
        let bToA = Pipe()
        return (InMemoryStream(name: "client", inbound: bToA, outbound: aToB, clock: clock),
                InMemoryStream(name: "server", inbound: aToB, outbound: bToA, clock: clock))
    }

    public var description: String { "InMemoryStream(\(name))" }
    public var localAddress: SocketAddress? { nil }
    public var remoteAddress: SocketAddress? { nil }

    /// Bytes this stream has written so far (including what the peer has read).
    public var bytesWritten: Int { outbound.state.withLock { $0.totalWritten } }

    public func read(into buffer: inout ByteBuffer, maxBytes: Int, timeout: Duration?) async throws -> Int? {
        precondition(maxBytes > 0, "read needs room for at least one byte")
        while true {
            try Task.checkCancellation()
            if closed.load(ordering: .acquiring) { throw IOError.closed(.read) }
            enum Outcome { case bytes([UInt8]), endOfStream, closed, wait(UInt64) }
            let outcome = inbound.state.withLock { state -> Outcome in
                if state.readerClosed { return .closed }
                let available = state.bytes.count - state.readIndex
                if available > 0 {
                    let count = min(available, maxBytes)
                    let bytes = Array(state.bytes[state.readIndex..<(state.readIndex + count)])
                    state.readIndex += count
                    if state.readIndex == state.bytes.count {
                        state.bytes.removeAll(keepingCapacity: true)
                        state.readIndex = 0
                    }
                    return .bytes(bytes)
                }
                if state.writerDone { return .endOfStream }
                state.waitID += 1
                return .wait(state.waitID)
            }
            switch outcome {
            case .bytes(let bytes):
                buffer.writeBytes(bytes)
                return bytes.count
            case .endOfStream:
                return nil
            case .closed:
                throw IOError.closed(.read)
            case .wait(let id):
                try await waitForData(id: id, timeout: timeout)
            }
        }
    }

    private func waitForData(id: UInt64, timeout: Duration?) async throws {
        let inbound = self.inbound
        let timer: Task<Void, Never>? = timeout.map { timeout in
            Task { [clock] in
                do { try await clock.sleep(for: timeout) } catch { return }
                inbound.fail(id: id, with: IOError.timedOut(.read))
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                enum Park { case parked, retry, fail(any Error) }
                let park = inbound.state.withLock { state -> Park in
                    if state.readerClosed { return .fail(IOError.closed(.read)) }
                    if let early = state.earlyFailure, early.id == id {
                        state.earlyFailure = nil
                        return .fail(early.error)
                    }
                    // Something may have arrived since the check.
                    if state.readIndex < state.bytes.count || state.writerDone { return .retry }
                    state.waiter = continuation
                    return .parked
                }
                switch park {
                case .parked: break
                case .retry: continuation.resume()
                case .fail(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            inbound.fail(id: id, with: CancellationError())
        }
    }

    public func write(_ buffers: [ByteBuffer], timeout: Duration?) async throws {
        if closed.load(ordering: .acquiring) { throw IOError.closed(.write) }
        let result = outbound.state.withLock { state -> Result<CheckedContinuation<Void, Error>?, Error> in
            if state.writerDone { return .failure(SystemError(errno: 32, function: "write")) }  // EPIPE: we shut down
            if state.readerClosed { return .failure(SystemError(errno: 32, function: "write")) }  // EPIPE: peer closed
            for buffer in buffers { state.bytes.append(contentsOf: buffer.readableBytesView) }
            state.totalWritten += buffers.reduce(0) { $0 + $1.readableBytes }
            return .success(outbound.wake(&state))
        }
        try result.get()?.resume()
    }

    public func write(_ buffer: ByteBuffer, timeout: Duration?) async throws {
        try await write([buffer], timeout: timeout)
    }

    public func shutdownWrite() async throws {
        if closed.load(ordering: .acquiring) { throw IOError.closed(.shutdown) }
        let waiter = outbound.state.withLock { state in
            state.writerDone = true
            return outbound.wake(&state)
        }
        waiter?.resume()
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let peerReader = outbound.state.withLock { state in
            state.writerDone = true
            return outbound.wake(&state)
        }
        peerReader?.resume()
        let ownReader = inbound.state.withLock { state in
            state.readerClosed = true
            return inbound.wake(&state)
        }
        ownReader?.resume(throwing: IOError.closed(.read))
    }
}
