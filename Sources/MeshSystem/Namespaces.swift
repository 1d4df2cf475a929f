#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// A kind of Linux namespace meshlab uses.
public enum NamespaceKind: Sendable, Hashable, CustomStringConvertible {
    case network
    case mount
    case uts

    /// The CLONE_NEW* flag for setns(2) and unshare(2).
    public var flag: CInt {
        switch self {
        case .network: CInt(bitPattern: UInt32(MESHLAB_CLONE_NEWNET))
        case .mount: CInt(MESHLAB_CLONE_NEWNS)
        case .uts: CInt(MESHLAB_CLONE_NEWUTS)
        }
    }

    /// The file's name under /proc/<pid>/ns/.
    public var procName: String {
        switch self {
        case .network: "net"
        case .mount: "mnt"
        case .uts: "uts"
        }
    }

    public var description: String { "CLONE_NEW" + (self == .mount ? "NS" : procName.uppercased()) }
}

/// Which namespace a file or process refers to: the nsfs inode, as
/// stat(2) shows it for /proc/<pid>/ns/net and for a pinned /run/netns/NAME
/// alike (what `ip netns identify` compares).
public struct NamespaceID: Sendable, Hashable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    public var description: String { "ns:[\(inode)]" }
}

/// setns(2) and unshare(2), and questions about which namespace is which.
///
/// setns and unshare act on the calling *thread* (a network namespace is
/// per thread; a mount namespace needs a single-threaded caller). Never call
/// them from an async task, whose thread runs other tasks next: use a
/// `NamespaceThread`, or a re-exec'd single-threaded child (`meshlab __enter`).
public enum Namespaces {
    /// setns(2) into the namespace `path` refers to (/run/netns/NAME,
    /// /proc/PID/ns/net). Expect ENOENT (no such file), EINVAL (not a
    /// namespace of that kind, or a mount namespace from a threaded process), EPERM.
    public static func enter(_ path: String, kind: NamespaceKind) throws(SystemError) {
        let fd = try Posix.call("setns(\(path)): open") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = Glibc.close(fd) }
        _ = try Posix.call("setns(\(path))") { meshlab_setns(fd, kind.flag) }
    }

    /// setns(2) into the namespace an open descriptor refers to.
    public static func enter(_ descriptor: FileDescriptor, kind: NamespaceKind,
                             name: @autoclosure () -> String = "") throws(SystemError) {
        _ = try Posix.call("setns(\(name()))") { meshlab_setns(descriptor.rawValue, kind.flag) }
    }

    /// unshare(2): the calling thread gets new namespaces of these kinds.
    /// Expect EPERM (not root), EINVAL (a mount namespace in a threaded process).
    public static func unshare(_ kinds: [NamespaceKind]) throws(SystemError) {
        let flags = kinds.reduce(CInt(0)) { $0 | $1.flag }
        _ = try Posix.call("unshare(\(kinds.map(\.description).joined(separator: "|")))") { meshlab_unshare(flags) }
    }

    /// A descriptor for the calling thread's namespace of `kind`
    /// (/proc/thread-self/ns/...), to come back to after a setns.
    public static func openCurrent(_ kind: NamespaceKind) throws(SystemError) -> FileDescriptor {
        let path = "/proc/thread-self/ns/\(kind.procName)"
        return FileDescriptor(owning: try Posix.call("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) })
    }

    /// The namespace a file refers to (stat(2), following the /proc magic link).
    public static func id(ofFile path: String) throws(SystemError) -> NamespaceID {
        var info = stat()
        _ = try Posix.call("stat(\(path))") { stat(path, &info) }
        return NamespaceID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The namespace of `kind` process `pid` is in; nil when the process is
    /// gone, a zombie, or not ours to look at.
    public static func id(ofProcess pid: pid_t, _ kind: NamespaceKind) -> NamespaceID? {
        try? id(ofFile: "/proc/\(pid)/ns/\(kind.procName)")
    }

    /// The calling thread's namespace of `kind`.
    public static func current(_ kind: NamespaceKind) throws(SystemError) -> NamespaceID {
        try id(ofFile: "/proc/thread-self/ns/\(kind.procName)")
    }

    /// Processes whose network namespace is one of `namespaces` (found by
    /// scanning /proc), except the calling process.
    public static func processes(inNetworkNamespaces namespaces: Set<NamespaceID>) -> [pid_t] {
        guard !namespaces.isEmpty, let entries = try? Files.directoryEntries("/proc") else { return [] }
        let me = getpid()
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != me, let ns = id(ofProcess: pid, .network) else { continue }
            if namespaces.contains(ns) { found.append(pid) }
        }
        return found
    }

    /// How many threads the calling process has (entries of /proc/self/task).
    public static func threadCount() throws -> Int {
        try Files.directoryEntries("/proc/self/task").count
    }
}

/// Named network namespaces: a namespace pinned by a bind mount of its nsfs
/// file over an empty file in /run/netns, as `ip netns add` makes them (and
/// `ip netns` lists ours beside its own).
public enum NamedNetworkNamespaces {
    public static let defaultDirectory = "/run/netns"

    /// Makes `directory` exist and be a shared mount point, as `ip netns` does,
    /// so that removing a namespace's pin here also removes the copies that
    /// pods' mount namespaces (slaves of this one) took of it; otherwise they
    /// would keep every namespace alive. Returns whether it had to make the mount point.
    @discardableResult
    public static func prepare(directory: String = defaultDirectory) throws(SystemError) -> Bool {
        do { try Files.makeDirectories(directory) } catch let error as SystemError { throw error } catch {
            throw SystemError(errno: EIO, function: "mkdir(\(directory))")
        }
        if mount("none", directory, nil, UInt(MS_SHARED | MS_REC), nil) == 0 { return false }
        let code = errno
        guard code == EINVAL else { throw SystemError(errno: code, function: "mount(\(directory), MS_SHARED)") }
        try Mounts.bindToItself(directory)
        _ = try Posix.call("mount(\(directory), MS_SHARED)") { mount("none", directory, nil, UInt(MS_SHARED | MS_REC), nil) }
        return true
    }

    /// Makes a new network namespace and pins it at `path` (which must not
    /// exist). The calling thread is left *inside* the new namespace: call
    /// it in a `NamespaceThread` job, which goes home afterwards. Expect EEXIST.
    public static func create(pinnedAt path: String) throws(SystemError) {
        let fd = try Posix.call("open(\(path))") { open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0) }
        _ = Glibc.close(fd)
        do {
            try Namespaces.unshare([.network])
            try Mounts.bind("/proc/thread-self/ns/net", onto: path)
        } catch {
            _ = unlink(path)
            throw error
        }
    }

    /// Unpins and removes `path` (umount, unlink), as `ip netns delete`. The
    /// namespace itself goes once no process is in it and no socket holds it.
    /// Returns false when there was nothing to remove.
    @discardableResult
    public static func remove(_ path: String) throws(SystemError) -> Bool {
        let unmounted = try Mounts.detach(path)
        if unlink(path) == 0 { return true }
        let code = errno
        if code == ENOENT { return unmounted }
        throw SystemError(errno: code, function: "unlink(\(path))")
    }

    /// The names in `directory` (nothing when it does not exist).
    public static func names(in directory: String = defaultDirectory) -> [String] {
        (try? Files.directoryEntries(directory)) ?? []
    }

    /// Whether `path` is a pinned network namespace: the nsfs file mounted
    /// over it lives on another device than its directory (an unpinned
    /// leftover file does not).
    public static func isPinned(_ path: String) -> Bool {
        var file = stat()
        var directory = stat()
        guard stat(path, &file) == 0, stat(Files.parentDirectory(of: path), &directory) == 0 else { return false }
        return file.st_dev != directory.st_dev
    }
}
