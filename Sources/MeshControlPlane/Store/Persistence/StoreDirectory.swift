#if canImport(Glibc)
import Glibc
#endif
import MeshModel

/// How hard an acknowledged write is pushed to stable storage before the call returns.
///
/// Every policy writes the record with write(2) before acknowledging, so an
/// acknowledged write survives the daemon crashing or being killed (`kill
/// -9`): the kernel already holds it. They differ on power loss or a kernel
/// crash. Structure is always synced whatever the policy: a snapshot is
/// fsynced before it replaces the old one, and a log segment is fdatasynced
/// before the store moves to the next one, so a power loss can cost recent
/// writes but never the store.
public enum SyncPolicy: Sendable, Hashable {
    /// Never fdatasync a write: a power loss can lose what the kernel had not
    /// written back yet (up to ~30 s with Linux's default dirty-page expiry).
    case never
    /// fdatasync(2) before acknowledging each write: survives power loss; costs
    /// one device flush per write (writers queue behind it).
    case always
    /// fdatasync from a background timer at most every `milliseconds` when
    /// something was written: a power loss loses at most about that long.
    case interval(milliseconds: Int)
}

/// What opening a store found and repaired; `description` is the log line.
public struct StoreRecovery: Sendable, Equatable, CustomStringConvertible {
    /// A damaged end of the newest log segment, cut off on open: what a crash
    /// in the middle of a write leaves. The write it belonged to was never
    /// acknowledged.
    public struct DroppedTail: Sendable, Equatable {
        public var file: String
        /// Where the file now ends.
        public var offset: Int
        public var bytes: Int
        public var reason: String
    }

    public var snapshotRevision: UInt64 = 0
    public var snapshotObjects = 0
    public var replayedRecords = 0
    /// The revision the store continues from.
    public var revision: UInt64 = 0
    public var droppedTail: DroppedTail?

    public var description: String {
        var line = "store: loaded \(snapshotObjects) objects from the snapshot at revision \(snapshotRevision), "
            + "replayed \(replayedRecords) log records, now at revision \(revision)"
        if let tail = droppedTail {
            line += "; dropped a damaged tail of \(tail.bytes) bytes at byte \(tail.offset) of \(tail.file) (\(tail.reason))"
        }
        return line
    }
}

/// The store's state directory: a lock file, one snapshot and log segments.
/// ```
/// LOCK                          flock(2)ed while a store has it open; holds the pid
/// snapshot                      every object at one revision (replaced by rename)
/// wal-0000000000000007.log      log segments, replayed in order after the snapshot
/// ```
/// Not thread-safe: the store calls it under its lock, except
/// `CompactionPlan.run`, which touches only files the writer has left.
final class StoreDirectory {
    struct Limits {
        var compactionBytes: Int
        var compactionRecords: Int
    }

    /// What `open` read back, for the store to rebuild its state from.
    struct Contents {
        var snapshotRevision: UInt64 = 0
        var snapshotObjects: [(ObjectKey, JSONValue)] = []
        /// Log records after the snapshot, in revision order.
        var records: [LogRecord] = []
        var recovery = StoreRecovery()
    }

    let path: String
    let sync: SyncPolicy
    let limits: Limits
    private let lockFile: OwnedFile
    private(set) var active: OwnedFile
    private var activeSequence: UInt64
    /// Bytes of every segment still on disk, the active one included.
    private var segmentSizes: [UInt64: Int]
    private(set) var snapshotSize: Int
    private var recordsSinceSnapshot: Int
    /// Raised after a failed compaction so a full disk is not retried on every write.
    private var compactionBackoffBytes = 0
    private(set) var compactions = 0
    /// Written but not yet fdatasynced (for `.interval`).
    private var unsynced = false
    /// Set when a failed write or sync left the log in a state the store
    /// cannot vouch for; every later write fails with it.
    private(set) var failure: StoreError?

    private init(path: String, sync: SyncPolicy, limits: Limits, lockFile: OwnedFile, active: OwnedFile,
                 activeSequence: UInt64, segmentSizes: [UInt64: Int], snapshotSize: Int, recordsSinceSnapshot: Int)
    {
        self.path = path
        self.sync = sync
        self.limits = limits
        self.lockFile = lockFile
        self.active = active
        self.activeSequence = activeSequence
        self.segmentSizes = segmentSizes
        self.snapshotSize = snapshotSize
        self.recordsSinceSnapshot = recordsSinceSnapshot
    }

    var logBytes: Int { segmentSizes.values.reduce(0, +) }
    var segmentCount: Int { segmentSizes.count }

