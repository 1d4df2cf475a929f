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
    /// Deadline of the wait in progress, if it has one.
    private var readDeadline: UInt64?
    private var writeDeadline: UInt64?
    /// The last timeout converted to nanoseconds: a connection passes the same one to
    /// every wait, and converting a `Duration` takes a 128-bit division (~190 instructions).
    private var lastTimeout: (duration: Duration, nanoseconds: UInt64)?

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

    /// Parks the direction's waiter until readiness, failure or `deadline` (CLOCK_MONOTONIC ns).
    func park(_ direction: Direction, _ continuation: UnsafeContinuation<Void, Error>, operation: IOError.Operation,
              deadline: UInt64?, timers: inout TimerHeap) {
        switch direction {
        case .read:
            precondition(readWaiter == nil, "two tasks are reading one socket at once")
            readWaiter = continuation
            readOperation = operation
            readDeadline = deadline
        case .write:
            precondition(writeWaiter == nil, "two tasks are writing one socket at once")
            writeWaiter = continuation
            writeOperation = operation
            writeDeadline = deadline
        }
        guard let deadline else { return }
        // Timers are lazy, as nginx's are: a timer still armed for an earlier wait that
        // fires no later than this deadline stays as it is, and re-arms itself for the
        // current deadline when it fires. A keep-alive connection waits with a later
        // deadline for every request; this saves two heap updates each time.
        let timer = timer(for: direction)
        if timer.isArmed && timer.deadline <= deadline { return }
        timers.arm(timer, deadline: deadline)
    }

    /// `MonotonicClock.now() + timeout`, converting the timeout once per distinct value.
    func deadline(after timeout: Duration) -> UInt64 {
        let nanoseconds: UInt64
        if let lastTimeout, lastTimeout.duration == timeout {
            nanoseconds = lastTimeout.nanoseconds
        } else {
            nanoseconds = timeout.nanoseconds
            lastTimeout = (timeout, nanoseconds)
        }
        return MonotonicClock.now() &+ nanoseconds
    }

    /// The direction's timer, made once and re-armed for each timed wait.
    private func timer(for direction: Direction) -> LoopTimer {
        switch direction {
        case .read:
            if let readTimer { return readTimer }
            let timer = LoopTimer()
            timer.action = { [unowned self, unowned timer] timers in self.expire(.read, timer: timer, timers: &timers) }
            readTimer = timer
            return timer
        case .write:
            if let writeTimer { return writeTimer }
            let timer = LoopTimer()
            timer.action = { [unowned self, unowned timer] timers in self.expire(.write, timer: timer, timers: &timers) }
            writeTimer = timer
            return timer
        }
    }

    /// The direction's timer fired (and left the heap): the wait in progress times out if
    /// its deadline has passed, else the timer was armed for an earlier wait and re-arms.
    private func expire(_ direction: Direction, timer: LoopTimer, timers: inout TimerHeap) {
        let waiting = direction == .read ? readWaiter != nil : writeWaiter != nil
        guard waiting, let deadline = direction == .read ? readDeadline : writeDeadline else { return }
        if deadline > timer.deadline {
            timers.arm(timer, deadline: deadline)  // fires again at once if that time has passed too
            return
        }
        let operation = direction == .read ? readOperation : writeOperation
        fail(direction, error: IOError.timedOut(operation), timers: &timers)
    }

    /// Resumes the direction's waiter normally (readiness arrived). Its timer stays armed
    /// (see `park`).
    @inline(__always)
    func wake(_ direction: Direction, timers: inout TimerHeap) {
        switch direction {
        case .read:
            guard let waiter = readWaiter else { return }
            readWaiter = nil
            readDeadline = nil
            waiter.resume()
        case .write:
            guard let waiter = writeWaiter else { return }
            writeWaiter = nil
            writeDeadline = nil
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
            readDeadline = nil
            operation = readOperation
            if let readTimer, readTimer.isArmed { timers.disarm(readTimer) }
        case .write:
            waiter = writeWaiter
            writeWaiter = nil
            writeDeadline = nil
            operation = writeOperation
            if let writeTimer, writeTimer.isArmed { timers.disarm(writeTimer) }
        }
        waiter?.resume(throwing: error ?? IOError.closed(operation))
    }
}
