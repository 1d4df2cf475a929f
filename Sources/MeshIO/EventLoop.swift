// MeshIO — the I/O core: event loops, sockets, timers, service lifecycle.
//
// Public API at a glance (details on each type):
//
//   let group = try EventLoopGroup(threads: 2)        // default: one loop per core
//   let loop = group.next()                            // round robin
//   EventLoopGroup.shared                              // process-wide group, never shut down
//   group.shutdown()                                   // after the work on it is done
//
//   // Every EventLoop is a Swift TaskExecutor (SE-0417). Run a connection's code on its
//   // loop and every resume after epoll readiness happens on that thread, with no hop:
//   Task(executorPreference: connection.eventLoop) { try await handle(connection) }
//   taskGroup.addTask(executorPreference: connection.eventLoop) { ... }
//   try await loop.sleep(for: .milliseconds(10))       // CancellationError when cancelled
//   let work = loop.schedule(after: .seconds(1)) { ... };  work.cancel()
//   loop.execute { ... }                               // run a closure on the loop thread
//   loop.inEventLoop                                   // am I on its thread?
//
//   // TCP and unix stream sockets share one connection type, SocketConnection: ByteStream.
//   let listener = try SocketListener.bind(.loopback(port: 0), group: group)  // port 0: ephemeral
//   let listener = try SocketListener.bind(addr, reusePort: true, placement: .loop(loop))  // per-loop
//   let listener = try SocketListener.bindUnix(path: "/run/x.sock", mode: 0o600, group: group)
//   let listener = try SocketListener.adopt(descriptor: fd, group: group)      // socket activation
//   listener.localAddress                              // the real port after port 0
//   let connection = try await listener.accept(timeout: nil)   // spread over the group's loops
//   let connection = try await SocketConnection.connect(to: address, timeout: .seconds(1), on: loop)
//   let address = try SocketAddress(parsing: "127.0.0.1:8080")  // also "[::1]:80", "unix:/path"
//
//   // ByteStream: what protocol code (HTTP, proxy, TLS later) talks to.
//   var buffer = ByteBuffer(capacity: 4096)             // keep one per connection
//   while let count = try await stream.read(into: &buffer, maxBytes: 65536, timeout: idle) {
//       buffer.withUnsafeReadableBytes { parser.append($0) }; buffer.clear()
//   }                                                    // nil: the peer sent EOF
//   try await stream.write(response)                    // returns at once unless the socket is full
//   try await stream.write([head, body])                // one gathered sendmsg
//   try await stream.shutdownWrite()                    // peer reads EOF, can still send
//   await stream.close()
//   InMemoryStream.pair(clock:)  (MeshTestSupport)      // the same protocol, no sockets
//
//   // UDP
//   let socket = try UDPSocket.bind(to: .loopback(port: 0), on: loop)
//   try await socket.send(bytes, to: address);  let datagram = try await socket.receive(timeout:)
//
//   // Processes and signals (MeshSystem, usable from here)
//   let child = try ChildProcess.spawn(configuration);  try await child.exitStatus(on: loop)
//   for await signal in try Signals.stream([.terminate]) { ... }
//
//   // Lifecycle (swift-service-lifecycle's shape)
//   struct API: Service { func run() async throws { try await gracefulShutdown() } }
//   try await ServiceGroup(services: [store, api], gracefulShutdownSignals: [.terminate, .interrupt],
//                          gracefulShutdownTimeout: .seconds(10)).run()
//
// Errors: a failed syscall is a `SystemError` naming the call ("connect(127.0.0.1:9):
// Connection refused (errno 111)"); `IOError` covers timeouts, closed sockets and
// stopped loops. A peer that reset the connection gives SystemError ECONNRESET or EPIPE
// (`error.isConnectionReset`); SIGPIPE never fires because sends use MSG_NOSIGNAL.

import MeshSystem
import Synchronization