    static func segmentName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return "wal-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    static func segmentSequence(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.count == 24 else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    // MARK: Opening and recovery

    /// Locks the directory (creating it if needed), loads the snapshot, reads
    /// every log segment, cuts off a torn tail of the newest one, and leaves
    /// the newest segment open for appending.
    static func open(_ path: String, sync: SyncPolicy, limits: Limits,
                     lockWaitMilliseconds: Int) throws(StoreError) -> (StoreDirectory, Contents)
    {
        try StoreSyscalls.makeDirectories(path)
        let lockPath = path + "/LOCK"
        let lockFile = try StoreSyscalls.open(lockPath, O_RDWR | O_CREAT)
        // Wait a little for a holder that is going away: a daemon still
        // exiting, or a child process in the middle of posix_spawn, which
        // shares our open files (and so the flock) until its exec closes them.
        var locked = try StoreSyscalls.tryLock(lockFile)
        var waited = 0
        while !locked && waited < lockWaitMilliseconds {
            usleep(10_000)
            waited += 10
            locked = try StoreSyscalls.tryLock(lockFile)
        }
        guard locked else {
            let pid = (try? StoreSyscalls.readFile(lockPath)).flatMap { $0 }.map {
                String(decoding: $0, as: UTF8.self).trimmingNewlines
            }
            throw .locked(directory: path, holder: pid.map { "pid \($0)" } ?? "unknown pid")
        }
        try StoreSyscalls.truncate(lockFile, to: 0)
        try StoreSyscalls.writeAll(lockFile, Array("\(getpid())\n".utf8), at: 0)

        let names = try StoreSyscalls.listDirectory(path)
        if names.contains("snapshot.tmp") { try StoreSyscalls.unlink(path + "/snapshot.tmp") }

        var contents = Contents()
        var snapshotSize = 0
        if let bytes = try StoreSyscalls.readFile(path + "/snapshot") {
            snapshotSize = bytes.count
            try readSnapshot(bytes, file: path + "/snapshot", into: &contents)
        }

        let sequences = names.compactMap(segmentSequence).sorted()
        var sizes: [UInt64: Int] = [:]
        var lastRevision: UInt64 = 0
        var recordsInLog = 0
        for (index, sequence) in sequences.enumerated() {
            let file = path + "/" + segmentName(sequence)
            let isNewest = index == sequences.count - 1
            let bytes = try StoreSyscalls.readFile(file) ?? []
            sizes[sequence] = try readSegment(bytes, file: file, isNewest: isNewest, lastRevision: &lastRevision,
                                              recordsInLog: &recordsInLog, into: &contents)
        }
        contents.recovery.replayedRecords = contents.records.count
        contents.recovery.revision = max(contents.snapshotRevision, contents.records.last?.revision ?? 0)

        let activeSequence: UInt64
        if let newest = sequences.last, sizes[newest, default: 0] >= LogRecord.logMagic.count {
            activeSequence = newest
        } else {
            // No segment yet, or the newest one lost even its header in a crash.
            activeSequence = sequences.last ?? 1
            try createSegment(path + "/" + segmentName(activeSequence))
            sizes[activeSequence] = LogRecord.logMagic.count
        }
        let active = try StoreSyscalls.open(path + "/" + segmentName(activeSequence), O_WRONLY)
        let directory = StoreDirectory(
            path: path, sync: sync, limits: limits, lockFile: lockFile, active: active, activeSequence: activeSequence,
            segmentSizes: sizes, snapshotSize: snapshotSize, recordsSinceSnapshot: recordsInLog)
        return (directory, contents)
    }

    private static func readSnapshot(_ bytes: [UInt8], file: String, into contents: inout Contents) throws(StoreError) {
        try bytes.withBytes { (raw) throws(StoreError) in
            guard raw.starts(with: LogRecord.snapshotMagic) else {
                throw .corrupt(file: file, offset: 0, reason: "not a meshlab snapshot (bad magic)")
            }
            var offset = LogRecord.snapshotMagic.count
            var expected: UInt64?
            while true {
                switch LogRecord.scan(raw, at: offset) {
                case .end:
                    guard let expected, expected == UInt64(contents.snapshotObjects.count) else {
                        throw .corrupt(file: file, offset: offset, reason: "snapshot ends early")
                    }
                    contents.recovery.snapshotRevision = contents.snapshotRevision
                    contents.recovery.snapshotObjects = contents.snapshotObjects.count
                    return
                case .damaged(let reason, _):
                    throw .corrupt(file: file, offset: offset, reason: reason)
                case .record(let record, let next):
                    switch record {
                    case .snapshotHeader(let revision, let count) where expected == nil:
                        contents.snapshotRevision = revision
                        expected = count
                    case .put(_, let key, let object) where expected != nil:
                        contents.snapshotObjects.append((key, object))
                    default:
                        throw .corrupt(file: file, offset: offset, reason: "unexpected record in a snapshot")
                    }
                    offset = next
                }
            }
        }
    }

