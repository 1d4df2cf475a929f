import MeshSystem

/// The readiness state of one descriptor on its event loop: loop-confined.
///
/// `mayRead`/`mayWrite` remember whether the descriptor might be ready (edge-triggered
/// epoll only reports changes): they start true, drop to false when a syscall says
/// EAGAIN (or a read comes back short), and rise again on the next epoll event. An
/// operation tries its syscall while the flag is up and waits only when it is down,
/// which saves the read(2) that would just say EAGAIN on an idle keep-alive connection.
/// A short read lowers `mayRead` too: the read took everything there was, and data
/// arriving later raises a new edge. Not so for end of stream, whose edge may have
/// been reported before the read; `readHangupSeen` keeps `mayRead` up from then on.
final class Selectable {
    enum Direction {
        case read
        case write
    }

    let descriptor: FileDescriptor
    /// Index in the loop's registration table; -1 until registered with epoll.
    var slot = -1
    var mayRead = true
    var mayWrite = true
    /// epoll reported the peer's end of stream (or a hangup/error): a short read no
    /// longer means "drained", because the EOF edge was already reported and will
    /// not come again.
    var readHangupSeen = false
    var isClosed = false

    private var readWaiter: UnsafeContinuation<Void, Error>?
    private var writeWaiter: UnsafeContinuation<Void, Error>?
    private var readWaitID: UInt64 = 0
    private var writeWaitID: UInt64 = 0
    private var readOperation = IOError.Operation.read
    private var writeOperation = IOError.Operation.write
    private var readTimer: LoopTimer?
    private var writeTimer: LoopTimer?

    init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    /// Starts a new wait in `direction`; the id lets a late cancellation recognise it.
    func beginWait(_ direction: Direction) -> UInt64 {
        switch direction {
        case .read:
            readWaitID &+= 1
            return readWaitID
        case .write:
            writeWaitID &+= 1
            return writeWaitID
        }
    }

    func currentWaitID(_ direction: Direction) -> UInt64 {
        direction == .read ? readWaitID : writeWaitID
    }

    func park(_ direction: Direction, _ continuation: UnsafeContinuation<Void, Error>, operation: IOError.Operation) {
        switch direction {
        case .read:
            precondition(readWaiter == nil, "two tasks are reading one socket at once")
            readWaiter = continuation
            readOperation = operation
        case .write:
            precondition(writeWaiter == nil, "two tasks are writing one socket at once")
            writeWaiter = continuation
            writeOperation = operation
        }
    }

    /// The direction's timer, made once and re-armed for each timed wait.
    func timer(for direction: Direction) -> LoopTimer {
        switch direction {
        case .read:
            if let readTimer { return readTimer }
            let timer = LoopTimer()
            timer.action = { [unowned self] in self.expire(.read) }
            readTimer = timer
            return timer
        case .write:
            if let writeTimer { return writeTimer }
            let timer = LoopTimer()
            timer.action = { [unowned self] in self.expire(.write) }
            writeTimer = timer
            return timer
        }
    }

    private func expire(_ direction: Direction) {
        let operation = direction == .read ? readOperation : writeOperation
        var unusedTimers = TimerHeap()  // the timer already left the loop's heap
        fail(direction, error: IOError.timedOut(operation), timers: &unusedTimers)
    }

    /// Resumes the direction's waiter normally (readiness arrived).
    @inline(__always)
    func wake(_ direction: Direction, timers: inout TimerHeap) {
        switch direction {
        case .read:
            guard let waiter = readWaiter else { return }
            readWaiter = nil
            if let readTimer, readTimer.isArmed { timers.disarm(readTimer) }
            waiter.resume()
        case .write:
            guard let waiter = writeWaiter else { return }
            writeWaiter = nil
            if let writeTimer, writeTimer.isArmed { timers.disarm(writeTimer) }
            waiter.resume()
        }
    }

    /// Resumes the direction's waiter with `error` (nil: `IOError.closed`).
    func fail(_ direction: Direction, error: Error?, timers: inout TimerHeap) {
        let waiter: UnsafeContinuation<Void, Error>?
        let operation: IOError.Operation
        switch direction {
        case .read:
            waiter = readWaiter
            readWaiter = nil
            operation = readOperation
            if let readTimer, readTimer.isArmed { timers.disarm(readTimer) }
        case .write:
            waiter = writeWaiter
            writeWaiter = nil
            operation = writeOperation
            if let writeTimer, writeTimer.isArmed { timers.disarm(writeTimer) }
        }
        waiter?.resume(throwing: error ?? IOError.closed(operation))
    }
}
