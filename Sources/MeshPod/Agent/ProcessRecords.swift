#if canImport(Glibc)
import Glibc
#endif
import MeshSystem
import Synchronization

/// The processes the agent started, kept on disk (`<directory>/<key>.pid`:
/// pid and start time), so that what a crashed daemon left running is found
/// and killed by the next one, and nothing else: a recorded pid whose start
/// time no longer matches belongs to a new process and is left alone.
///
/// Processes are signalled as process groups: a container's process leads
/// its own session (`EnterLauncher`), so its children go with it.
public final class ProcessRecords: Sendable {
    /// nil: records in memory only (tests).
    public let directory: String?
    private let live = Mutex<[String: (pid: Int32, startTime: UInt64?)]>([:])

    public init(directory: String?) throws {
        self.directory = directory
        if let directory { try Files.makeDirectories(directory, mode: 0o700) }
    }

    /// Records a started process under `key` (unique per container or probe).
    public func add(_ key: String, processID: Int32) {
        let startTime = Self.startTime(of: processID)
        live.withLock { $0[key] = (processID, startTime) }
        guard let directory else { return }
        let text = "\(processID) \(startTime.map(String.init) ?? "?")\n"
        // Write and rename, without fsync: the crash this guards against is the
        // daemon's, after which the page cache still holds the file (and a
        // container start should not wait for a disk).
        let path = "\(directory)/\(key).pid"
        guard let fd = try? Files.open(path + ".tmp", .truncate, mode: 0o600) else { return }
        let written = (try? Files.write(fd, Array(text.utf8))) != nil
        try? fd.close()
        if written { try? Files.rename(path + ".tmp", to: path) }
    }

    public func remove(_ key: String) {
        live.withLock { _ = $0.removeValue(forKey: key) }
        if let directory { _ = try? Files.remove("\(directory)/\(key).pid") }
    }

    /// How many processes are recorded now.
    public var count: Int { live.withLock { $0.count } }

    /// SIGKILLs every recorded process group now (the hard stop, when there
    /// is no time for a grace period). Records stay until the exits are seen.
    public func killAll() {
        let processes = live.withLock { Array($0.values) }
        for process in processes where Self.isSame(process.pid, startTime: process.startTime) {
            Self.kill(process.pid)
        }
    }

    /// Kills what a previous daemon's records name and removes the records;
    /// returns how many processes were still there.
    public func sweep() -> Int {
        guard let directory, let names = try? Files.directoryEntries(directory) else { return 0 }
        var killed = 0
        for name in names where name.hasSuffix(".tmp") { _ = try? Files.remove("\(directory)/\(name)") }
        for name in names where name.hasSuffix(".pid") {
            let path = "\(directory)/\(name)"
            defer { _ = try? Files.remove(path) }
            guard let text = try? Files.read(path) else { continue }
            let fields = String(decoding: text, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count >= 2, let pid = Int32(fields[0]), pid > 1, let startTime = UInt64(fields[1]),
                Self.isSame(pid, startTime: startTime)
            else { continue }
            Self.kill(pid)
            killed += 1
        }
        return killed
    }

    static func kill(_ pid: Int32) {
        try? Signals.send(.kill, to: -pid)
        try? Signals.send(.kill, to: pid)
    }

    /// Whether `pid` is still the process that was recorded.
    static func isSame(_ pid: Int32, startTime: UInt64?) -> Bool {
        guard let startTime else { return ProcessTable.isAlive(pid) }
        return Self.startTime(of: pid) == startTime
    }

    /// Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? Files.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        // After "pid (comm)": state is field 3, so starttime (22) is the 20th.
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }
}