    /// Reads one segment's records into `contents`; returns the segment's
    /// size after any repair.
    private static func readSegment(_ bytes: [UInt8], file: String, isNewest: Bool, lastRevision: inout UInt64,
                                    recordsInLog: inout Int, into contents: inout Contents) throws(StoreError) -> Int
    {
        let magic = LogRecord.logMagic
        if bytes.count < magic.count {
            // Created by a switch to a new segment that a crash interrupted.
            guard isNewest, magic.starts(with: bytes) else {
                throw .corrupt(file: file, offset: 0, reason: "not a meshlab log segment (bad magic)")
            }
            if !bytes.isEmpty {
                contents.recovery.droppedTail = .init(file: file, offset: 0, bytes: bytes.count, reason: "torn segment header")
            }
            return 0
        }
        return try bytes.withBytes { (raw) throws(StoreError) -> Int in
            guard raw.starts(with: magic) else {
                throw .corrupt(file: file, offset: 0, reason: "not a meshlab log segment (bad magic)")
            }
            var offset = magic.count
            while true {
                switch LogRecord.scan(raw, at: offset) {
                case .end:
                    return offset
                case .record(let record, let next):
                    if case .snapshotHeader = record {
                        throw .corrupt(file: file, offset: offset, reason: "snapshot header in a log segment")
                    }
                    guard record.revision > lastRevision else {
                        throw .corrupt(file: file, offset: offset,
                                       reason: "record at revision \(record.revision) after revision \(lastRevision)")
                    }
                    lastRevision = record.revision
                    if record.revision > contents.snapshotRevision {
                        // Every revision is one record, so after the snapshot they
                        // follow each other without gaps; a gap means a lost segment.
                        let expected = (contents.records.last?.revision ?? contents.snapshotRevision) + 1
                        guard record.revision == expected else {
                            throw .corrupt(file: file, offset: offset,
                                           reason: "records for revisions \(expected)...\(record.revision - 1) are missing")
                        }
                        contents.records.append(record)
                        recordsInLog += 1
                    }
                    offset = next
                case .damaged(let reason, let frameEnd):
                    // A torn tail is the last thing in the newest segment. Damage
                    // with intact records after it is not a crash's doing: refuse
                    // rather than silently drop acknowledged writes.
                    var intactAfter = false
                    if let frameEnd, case .record = LogRecord.scan(raw, at: frameEnd) { intactAfter = true }
                    guard isNewest, !intactAfter else {
                        throw .corrupt(file: file, offset: offset, reason: reason)
                    }
                    let segment = try StoreSyscalls.open(file, O_WRONLY)
                    try StoreSyscalls.truncate(segment, to: offset)
                    try StoreSyscalls.fdatasync(segment)
                    contents.recovery.droppedTail = .init(file: file, offset: offset, bytes: raw.count - offset, reason: reason)
                    return offset
                }
            }
        }
    }

    /// A new segment holding just the magic, durable (file and directory entry).
    private static func createSegment(_ file: String) throws(StoreError) {
        let segment = try StoreSyscalls.open(file, O_WRONLY | O_CREAT | O_TRUNC)
        try StoreSyscalls.writeAll(segment, LogRecord.logMagic, at: 0)
        try StoreSyscalls.fdatasync(segment)
        try StoreSyscalls.syncDirectory(file.parentDirectory)
    }

    // MARK: Writing

    /// Appends `frames` (`count` records) to the active segment and syncs as
    /// the policy says. On failure nothing of `frames` stays in the log, or the
    /// directory records a `failure` and refuses further writes.
    func append(_ frames: [UInt8], count: Int) throws(StoreError) {
        if let failure { throw failure }
        let offset = segmentSizes[activeSequence, default: 0]
        do throws(StoreError) {
            try StoreSyscalls.writeAll(active, frames, at: offset)
        } catch {
            do throws(StoreError) {
                try StoreSyscalls.truncate(active, to: offset)
            } catch {
                failure = error
            }
            throw error
        }
        segmentSizes[activeSequence] = offset + frames.count
        recordsSinceSnapshot += count
        switch sync {
        case .never: break
        case .interval: unsynced = true
        case .always:
            do throws(StoreError) {
                try StoreSyscalls.fdatasync(active)
            } catch {
                // The kernel may have dropped the pages it failed to write, and
                // the record may or may not be in the file: stop taking writes.
                failure = error
                throw error
            }
        }
    }

