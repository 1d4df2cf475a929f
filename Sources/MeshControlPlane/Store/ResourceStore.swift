import Dispatch
import FoundationEssentials
import MeshModel
import Synchronization

/// Settings of a `ResourceStore`; the defaults suit the daemon.
public struct StoreOptions: Sendable {
    public var sync: SyncPolicy
    /// Compact (snapshot, then drop old log segments) when the log exceeds
    /// this many bytes, or the snapshot's size if that is larger.
    public var compactionBytes: Int
    /// ...or holds this many records since the last snapshot.
    public var compactionRecords: Int
    /// How many recent events are kept for watches that resume from a resourceVersion.
    public var eventHistory: Int
    /// How many events a watcher may fall behind before the store closes it.
    public var watchBuffer: Int
    /// How long opening waits for another holder of the directory's lock to
    /// let go before failing with `.locked`.
    public var lockWaitMilliseconds: Int
    /// The clock behind `creationTimestamp`.
    public var clock: @Sendable () -> Date
    /// Makes each object's `uid`: a random (version 4) UUID, lowercase as Kubernetes writes it.
    public var makeUID: @Sendable () -> String
    /// Where recovery reports and compaction failures go.
    public var log: @Sendable (String) -> Void

    public init(
        sync: SyncPolicy = .interval(milliseconds: 1000),
        compactionBytes: Int = 16 << 20,
        compactionRecords: Int = 100_000,
        eventHistory: Int = 10_000,
        watchBuffer: Int = 1_000,
        lockWaitMilliseconds: Int = 2_000,
        clock: @escaping @Sendable () -> Date = { Date() },
        makeUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        log: @escaping @Sendable (String) -> Void = { print($0) }
    ) {
        self.sync = sync
        self.compactionBytes = compactionBytes
        self.compactionRecords = compactionRecords
        self.eventHistory = eventHistory
        self.watchBuffer = watchBuffer
        self.lockWaitMilliseconds = lockWaitMilliseconds
        self.clock = clock
        self.makeUID = makeUID
        self.log = log
    }
}

/// A list result: the matching objects sorted by namespace then name, and the
/// revision they were read at (a watch from it misses nothing).
public struct StoreList: Sendable, Equatable {
    public var items: [JSONValue]
    public var resourceVersion: String
}

/// Conditions a delete checks first (metav1.Preconditions).
public struct DeletePreconditions: Sendable, Equatable {
    public var uid: String?
    public var resourceVersion: String?

    public init(uid: String? = nil, resourceVersion: String? = nil) {
        self.uid = uid
        self.resourceVersion = resourceVersion
    }
}

/// Counters for `meshlab status` and tests.
public struct StoreStats: Sendable, Equatable {
    public var objects: Int
    public var revision: UInt64
    public var watchers: Int
    /// Bytes in log segments, and how many segments there are (0 in memory).
    public var logBytes: Int
    public var logSegments: Int
    public var snapshotBytes: Int
    public var compactions: Int
}

/// One stored object with what the store derives from it.
struct StoredEntry: Sendable {
    var object: JSONValue
    var labels: [String: String]
    var revision: UInt64
}

/// Objects by resource, then namespace, then name: listing a namespace only
/// touches that namespace's objects.
typealias ObjectTable = [GroupResource: [String: [String: StoredEntry]]]

