import Synchronization

/// The keys a controller has yet to sync, with client-go's workqueue rules:
/// a key waits in the queue at most once however often it is added; a key
/// added while it is being synced is synced again afterwards (never twice
/// at once); a delayed add keeps the earliest time asked for, which is
/// what debouncing a burst of changes to one object needs.
final class WorkQueue: Sendable {
    private struct State {
        var ready: [ObjectKey] = []
        var head = 0
        var queued: Set<ObjectKey> = []
        var processing: Set<ObjectKey> = []
        /// Added while processing: queued again by `done`.
        var dirty: Set<ObjectKey> = []
        var delayed: [ObjectKey: ContinuousClock.Instant] = [:]
        var waiter: CheckedContinuation<Void, Never>?
        /// Wakes the waiter at the earliest delayed time.
        var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
        var stopped = false

        mutating func enqueue(_ key: ObjectKey) {
            if processing.contains(key) {
                dirty.insert(key)
            } else if queued.insert(key).inserted {
                ready.append(key)
            }
        }

        mutating func pop() -> ObjectKey? {
            guard head < ready.count else { return nil }
            let key = ready[head]
            head += 1
            if head == ready.count {
                ready.removeAll(keepingCapacity: true)
                head = 0
            }
            return key
        }

        mutating func promoteDue(now: ContinuousClock.Instant) {
            for (key, deadline) in delayed where deadline <= now {
                delayed[key] = nil
                enqueue(key)
            }
        }

        mutating func wake() {
            waiter?.resume()
            waiter = nil
        }
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// Queues `key` now, or after `delay` (keeping an earlier time already asked for).
    func add(_ key: ObjectKey, after delay: Duration = .zero) {
        let now = clock.now
        state.withLock { state in
            guard !state.stopped else { return }
            if delay <= .zero {
                state.delayed[key] = nil
                state.enqueue(key)
            } else {
                let deadline = now.advanced(by: delay)
                if let existing = state.delayed[key], existing <= deadline { return }
                state.delayed[key] = deadline
            }
            state.wake()
        }
    }

    /// The next key to sync, waiting until one is due; nil once stopped
    /// (or when the calling task is cancelled). Call `done` after the sync.
    func next() async -> ObjectKey? {
        await withTaskCancellationHandler {
            while true {
                let now = clock.now
                let outcome = state.withLock { state -> ObjectKey?? in
                    if state.stopped { return .some(nil) }
                    state.promoteDue(now: now)
                    guard let key = state.pop() else { return nil }
                    state.queued.remove(key)
                    state.processing.insert(key)
                    return .some(key)
                }
                if let outcome { return outcome }
                await waitForWork()
            }
        } onCancel: {
            stop()
        }
    }

    /// Parks until `add`, `stop`, or the earliest delayed key's time.
    private func waitForWork() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = clock.now
            state.withLock { state in
                state.promoteDue(now: now)
                if state.stopped || state.head < state.ready.count {
                    continuation.resume()
                    return
                }
                state.waiter = continuation
                guard let earliest = state.delayed.values.min() else { return }
                if let timer = state.timer, timer.deadline <= earliest { return }
                state.timer?.task.cancel()
                let clock = self.clock
                state.timer = (earliest, Task { [weak self] in
                    try? await clock.sleep(until: earliest)
                    self?.timerFired(earliest)
                })
            }
        }
    }

    private func timerFired(_ deadline: ContinuousClock.Instant) {
        state.withLock { state in
            if state.timer?.deadline == deadline { state.timer = nil }
            state.wake()
        }
    }

    /// The sync of `key` has finished; if it was added meanwhile, it is queued again.
    func done(_ key: ObjectKey) {
        state.withLock { state in
            state.processing.remove(key)
            if state.dirty.remove(key) != nil {
                state.enqueue(key)
                state.wake()
            }
        }
    }

    /// Ends `next` for good and drops what is queued.
    func stop() {
        state.withLock { state in
            state.stopped = true
            state.timer?.task.cancel()
            state.timer = nil
            state.wake()
        }
    }

    /// Keys waiting now (not delayed), for tests and status.
    var readyCount: Int { state.withLock { $0.ready.count - $0.head } }
    var delayedCount: Int { state.withLock { $0.delayed.count } }
}