    /// For `.interval`: the segment to fdatasync, if anything was written since the last time.
    func takeUnsynced() -> OwnedFile? {
        guard unsynced else { return nil }
        unsynced = false
        return active
    }

    // MARK: Compaction

    /// The log has grown past the limits: by default 16 MiB or 100 000
    /// records, and never less than the snapshot's size, so a large store is
    /// not rewritten for every small amount of log (writes cost at most ~3x).
    var wantsCompaction: Bool {
        guard failure == nil else { return false }
        let bytes = logBytes
        return bytes > max(limits.compactionBytes, snapshotSize, compactionBackoffBytes)
            || (recordsSinceSnapshot > limits.compactionRecords && bytes > compactionBackoffBytes)
    }

    /// Switches writes to a new segment and returns the plan that snapshots
    /// `objects` (the state at `revision`) and then removes the older segments.
    func beginCompaction(revision: UInt64, objects: ObjectTable) throws(StoreError) -> CompactionPlan {
        let next = activeSequence + 1
        do throws(StoreError) {
            try StoreSyscalls.fdatasync(active)
            try Self.createSegment(path + "/" + Self.segmentName(next))
            active = try StoreSyscalls.open(path + "/" + Self.segmentName(next), O_WRONLY)
        } catch {
            compactionBackoffBytes = logBytes * 2
            throw error
        }
        let obsolete = segmentSizes.keys.sorted()
        activeSequence = next
        segmentSizes[next] = LogRecord.logMagic.count
        recordsSinceSnapshot = 0
        unsynced = false
        return CompactionPlan(directory: path, revision: revision, objects: objects,
                              obsoleteSegments: obsolete.map { path + "/" + Self.segmentName($0) },
                              obsoleteSequences: obsolete)
    }

    func endCompaction(_ plan: CompactionPlan, result: Result<Int, StoreError>) {
        switch result {
        case .success(let size):
            snapshotSize = size
            for sequence in plan.obsoleteSequences { segmentSizes[sequence] = nil }
            compactionBackoffBytes = 0
            compactions += 1
        case .failure:
            // Keep everything (the old segments still hold the data) and wait
            // for the log to double before trying again.
            compactionBackoffBytes = logBytes * 2
        }
    }
}

/// A snapshot to write and the segments it makes obsolete. Runs outside the
/// store's lock: it only reads an immutable copy of the objects and touches
/// files the writer no longer appends to.
struct CompactionPlan: Sendable {
    let directory: String
    let revision: UInt64
    let objects: ObjectTable
    let obsoleteSegments: [String]
    let obsoleteSequences: [UInt64]

    /// Writes `snapshot.tmp`, fsyncs it, renames it over `snapshot`, fsyncs
    /// the directory, then deletes the obsolete segments. A crash at any step
    /// leaves a state `open` reads correctly: either the old snapshot with all
    /// segments, or the new one with segments whose records it skips by revision.
    /// Returns the snapshot's size.
    func run() throws(StoreError) -> Int {
        let temporary = directory + "/snapshot.tmp"
        let file = try StoreSyscalls.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        var offset = 0
        var buffer = LogRecord.snapshotMagic
        let count = objects.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
        LogRecord.snapshotHeader(revision: revision, objectCount: UInt64(count)).encode(into: &buffer)
        for (resource, namespaces) in objects {
            for (namespace, entries) in namespaces {
                for (name, entry) in entries {
                    let key = ObjectKey(resource, namespace: namespace, name: name)
                    LogRecord.put(revision: entry.revision, key: key, object: entry.object).encode(into: &buffer)
                    if buffer.count >= 1 << 20 {
                        try StoreSyscalls.writeAll(file, buffer, at: offset)
                        offset += buffer.count
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        try StoreSyscalls.writeAll(file, buffer, at: offset)
        offset += buffer.count
        try StoreSyscalls.fsync(file)
        try StoreSyscalls.rename(temporary, to: directory + "/snapshot")
        try StoreSyscalls.syncDirectory(directory)
        for segment in obsoleteSegments { try StoreSyscalls.unlink(segment) }
        return offset
    }
}

extension String {
    var trimmingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }

    var parentDirectory: String {
        guard let slash = lastIndex(of: "/") else { return "." }
        return slash == startIndex ? "/" : String(self[..<slash])
    }
}