/// The resource store under meshlab's Kubernetes-style API: generic objects
/// (`JSONValue` documents with apiVersion, kind, metadata, spec, status)
/// keyed by resource, namespace and name, as the apiserver keeps
/// unstructured objects in etcd. It knows no typed resources.
///
/// - Every write takes the next value of one global revision (etcd's) and
///   stamps it into `metadata.resourceVersion`; the store also owns `uid`,
///   `creationTimestamp` and `generation` (see `StoredMetadata`).
/// - Updates are optimistic: a `metadata.resourceVersion` that is not the
///   stored one is a Conflict; none at all is an unconditional update, which
///   the apiserver allows for built-in kinds (CRD-backed kinds, Istio's, pass
///   `requireResourceVersion: true` to get its Invalid error instead). An
///   update that changes nothing writes nothing and keeps the resourceVersion.
/// - Deleting a Namespace deletes every object in it first, each with its own
///   DELETED event.
/// - Watches see ADDED/MODIFIED/DELETED from a resourceVersion on.
/// - With a directory, every write is in the log (write(2)) before the call
///   returns; see `SyncPolicy` for power loss, and `StoreDirectory` for files.
///
/// Thread-safe: all state sits behind one lock, held only for in-memory work
/// and the log append, never across an await. Closures passed in
/// (`guaranteedUpdate`) run under that lock and must not call the store.
public final class ResourceStore: Sendable {
    fileprivate struct State {
        var objects: ObjectTable = [:]
        var objectCount = 0
        var revision: UInt64
        var history: EventHistory
        var watchers: [Int: (filter: WatchFilter, channel: WatchChannel)] = [:]
        var nextWatcherID = 0
        var directory: StoreDirectory?
        var closed = false
        /// For `.interval`: fires `syncNow`.
        var syncTimer: DispatchSourceTimer?
    }

    private let state: Mutex<State>
    /// Held while a compaction writes its snapshot outside `state`'s lock:
    /// one compaction at a time, and `close` waits for it before giving up
    /// the directory.
    private let compactionGate = Mutex(())
    private let options: StoreOptions
    /// What `open` found on disk; empty for an in-memory store.
    public let recovery: StoreRecovery

    /// A store that keeps nothing on disk (tests, `--dry-run`).
    public init(options: StoreOptions = StoreOptions()) {
        self.options = options
        state = Mutex(State(revision: 0, history: EventHistory(capacity: options.eventHistory, startingAfter: 0)))
        recovery = StoreRecovery()
    }

