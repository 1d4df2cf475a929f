import MeshModel
import Synchronization

/// The type of a watch event, spelled as on the wire (`"type": "ADDED"`).
public enum WatchEventType: String, Sendable, Hashable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
}

/// One change seen by a watcher. For `deleted`, `object` is the last state
/// with the resourceVersion of the deletion, as the apiserver sends it.
public struct WatchEvent: Sendable, Hashable, CustomStringConvertible {
    public var type: WatchEventType
    public var object: JSONValue

    public init(_ type: WatchEventType, _ object: JSONValue) {
        self.type = type
        self.object = object
    }

    public var resourceVersion: String { object["metadata"]?["resourceVersion"]?.stringValue ?? "" }

    /// `ADDED pods/default/web@12`, for logs and test failures.
    public var description: String {
        let metadata = object["metadata"]
        let namespace = metadata?["namespace"]?.stringValue.map { $0 + "/" } ?? ""
        return "\(type.rawValue) \(namespace)\(metadata?["name"]?.stringValue ?? "")@\(resourceVersion)"
    }
}

/// The events of one watch, in revision order, as an `AsyncSequence`.
///
/// It ends (returns nil) when cancelled (`cancel()`, the consuming task being
/// cancelled, or the watch being released) or when the store closes, and
/// throws `StoreError.watchOverflow` when the consumer fell so far behind
/// that the store dropped it; the API then closes the stream and clients
/// re-list. One consumer at a time: a second concurrent `next()` gets nil.
public final class StoreWatch: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    public typealias Failure = StoreError

    let channel: WatchChannel

    init(channel: WatchChannel) { self.channel = channel }

    deinit { channel.close() }

    /// Stops the watch: a pending or later `next()` returns nil and the store forgets the watcher.
    public func cancel() { channel.close() }

    public func makeAsyncIterator() -> Iterator { Iterator(watch: self) }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = WatchEvent
        public typealias Failure = StoreError

        let watch: StoreWatch

        public mutating func next() async throws(StoreError) -> WatchEvent? {
            try await watch.channel.receive().get()
        }
    }
}

/// The buffer between the store's writers and one watcher. Writers never
/// wait: `send` appends or, past `limit`, ends the watch with an overflow.
///
/// Lock order: the store's lock, then a channel's. `close` calls
/// `unregister` (which takes the store's lock) only after releasing its own.
final class WatchChannel: Sendable {
    private struct State {
        var buffer: [WatchEvent] = []
        var head = 0
        var limit: Int
        var waiter: CheckedContinuation<Result<WatchEvent?, StoreError>, Never>?
        var ended = false
        var failure: StoreError?

        var count: Int { buffer.count - head }

        mutating func pop() -> WatchEvent? {
            guard head < buffer.count else { return nil }
            let event = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return event
        }
    }

    private let state: Mutex<State>
    private let capacity: Int
    private let unregister: @Sendable () -> Void

    /// `backlog` (synthetic ADDED events or history being replayed) is
    /// delivered first and does not count against `capacity`.
    init(capacity: Int, backlog: [WatchEvent], unregister: @escaping @Sendable () -> Void) {
        self.capacity = capacity
        self.unregister = unregister
        state = Mutex(State(buffer: backlog, limit: capacity + backlog.count))
    }

    /// Queues `event`; false when the watcher is gone (closed or overflowed)
    /// and the store should drop it.
    func send(_ event: WatchEvent) -> Bool {
        state.withLock { state in
            if state.ended { return false }
            if let waiter = state.waiter {
                state.waiter = nil
                waiter.resume(returning: .success(event))
                return true
            }
            if state.count >= state.limit {
                state.ended = true
                state.failure = .watchOverflow(capacity: capacity)
                state.buffer = []
                state.head = 0
                return false
            }
            state.buffer.append(event)
            return true
        }
    }

    /// Ends the watch after what is buffered (the store is closing).
    func finish() {
        state.withLock { state in
            state.ended = true
            state.waiter?.resume(returning: .success(nil))
            state.waiter = nil
        }
    }

    /// Ends the watch now, drops the buffer, and removes it from the store.
    func close() {
        let wasOpen = state.withLock { state in
            let wasOpen = !state.ended
            state.ended = true
            state.buffer = []
            state.head = 0
            state.waiter?.resume(returning: .success(nil))
            state.waiter = nil
            return wasOpen
        }
        if wasOpen { unregister() }
    }

    func receive() async -> Result<WatchEvent?, StoreError> {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<WatchEvent?, StoreError>, Never>) in
                let ready: Result<WatchEvent?, StoreError>? = state.withLock { state in
                    if let event = state.pop() { return .success(event) }
                    if let failure = state.failure {
                        state.failure = nil
                        return .failure(failure)
                    }
                    if state.ended || state.waiter != nil { return .success(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            close()
        }
    }
}

/// What one watcher asked for, and how a store event looks to it.
struct WatchFilter: Sendable {
    let resource: GroupResource
    let namespace: String?
    let selector: LabelSelector

    func includes(_ key: ObjectKey) -> Bool {
        key.resource == resource && (namespace == nil || key.namespace == namespace)
    }

    /// The event this watcher sees, if any. With a label selector, an object
    /// that stops matching is DELETED for this watcher (previous content, the
    /// event's revision) and one that starts matching is ADDED, as the
    /// apiserver's watch cache does.
    func translate(_ event: StoreEvent) -> WatchEvent? {
        guard includes(event.key) else { return nil }
        let matchesNow = event.type != .deleted && selector.matches(labels: event.labels)
        let matchedBefore = event.previous != nil && selector.matches(labels: event.previousLabels)
        switch (matchesNow, matchedBefore) {
        case (true, false): return WatchEvent(.added, event.object)
        case (true, true): return WatchEvent(.modified, event.object)
        case (false, true):
            let last = event.type == .deleted
                ? event.object : StoredMetadata.stamped(event.previous ?? event.object, revision: event.revision)
            return WatchEvent(.deleted, last)
        case (false, false): return nil
        }
    }
}

/// A committed change, as the store keeps it for watchers and resumption.
struct StoreEvent: Sendable {
    let revision: UInt64
    let type: WatchEventType
    let key: ObjectKey
    /// The new state; for a delete, the last state stamped with the delete's revision.
    let object: JSONValue
    let labels: [String: String]
    /// The state before (modify and delete).
    let previous: JSONValue?
    let previousLabels: [String: String]
}

/// The most recent events, so a watch can resume from a resourceVersion a
/// client got from an earlier list or watch.
struct EventHistory {
    let capacity: Int
    private var events: [StoreEvent] = []
    private var head = 0
    /// Events at or before this revision are no longer kept: a watch from an
    /// older revision is told it expired.
    private(set) var compactedRevision: UInt64

    init(capacity: Int, startingAfter revision: UInt64) {
        self.capacity = max(1, capacity)
        compactedRevision = revision
    }

    mutating func append(_ event: StoreEvent) {
        events.append(event)
        if events.count - head > capacity {
            compactedRevision = events[head].revision
            head += 1
            if head >= capacity {
                events.removeFirst(head)
                head = 0
            }
        }
    }

    /// Events after `revision`, or nil when some of them are no longer kept.
    func events(after revision: UInt64) -> ArraySlice<StoreEvent>? {
        guard revision >= compactedRevision else { return nil }
        var low = head
        var high = events.count
        while low < high {
            let mid = (low + high) / 2
            if events[mid].revision <= revision { low = mid + 1 } else { high = mid }
        }
        return events[low...]
    }
}