/// One thread running an epoll loop: it owns sockets, timers and the tasks that prefer it.
///
/// Design: the loop is a `TaskExecutor`. A connection's task runs with the loop as its
/// executor preference, so its code runs on the loop thread. Reads and writes try the
/// syscall first; only on EAGAIN does the task suspend (an unsafe continuation stored
/// in the socket's registration). When epoll reports readiness, the loop resumes the
/// continuation on its own thread, which enqueues the task's job on the loop's local
/// queue (no lock, no eventfd) and runs it right after the event batch: resuming after
/// readiness costs no thread hop. Sockets are registered once, edge-triggered, for
/// both directions (as nginx does): no epoll_ctl per operation. Other threads hand
/// work over through a mutex-protected inbox plus one eventfd write when the inbox
/// goes from empty to non-empty. Timers are a heap on the loop, the epoll_wait
/// timeout being the earliest deadline.
///
/// Why not also a `SerialExecutor`: the runtime treats "isolated to the loop" and
/// "nonisolated, preferring the loop" as different contexts, so running every job as
/// isolated to the loop would make each call into a nonisolated async function take
/// a trip through the queue. Socket state is instead confined to the loop thread
/// and every operation hops there first if called from elsewhere.
///
/// Measured cost (Swift 6.3 runtime, uprobes on a keep-alive HTTP loop): one request
/// = one suspension, 7 executor switches (3 of them from `withTaskCancellationHandler`,
/// whose `isolation:` argument hops in and out) and 8 `getPreferredTaskExecutor`
/// lookups, each taking the task's status-record lock (a pthread mutex): about 10% of
/// the loop thread. Registering the cancellation handler through the runtime entry
/// points directly saves 3 switches (~4%), but the compiler warns that those names are
/// reserved and will become an error, so it is not done. Removing the rest would take
/// loop-isolated actors (a SerialExecutor per loop) with `nonisolated(nonsending)` I/O
/// methods throughout, which changes how every caller is written; not worth it while
/// the loop matches nginx on the same machine.
public final class EventLoop: TaskExecutor, @unchecked Sendable, CustomStringConvertible {
    /// Work queued for the loop thread.
    enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    /// Cross-thread hand-over: guarded by `inbox`.
    struct Inbox {
        var work: [Work] = []
        var stopRequested = false
        /// Set by the loop as it exits: later work goes to the global executor.
        var stopped = false
    }

    public let name: String
    let epoll: Epoll
    private let wakeup: FileDescriptor
    private let inbox = Mutex(Inbox())
    /// The loop thread's pthread id, 0 until it runs.
    @usableFromInline let threadID = Atomic<UInt>(0)
    private let finished = Atomic<Bool>(false)
    private var thread: OSThread?

    // Loop-confined state: touched only on the loop thread, by code that never re-enters
    // itself (no access to these can overlap another). Swift would check every modify of
    // a class's stored property at run time (swift_beginAccess: a thread-local access
    // set), which cost ~6% of an HTTP request for these four; hence unchecked.
    @exclusivity(unchecked) private var ready = WorkQueue()
    @exclusivity(unchecked) var timers = TimerHeap()
    @exclusivity(unchecked) private var slots: [Selectable?] = []
    @exclusivity(unchecked) private var slotGenerations: [UInt32] = []
    private var freeSlots: [Int] = []
    private var registeredCount = 0

    private static let wakeupData = UInt64.max

    init(name: String) throws {
        self.name = name
        epoll = try Epoll(capacity: 512)
        wakeup = try EventFD.make()
        try epoll.add(wakeup.rawValue, events: [.readable], data: EventLoop.wakeupData)
    }

    /// Starts the loop thread.
    func start() throws {
        thread = try OSThread(name: name) { [self] in self.run() }
    }

    /// Waits for the loop thread to end (after `requestStop`).
    func join() {
        thread?.join()
    }

    public var description: String { "EventLoop(\(name))" }

    /// Whether the caller is running on this loop's thread.
    @inlinable
    public var inEventLoop: Bool {
        threadID.load(ordering: .relaxed) == ThreadID.current.rawValue
    }

    /// Whether the loop has stopped for good (its group was shut down).
    public var isShutDown: Bool { finished.load(ordering: .acquiring) }

    // MARK: Executing work