    /// Opens (creating if needed) the store in `directory` and rebuilds its
    /// state: snapshot, then log. A torn tail of the log is cut off and
    /// reported in `recovery` (and through `options.log`); other damage, or
    /// another process holding the directory, is an error.
    public init(directory: String, options: StoreOptions = StoreOptions()) throws(StoreError) {
        self.options = options
        let (files, contents) = try StoreDirectory.open(
            directory, sync: options.sync,
            limits: .init(compactionBytes: options.compactionBytes, compactionRecords: options.compactionRecords),
            lockWaitMilliseconds: options.lockWaitMilliseconds)
        var initial = State(revision: contents.snapshotRevision,
                            history: EventHistory(capacity: options.eventHistory, startingAfter: contents.snapshotRevision))
        for (key, object) in contents.snapshotObjects {
            initial.put(key, StoredEntry(object: object, labels: LabelSelector.labels(of: object),
                                         revision: StoredMetadata.revision(of: object)))
        }
        for record in contents.records { initial.replay(record) }
        initial.directory = files
        state = Mutex(initial)
        recovery = contents.recovery
        options.log(contents.recovery.description)

        if case .interval(let milliseconds) = options.sync {
            state.withLock { state in
                let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "meshlab.store.sync"))
                timer.schedule(deadline: .now() + .milliseconds(milliseconds), repeating: .milliseconds(milliseconds))
                timer.setEventHandler { [weak self] in self?.syncNow() }
                timer.resume()
                state.syncTimer = timer
            }
        }
    }

    deinit { close() }

    /// Flushes, stops watches (their sequences end), and releases the
    /// directory's lock. Later calls fail with `.unavailable`. Idempotent.
    public func close() {
        let channels = state.withLock { state -> [WatchChannel] in
            if state.closed { return [] }
            state.closed = true
            state.syncTimer?.cancel()
            state.syncTimer = nil
            let channels = state.watchers.values.map(\.channel)
            state.watchers = [:]
            return channels
        }
        for channel in channels { channel.finish() }
        compactionGate.withLock { _ in }
        state.withLock { state in
            if let file = state.directory?.takeUnsynced() { try? StoreSyscalls.fdatasync(file) }
            state.directory = nil
        }
    }

    // MARK: Reads

    public func get(_ key: ObjectKey) throws(StoreError) -> JSONValue {
        try state.withLock { (state) throws(StoreError) in
            guard let entry = state.objects[key.resource]?[key.namespace]?[key.name] else {
                throw .notFound(key.resource, name: key.name)
            }
            return entry.object
        }
    }

    /// Objects of `resource`, in `namespace` when given (all namespaces
    /// otherwise), matching `selector`; sorted by namespace then name.
    public func list(_ resource: GroupResource, namespace: String? = nil,
                     selector: LabelSelector = .everything) -> StoreList
    {
        state.withLock { state in
            let items = state.matching(resource, namespace: namespace, selector: selector).map(\.object)
            return StoreList(items: items, resourceVersion: String(state.revision))
        }
    }

    /// Whether the Namespace `name` exists (for the API's create-into-namespace check).
    public func namespaceExists(_ name: String) -> Bool {
        state.withLock { $0.objects[.namespaces]?[""]?[name] != nil }
    }

    /// The current revision, as a resourceVersion string.
    public var resourceVersion: String { state.withLock { String($0.revision) } }

    public func stats() -> StoreStats {
        state.withLock { state in
            StoreStats(objects: state.objectCount, revision: state.revision, watchers: state.watchers.count,
                       logBytes: state.directory?.logBytes ?? 0, logSegments: state.directory?.segmentCount ?? 0,
                       snapshotBytes: state.directory?.snapshotSize ?? 0,
                       compactions: state.directory?.compactions ?? 0)
        }
    }

    // MARK: Writes

    /// Stores a new object of `resource` at the key its metadata names; returns
    /// it as stored (uid, creationTimestamp, generation 1, resourceVersion).
    /// Client values of those fields are overwritten. With
    /// `namespaceMustExist`, a namespaced object whose Namespace is missing is
    /// refused with `namespaces "x" not found`, atomically with the create.
    @discardableResult
    public func create(_ resource: GroupResource, _ object: JSONValue,
                       namespaceMustExist: Bool = false) throws(StoreError) -> JSONValue
    {
        let key = try StoredMetadata.key(of: object, resource)
        try Self.checkFinite(object, key)
        let prepared = StoredMetadata.forCreate(
            object, uid: options.makeUID(), creationTimestamp: StoredMetadata.timestamp(options.clock()))
        return try write { (state) throws(StoreError) in
            if state.objects[key.resource]?[key.namespace]?[key.name] != nil {
                throw .alreadyExists(key.resource, name: key.name)
            }
            if namespaceMustExist, !key.namespace.isEmpty, state.objects[.namespaces]?[""]?[key.namespace] == nil {
                throw .notFound(.namespaces, name: key.namespace)
            }
            return try state.commit([.put(key, prepared)], options: self.options).first!
        }
    }

    /// Replaces the object at the key its metadata names (PUT). With a
    /// `metadata.resourceVersion` it must be the stored one (else Conflict);
    /// without one the update is unconditional, unless
    /// `requireResourceVersion` (the apiserver's rule for custom resources).
    /// Returns the stored object; an update that changes nothing returns the
    /// current object without writing.
    @discardableResult
    public func update(_ resource: GroupResource, _ object: JSONValue,
                       requireResourceVersion: Bool = false) throws(StoreError) -> JSONValue
    {
        let key = try StoredMetadata.key(of: object, resource)
        try Self.checkFinite(object, key)
        let requested = try StoredMetadata.requestedRevision(of: object, key)
        if requested == nil && requireResourceVersion {
            throw .invalid(resource, name: key.name, errors: [
                Diagnostic(.error, at: "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update"),
            ])
        }
        return try write { (state) throws(StoreError) in
            try state.replace(key, with: object, requiredRevision: requested, options: self.options)
        }
    }

    /// Read-modify-write for PATCH and controllers: `transform` gets the
    /// current object and returns the new one, atomically (under the store's
    /// lock, so it never sees a conflict and never retries). The result must
    /// keep the key; its resourceVersion is checked like `update`'s, so a
    /// transform that keeps the one it was given always applies. Throws
    /// `StoreError`, or whatever `transform` throws.
    @discardableResult
    public func guaranteedUpdate(_ key: ObjectKey, _ transform: (JSONValue) throws -> JSONValue) throws -> JSONValue {
        try write { (state) throws in
            guard let current = state.objects[key.resource]?[key.namespace]?[key.name] else {
                throw StoreError.notFound(key.resource, name: key.name)
            }
            let updated = try transform(current.object)
            let updatedKey = try StoredMetadata.key(of: updated, key.resource)
            guard updatedKey == key else {
                throw StoreError.invalid(key.resource, name: key.name, errors: [
                    .invalid(updatedKey.name != key.name ? "metadata.name" : "metadata.namespace",
                             value: .string(updatedKey.name != key.name ? updatedKey.name : updatedKey.namespace),
                             "field is immutable"),
                ])
            }
            try Self.checkFinite(updated, key)
            let requested = try StoredMetadata.requestedRevision(of: updated, key)
            return try state.replace(key, with: updated, requiredRevision: requested, options: self.options)
        }
    }

    /// Deletes the object at `key` and returns its last state, stamped with
    /// the deletion's resourceVersion (what watchers get in DELETED).
    /// Deleting a Namespace first deletes every object in that namespace.
    @discardableResult
    public func delete(_ key: ObjectKey, preconditions: DeletePreconditions = DeletePreconditions()) throws(StoreError)
        -> JSONValue
    {
        try write { (state) throws(StoreError) in
            guard let current = state.objects[key.resource]?[key.namespace]?[key.name] else {
                throw .notFound(key.resource, name: key.name)
            }
            let metadata = current.object["metadata"]
            let uid = metadata?["uid"]?.stringValue ?? ""
            if let expected = preconditions.uid, expected != uid {
                throw .conflict(key.resource, name: key.name, currentResourceVersion: String(current.revision),
                                reason: "Precondition failed: UID in precondition: \(expected), UID in object meta: \(uid)")
            }
            if let expected = preconditions.resourceVersion, expected != String(current.revision) {
                throw .conflict(key.resource, name: key.name, currentResourceVersion: String(current.revision),
                                reason: "Precondition failed: ResourceVersion in precondition: \(expected), ResourceVersion in object meta: \(current.revision)")
            }
            var mutations: [Mutation] = []
            if key.resource == .namespaces && key.namespace.isEmpty {
                for resource in state.objects.keys.sorted() {
                    for name in (state.objects[resource]?[key.name].map { Array($0.keys) } ?? []).sorted() {
                        mutations.append(.delete(ObjectKey(resource, namespace: key.name, name: name)))
                    }
                }
            }
            mutations.append(.delete(key))
            return try state.commit(mutations, options: self.options).last!
        }
    }

    /// Compacts now: snapshot, then drop the log segments it covers. Writes
    /// do this on their own past the thresholds; this is for tests and tools.
    public func compact() throws(StoreError) {
        try compactionGate.withLock { (_) throws(StoreError) in try compactLocked(force: true) }
    }

    // MARK: Watch

    /// Watches `resource` (in `namespace`, matching `selector`).
    ///
    /// `resourceVersion` "" or "0" first sends a synthetic ADDED for every
    /// current matching object, then what happens next, as the apiserver does
    /// for an unset or zero resourceVersion. A number sends every change
    /// after that revision; if the history no longer reaches back that far,
    /// this throws `.expired` (410 Gone: the client re-lists). A number past
    /// the current revision simply waits for changes past it.
    public func watch(_ resource: GroupResource, namespace: String? = nil, selector: LabelSelector = .everything,
                      resourceVersion: String = "") throws(StoreError) -> StoreWatch
    {
        let filter = WatchFilter(resource: resource, namespace: namespace, selector: selector)
        let start: UInt64?
        switch resourceVersion {
        case "", "0": start = nil
        default:
            guard let revision = UInt64(resourceVersion) else { throw .badResourceVersion(resourceVersion) }
            start = revision
        }
        let channel = try state.withLock { (state) throws(StoreError) -> WatchChannel in
            if state.closed { throw .unavailable(reason: "the store is closed") }
            let backlog: [WatchEvent]
            if let start {
                guard let events = state.history.events(after: start) else {
                    throw .expired(requested: start, oldest: state.history.compactedRevision)
                }
                backlog = events.compactMap(filter.translate)
            } else {
                backlog = state.matching(resource, namespace: namespace, selector: selector).map {
                    WatchEvent(.added, $0.object)
                }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            let channel = WatchChannel(capacity: options.watchBuffer, backlog: backlog) { [weak self] in
                self?.removeWatcher(id)
            }
            state.watchers[id] = (filter, channel)
            return channel
        }
        return StoreWatch(channel: channel)
    }

    private func removeWatcher(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    // MARK: Internals

    /// Runs `body` under the lock for a write, then compacts if the log grew too large.
    private func write<T: Sendable, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        let result = try state.withLock { (state) throws(E) -> T in try body(&state) }
        // The write is done and acknowledged whatever happens here. A
        // compaction already running elsewhere makes this one unnecessary.
        _ = compactionGate.withLockIfAvailable { _ in
            do {
                try compactLocked(force: false)
            } catch {
                options.log("store: compaction failed, will retry later: \(error)")
            }
        }
        return result
    }

    /// Snapshot and drop old segments; the caller holds `compactionGate`.
    /// Only the segment switch happens under `state`'s lock (the objects are
    /// a copy-on-write value, so taking them is cheap); the snapshot is
    /// written while writers carry on into the new segment.
    private func compactLocked(force: Bool) throws(StoreError) {
        let plan = try state.withLock { (state) throws(StoreError) -> CompactionPlan? in
            guard !state.closed, let directory = state.directory, force || directory.wantsCompaction else { return nil }
            return try directory.beginCompaction(revision: state.revision, objects: state.objects)
        }
        guard let plan else { return }
        let result = Result { () throws(StoreError) in try plan.run() }
        state.withLock { $0.directory?.endCompaction(plan, result: result) }
        if case .failure(let error) = result {
            try? StoreSyscalls.unlink(plan.directory + "/snapshot.tmp")
            throw error
        }
    }

    /// For `.interval`: fdatasync what was written since the last tick, outside the lock.
    private func syncNow() {
        guard let file = state.withLock({ $0.directory?.takeUnsynced() }) else { return }
        do {
            try StoreSyscalls.fdatasync(file)
        } catch {
            options.log("store: background fdatasync failed: \(error)")
        }
    }

    /// Doubles that JSON cannot carry (NaN, ±Infinity) would make the log unreadable.
    private static func checkFinite(_ object: JSONValue, _ key: ObjectKey) throws(StoreError) {
        guard let path = nonFinitePath(object) else { return }
        throw .invalid(key.resource, name: key.name, errors: [
            .invalid(path, value: object[path: path] ?? .null, "must be a finite number"),
        ])
    }

    /// Where the first non-finite double is; the path is only built on the way out of a hit.
    private static func nonFinitePath(_ value: JSONValue) -> FieldPath? {
        switch value {
        case .double(let d):
            return d.isFinite ? nil : .root
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                if let inner = nonFinitePath(element) { return FieldPath([.index(i)] + inner.components) }
            }
            return nil
        case .object(let object):
            for (name, member) in object {
                if let inner = nonFinitePath(member) { return FieldPath([.field(name)] + inner.components) }
            }
            return nil
        default:
            return nil
        }
    }
}

