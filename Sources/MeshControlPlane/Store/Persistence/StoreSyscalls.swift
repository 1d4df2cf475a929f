#if canImport(Glibc)
import Glibc
#endif
import MeshSystem

/// The few system calls the store's files need, each retrying EINTR and
/// throwing `StoreError.io` that names the call and the path.
///
/// These belong in MeshSystem's `Posix` helpers, which another part of the
/// foundation is writing in parallel; move them there (and make this a thin
/// mapping to `StoreError`) once it lands.
enum StoreSyscalls {
    static func error(_ function: String, _ path: String) -> StoreError {
        .io(SystemError(errno: errno, function: function), path: path)
    }

    /// open(2) with O_CLOEXEC added.
    static func open(_ path: String, _ flags: CInt, mode: mode_t = 0o600) throws(StoreError) -> OwnedFile {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return OwnedFile(fd: fd, path: path) }
            if errno != EINTR { throw error("open", path) }
        }
    }

    /// pwrite(2) until every byte is written at `offset`.
    static func writeAll(_ file: OwnedFile, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(file.fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                if n == 0 { errno = EIO }
                throw error("pwrite", file.path)
            }
        }
    }

    static func writeAll(_ file: OwnedFile, _ bytes: [UInt8], at offset: Int) throws(StoreError) {
        try bytes.withBytes { (buffer) throws(StoreError) in try writeAll(file, buffer, at: offset) }
    }

    /// The whole file's contents, or nil when it does not exist.
    static func readFile(_ path: String) throws(StoreError) -> [UInt8]? {
        let file: OwnedFile
        do throws(StoreError) {
            file = try open(path, O_RDONLY)
        } catch {
            if case .io(let e, _) = error, e.errno == ENOENT { return nil }
            throw error
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(file.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                return bytes
            } else if errno != EINTR {
                throw error("read", path)
            }
        }
    }

    static func fdatasync(_ file: OwnedFile) throws(StoreError) {
        while Glibc.fdatasync(file.fd) != 0 {
            if errno != EINTR { throw error("fdatasync", file.path) }
        }
    }

    static func fsync(_ file: OwnedFile) throws(StoreError) {
        while Glibc.fsync(file.fd) != 0 {
            if errno != EINTR { throw error("fsync", file.path) }
        }
    }

    static func truncate(_ file: OwnedFile, to length: Int) throws(StoreError) {
        while ftruncate(file.fd, off_t(length)) != 0 {
            if errno != EINTR { throw error("ftruncate", file.path) }
        }
    }

    static func rename(_ from: String, to: String) throws(StoreError) {
        if Glibc.rename(from, to) != 0 { throw error("rename", to) }
    }

    /// unlink(2); a file that is already gone is not an error.
    static func unlink(_ path: String) throws(StoreError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw error("unlink", path) }
    }

    /// fsync(2) on a directory, so that creates, renames and unlinks in it are durable.
    static func syncDirectory(_ path: String) throws(StoreError) {
        try fsync(open(path, O_RDONLY | O_DIRECTORY))
    }

    /// mkdir -p with mode 0700 for what it creates.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw error("mkdir", prefix) }
        }
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else { throw error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// flock(LOCK_EX | LOCK_NB): false when another open file holds the lock.
    static func tryLock(_ file: OwnedFile) throws(StoreError) -> Bool {
        while flock(file.fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return false }
            if errno != EINTR { throw error("flock", file.path) }
        }
        return true
    }
}

/// An open file descriptor that closes itself; shared by reference so a
/// background fdatasync can finish on a log segment the writer already left.
final class OwnedFile: Sendable {
    let fd: CInt
    let path: String

    init(fd: CInt, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps a typed error (the standard one rethrows `any Error`).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StoreError) -> R) throws(StoreError) -> R {
        try withUnsafeBytes { raw in Result { () throws(StoreError) in try body(raw) } }.get()
    }
}