    /// TaskExecutor: runs a job of a task that prefers this loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if inEventLoop {
            ready.append(.job(unowned))
        } else {
            submit(.job(unowned))
        }
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Runs `work` on the loop thread, after the work already queued.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        if inEventLoop {
            ready.append(.closure(work))
        } else {
            submit(.closure(work))
        }
    }

    private func submit(_ work: Work) {
        let (wake, rejected) = inbox.withLock { inbox -> (Bool, Work?) in
            if inbox.stopped { return (false, work) }
            let wasEmpty = inbox.work.isEmpty
            inbox.work.append(work)
            return (wasEmpty, nil)
        }
        if let rejected { EventLoop.runElsewhere(rejected) }
        if wake { try? EventFD.signal(wakeup) }
    }

    /// After the loop stopped: jobs still arriving run on the global executor, so their
    /// tasks finish (their I/O fails with `IOError.eventLoopShutDown`) instead of hanging.
    private static func runElsewhere(_ work: Work) {
        switch work {
        case .job(let job):
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        case .closure(let closure):
            Task.detached { closure() }
        }
    }

    /// Asks the loop to finish: waiters on its sockets fail with `IOError.eventLoopShutDown`,
    /// pending sleeps return early, queued work runs, then the thread ends.
    func requestStop() {
        inbox.withLock { $0.stopRequested = true }
        try? EventFD.signal(wakeup)
    }

    // MARK: Timers

    /// Suspends the calling task for `duration` using this loop's timer heap (CLOCK_MONOTONIC).
    /// Throws `CancellationError` when the task is cancelled meanwhile.
    public func sleep(for duration: Duration) async throws {
        try await onLoop { try await self.sleepOnLoop(until: MonotonicClock.now() &+ duration.nanoseconds) }
    }

    private func sleepOnLoop(until deadline: UInt64) async throws {
        try Task.checkCancellation()
        let sleeper = LoopBound(Sleeper())
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, Error>) in
                let state = sleeper.value
                state.continuation = continuation
                state.timer.action = { [unowned state] _ in state.finish(nil) }
                timers.arm(state.timer, deadline: deadline)
            }
        } onCancel: {
            self.execute {
                let state = sleeper.value
                guard state.timer.isArmed else { return }
                self.timers.disarm(state.timer)
                state.finish(CancellationError())
            }
        }
    }

    private final class Sleeper {
        let timer = LoopTimer()
        var continuation: UnsafeContinuation<Void, Error>?

        func finish(_ error: Error?) {
            guard let continuation else { return }
            self.continuation = nil
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }

    /// Runs `work` on the loop after `delay`, unless cancelled first.
    @discardableResult
    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> ScheduledWork {
        let deadline = MonotonicClock.now() &+ delay.nanoseconds
        let scheduled = ScheduledWork(loop: self)
        execute {
            let timer = LoopTimer { _ in work() }
            if scheduled.attach(timer) { self.timers.arm(timer, deadline: deadline) }
        }
        return scheduled
    }

    // MARK: Running on the loop

    /// Runs `body` on this loop's thread: at once if already there, else by making the
    /// loop the task's executor preference for the duration of `body`.
    @inlinable
    nonisolated(nonsending) public func onLoop<T>(_ body: nonisolated(nonsending) () async throws -> T) async throws -> T {
        if inEventLoop { return try await body() }
        return try await hopAndRun(body)
    }

    @usableFromInline
    nonisolated(nonsending) func hopAndRun<T>(_ body: nonisolated(nonsending) () async throws -> T) async throws -> T {
        if isShutDown { throw IOError.eventLoopShutDown }
        return try await withTaskExecutorPreference(self) {
            guard self.inEventLoop else { throw IOError.eventLoopShutDown }
            return try await body()
        }
    }

    // MARK: The loop

    private func run() {
        threadID.store(ThreadID.current.rawValue, ordering: .relaxed)
        var stopping = false
        while true {
            stopping = takeInbox() || stopping
            runReady()
            fireTimers()
            if stopping {
                shutDownRegistrations()
                if finishIfIdle() { break }
            }
            let timeout = ready.isEmpty ? pollTimeout() : 0
            let count: Int
            do {
                count = try epoll.wait(timeoutMilliseconds: timeout)
            } catch {
                fatalError("\(name): \(error)")  // EBADF/EINVAL: the loop's own descriptors are broken
            }
            for index in 0..<count {
                let (data, events) = epoll.event(at: index)
                if data == EventLoop.wakeupData {
                    try? EventFD.drain(wakeup)
                } else {
                    dispatch(data: data, events: events)
                }
            }
        }
        // pthread ids are reused once a thread is joined: forget ours.
        threadID.store(0, ordering: .relaxed)
        finished.store(true, ordering: .releasing)
    }

    /// Moves cross-thread work onto the ready queue; returns whether a stop was requested.
    private func takeInbox() -> Bool {
        let (work, stop) = inbox.withLock { inbox -> ([Work], Bool) in
            let work = inbox.work
            inbox.work = []
            return (work, inbox.stopRequested)
        }
        for item in work { ready.append(item) }
        return stop
    }

    /// Runs the work that was ready when called; work it makes ready waits for the next
    /// turn, so I/O readiness is polled between batches and a busy task cannot starve it.
    private func runReady() {
        var budget = ready.count
        let executor = asUnownedTaskExecutor()
        while budget > 0, let work = ready.popFirst() {
            budget -= 1
            switch work {
            case .job(let job): job.runSynchronously(on: executor)
            case .closure(let closure): closure()
            }
        }
    }

    private func fireTimers() {
        guard !timers.isEmpty else { return }
        let now = MonotonicClock.now()
        while let timer = timers.popExpired(now: now) {
            timer.action(&timers)
        }
    }

    /// Milliseconds until the earliest timer (rounded up, so it never wakes early), or -1.
    private func pollTimeout() -> CInt {
        guard let deadline = timers.earliestDeadline else { return -1 }
        let now = MonotonicClock.now()
        if deadline <= now { return 0 }
        let milliseconds = (deadline - now + 999_999) / 1_000_000
        return CInt(min(milliseconds, UInt64(Int32.max)))
    }

    /// When nothing is left to run, closes the inbox and ends the loop.
    private func finishIfIdle() -> Bool {
        guard ready.isEmpty else { return false }
        let closed = inbox.withLock { inbox -> Bool in
            guard inbox.work.isEmpty else { return false }
            inbox.stopped = true  // from now on, `submit` sends work to the global executor
            return true
        }
        guard closed else { return false }
        // Sleepers would never wake: wake them now (their sleeps return early).
        while let timer = timers.popExpired(now: UInt64.max) { timer.action(&timers) }
        return ready.isEmpty
    }

    // MARK: Registrations

    /// Adds `selectable` to epoll (edge-triggered, both directions). Loop thread only.
    func register(_ selectable: Selectable) throws {
        assert(inEventLoop)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
            slotGenerations.append(0)
        }
        let data = UInt64(slotGenerations[slot]) << 32 | UInt64(slot)
        do {
            try epoll.add(selectable.descriptor.rawValue,
                          events: [.readable, .writable, .readHangup, .edgeTriggered], data: data)
        } catch {
            freeSlots.append(slot)
            throw error
        }
        slots[slot] = selectable
        selectable.slot = slot
        registeredCount += 1
    }

    /// Removes `selectable` from epoll, if it was added. Loop thread only.
    func deregister(_ selectable: Selectable) {
        assert(inEventLoop)
        let slot = selectable.slot
        guard slot >= 0 else { return }
        if selectable.descriptor.isOpen { try? epoll.remove(selectable.descriptor.rawValue) }
        slots[slot] = nil
        slotGenerations[slot] &+= 1
        freeSlots.append(slot)
        selectable.slot = -1
        registeredCount -= 1
    }

    private func dispatch(data: UInt64, events: Epoll.Events) {
        let slot = Int(data & 0xffff_ffff)
        guard slot < slots.count, UInt32(data >> 32) == slotGenerations[slot], let selectable = slots[slot] else {
            return  // a registration removed earlier in this batch
        }
        if !events.isDisjoint(with: [.readHangup, .hangup, .error]) {
            selectable.readHangupSeen = true
        }
        if !events.isDisjoint(with: [.readable, .readHangup, .hangup, .error]) {
            selectable.mayRead = true
            selectable.wake(.read, timers: &timers)
        }
        if !events.isDisjoint(with: [.writable, .hangup, .error]) {
            selectable.mayWrite = true
            selectable.wake(.write, timers: &timers)
        }
    }

    private func shutDownRegistrations() {
        guard registeredCount > 0 else { return }
        for case let selectable? in slots {
            selectable.fail(.read, error: IOError.eventLoopShutDown, timers: &timers)
            selectable.fail(.write, error: IOError.eventLoopShutDown, timers: &timers)
            deregister(selectable)
        }
    }

    // MARK: Waiting for readiness

    /// Suspends until `selectable` may be ready for `direction`, the `deadline`
    /// (CLOCK_MONOTONIC ns) passes (`IOError.timedOut`), it is closed (`IOError.closed`)
    /// or the task is cancelled (`CancellationError`). Loop thread only; readiness is a
    /// hint: the caller retries its syscall and may wait again.
    nonisolated(nonsending) func waitUntilReady(
        _ selectable: Selectable, for direction: Selectable.Direction, deadline: UInt64?, operation: IOError.Operation,
        cancellation: WaitCancellation = .perWait
    ) async throws {
        assert(inEventLoop)
        try Task.checkCancellation()
        if selectable.isClosed { throw IOError.closed(operation) }
        if selectable.slot < 0 { try register(selectable) }
        if case .byOwner = cancellation {
            // The task's own handler fails this wait (`SocketConnection.cancelWaits()`):
            // no handler to add and remove around every wait.
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, Error>) in
                selectable.park(direction, continuation, operation: operation, deadline: deadline, timers: &timers)
            }
            return
        }
        let waitID = selectable.beginWait(direction)
        let bound = LoopBound(selectable)
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, Error>) in
                selectable.park(direction, continuation, operation: operation, deadline: deadline, timers: &timers)
            }
        } onCancel: {
            self.execute {
                let selectable = bound.value
                if selectable.currentWaitID(direction) == waitID {
                    selectable.fail(direction, error: CancellationError(), timers: &self.timers)
                }
            }
        }
    }

    /// Closes `selectable`: wakes its waiters with `IOError.closed`, leaves epoll, closes the descriptor.
    func close(_ selectable: Selectable) {
        assert(inEventLoop)
        guard !selectable.isClosed else { return }
        selectable.isClosed = true
        selectable.fail(.read, error: nil, timers: &timers)
        selectable.fail(.write, error: nil, timers: &timers)
        deregister(selectable)
        try? selectable.descriptor.close()
    }
}