/// One change inside a commit.
private enum Mutation {
    /// Store `object` (prepared metadata, resourceVersion stamped at commit).
    case put(ObjectKey, JSONValue)
    case delete(ObjectKey)
}

extension ResourceStore.State {
    /// Objects of `resource` in `namespace` (all when nil) matching `selector`, sorted.
    fileprivate func matching(_ resource: GroupResource, namespace: String?, selector: LabelSelector) -> [StoredEntry] {
        guard let namespaces = objects[resource] else { return [] }
        let names = namespace.map { [$0] } ?? namespaces.keys.sorted()
        var result: [StoredEntry] = []
        for ns in names {
            guard let entries = namespaces[ns] else { continue }
            for name in entries.keys.sorted() {
                let entry = entries[name]!
                if selector.isEverything || selector.matches(labels: entry.labels) { result.append(entry) }
            }
        }
        return result
    }

    fileprivate mutating func put(_ key: ObjectKey, _ entry: StoredEntry) {
        if objects[key.resource, default: [:]][key.namespace, default: [:]].updateValue(entry, forKey: key.name) == nil {
            objectCount += 1
        }
    }

    fileprivate mutating func remove(_ key: ObjectKey) {
        guard objects[key.resource]?[key.namespace]?.removeValue(forKey: key.name) != nil else { return }
        objectCount -= 1
        if objects[key.resource]?[key.namespace]?.isEmpty == true { objects[key.resource]?[key.namespace] = nil }
        if objects[key.resource]?.isEmpty == true { objects[key.resource] = nil }
    }

