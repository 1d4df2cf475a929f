#if canImport(Glibc)
import Glibc
#endif

/// Questions about other processes, answered from kill(2) and /proc.
public enum ProcessTable {
    /// Whether `pid` is a live process: it exists and is not a zombie waiting
    /// to be reaped (a daemon whose launcher exited is reaped by init, which
    /// in some containers never happens).
    public static func isAlive(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? Files.read("/proc/\(pid)/stat") else { return false }
        // "pid (comm) S ...": the state follows the last ')', since comm may hold spaces or parens.
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
        return stat[close + 2] != UInt8(ascii: "Z")
    }
}