/// How a wait for socket readiness notices that its task was cancelled.
package enum WaitCancellation: Sendable {
    /// The wait registers a task cancellation handler for its duration (the default).
    case perWait
    /// The waiting task holds one cancellation handler for its whole life, which calls
    /// `SocketConnection.cancelWaits()`. Adding and removing a handler costs about 10% of
    /// a keep-alive HTTP request (status-record locks and executor switches), and a
    /// server's connection task waits once per request.
    case byOwner
}

/// A value that is only ever touched on its event loop's thread, carried through a
/// `@Sendable` closure that runs there (`loop.execute`).
struct LoopBound<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A handle to work scheduled on a loop with `EventLoop.schedule(after:_:)`.
public final class ScheduledWork: Sendable {
    private let loop: EventLoop
    private let state = Mutex<(cancelled: Bool, timer: LoopBound<LoopTimer>?)>((false, nil))

    init(loop: EventLoop) { self.loop = loop }

    /// Attaches the armed timer; false if cancelled before it could be armed.
    func attach(_ timer: LoopTimer) -> Bool {
        state.withLock { state in
            if state.cancelled { return false }
            state.timer = LoopBound(timer)
            return true
        }
    }

    /// Cancels the work if it has not run yet (it may already be running).
    public func cancel() {
        let timer = state.withLock { state -> LoopBound<LoopTimer>? in
            state.cancelled = true
            return state.timer
        }
        guard let timer else { return }
        loop.execute { [loop] in loop.timers.disarm(timer.value) }
    }
}

/// A FIFO ring buffer of loop work (no allocation once grown).
struct WorkQueue {
    private var storage: [EventLoop.Work?] = Array(repeating: nil, count: 64)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ work: EventLoop.Work) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = work
        count += 1
    }

    mutating func popFirst() -> EventLoop.Work? {
        guard count > 0 else { return nil }
        let work = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return work
    }

    private mutating func grow() {
        var bigger = [EventLoop.Work?](repeating: nil, count: storage.count * 2)
        for index in 0..<count { bigger[index] = storage[(head + index) & (storage.count - 1)] }
        storage = bigger
        head = 0
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at 0 (negative durations mean "now").
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let total = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if total.overflow { return UInt64.max / 2 }
        return total.partialValue &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