    /// PUT semantics shared by `update` and `guaranteedUpdate`.
    fileprivate mutating func replace(_ key: ObjectKey, with object: JSONValue, requiredRevision: UInt64?,
                                      options: StoreOptions) throws(StoreError) -> JSONValue
    {
        if closed { throw .unavailable(reason: "the store is closed") }
        guard let current = objects[key.resource]?[key.namespace]?[key.name] else {
            throw .notFound(key.resource, name: key.name)
        }
        if let requiredRevision, requiredRevision != current.revision {
            throw .conflict(key.resource, name: key.name, currentResourceVersion: String(current.revision),
                            reason: StoreError.modifiedReason)
        }
        let prepared = try StoredMetadata.forUpdate(object, replacing: current.object, key)
        if prepared == current.object { return current.object }
        return try commit([.put(key, prepared)], options: options).first!
    }

    /// Logs, applies and announces `mutations`, each at the next revision.
    /// Nothing changes unless the log append succeeds. Returns the objects as
    /// stored (for a delete, the last state stamped with its revision).
    fileprivate mutating func commit(_ mutations: [Mutation], options: StoreOptions) throws(StoreError) -> [JSONValue] {
        if closed { throw .unavailable(reason: "the store is closed") }
        var events: [StoreEvent] = []
        var records: [LogRecord] = []
        var revision = self.revision
        for mutation in mutations {
            revision += 1
            switch mutation {
            case .put(let key, let object):
                let stamped = StoredMetadata.stamped(object, revision: revision)
                let previous = objects[key.resource]?[key.namespace]?[key.name]
                events.append(StoreEvent(
                    revision: revision, type: previous == nil ? .added : .modified, key: key, object: stamped,
                    labels: LabelSelector.labels(of: stamped), previous: previous?.object,
                    previousLabels: previous?.labels ?? [:]))
                records.append(.put(revision: revision, key: key, object: stamped))
            case .delete(let key):
                let previous = objects[key.resource]![key.namespace]![key.name]!
                events.append(StoreEvent(
                    revision: revision, type: .deleted, key: key,
                    object: StoredMetadata.stamped(previous.object, revision: revision), labels: previous.labels,
                    previous: previous.object, previousLabels: previous.labels))
                records.append(.delete(revision: revision, key: key))
            }
        }
        if let directory {
            var frames: [UInt8] = []
            for record in records { record.encode(into: &frames) }
            try directory.append(frames, count: records.count)
        }
        for event in events { apply(event) }
        return events.map(\.object)
    }

