#if canImport(Glibc)
import Glibc
#endif

/// mount(2) and umount2(2) for the few mounts meshlab makes: pinned network
/// namespaces under /run/netns, and a pod's own /etc/resolv.conf and
/// /etc/hosts in its mount namespace. Expect EPERM (not root), ENOENT (a
/// missing source or target), EINVAL (not a mount point, for propagation changes).
public enum Mounts {
    /// mount --bind SOURCE TARGET (the target must exist: a file over a file).
    public static func bind(_ source: String, onto target: String) throws(SystemError) {
        _ = try Posix.call("mount(\(source) -> \(target), MS_BIND)") {
            mount(source, target, nil, UInt(MS_BIND), nil)
        }
    }

    /// mount --make-rslave PATH: mounts and unmounts from the parent mount
    /// namespace still arrive, and nothing done here goes back to it.
    public static func makeRecursiveSlave(_ path: String = "/") throws(SystemError) {
        _ = try Posix.call("mount(\(path), MS_REC|MS_SLAVE)") {
            mount("none", path, nil, UInt(MS_REC | MS_SLAVE), nil)
        }
    }

    /// mount --make-shared PATH. EINVAL when PATH is not a mount point.
    public static func makeShared(_ path: String) throws(SystemError) {
        _ = try Posix.call("mount(\(path), MS_SHARED)") { mount("none", path, nil, UInt(MS_SHARED), nil) }
    }

    /// mount --rbind PATH PATH: makes a directory a mount point of its own.
    public static func bindToItself(_ path: String) throws(SystemError) {
        _ = try Posix.call("mount(\(path) -> \(path), MS_BIND|MS_REC)") {
            mount(path, path, nil, UInt(MS_BIND | MS_REC), nil)
        }
    }

    /// A small tmpfs at `path` (to hold a file where the real one is missing).
    public static func mountTemporaryFileSystem(at path: String, sizeBytes: Int = 1 << 20) throws(SystemError) {
        _ = try Posix.call("mount(tmpfs -> \(path))") {
            mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=\(sizeBytes),mode=755")
        }
    }

    /// umount2(2) with MNT_DETACH: the mount goes away now from the tree, and
    /// for good once nothing uses it. Returns false when `path` was not mounted
    /// (EINVAL) or is gone (ENOENT).
    @discardableResult
    public static func detach(_ path: String) throws(SystemError) -> Bool {
        if umount2(path, CInt(MNT_DETACH)) == 0 { return true }
        let code = errno
        if code == EINVAL || code == ENOENT { return false }
        throw SystemError(errno: code, function: "umount2(\(path), MNT_DETACH)")
    }
}