    /// Rebuilds state from a log record read back on open.
    fileprivate mutating func replay(_ record: LogRecord) {
        switch record {
        case .put(let revision, let key, let object):
            let previous = objects[key.resource]?[key.namespace]?[key.name]
            apply(StoreEvent(revision: revision, type: previous == nil ? .added : .modified, key: key, object: object,
                             labels: LabelSelector.labels(of: object), previous: previous?.object,
                             previousLabels: previous?.labels ?? [:]))
        case .delete(let revision, let key):
            // A delete of something absent cannot come from this store's log;
            // skip it rather than refuse to start.
            guard let previous = objects[key.resource]?[key.namespace]?[key.name] else {
                self.revision = revision
                return
            }
            apply(StoreEvent(revision: revision, type: .deleted, key: key,
                             object: StoredMetadata.stamped(previous.object, revision: revision),
                             labels: previous.labels, previous: previous.object, previousLabels: previous.labels))
        case .snapshotHeader:
            break
        }
    }

    /// Makes `event` the current state, records it, and tells the watchers.
    private mutating func apply(_ event: StoreEvent) {
        switch event.type {
        case .added, .modified:
            put(event.key, StoredEntry(object: event.object, labels: event.labels, revision: event.revision))
        case .deleted:
            remove(event.key)
        }
        revision = event.revision
        history.append(event)
        for (id, watcher) in watchers {
            guard let visible = watcher.filter.translate(event) else { continue }
            if !watcher.channel.send(visible) { watchers[id] = nil }
        }
    }
}
