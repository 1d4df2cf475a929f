#if canImport(Glibc)
import Glibc
#endif

/// File system calls a daemon needs: state files, pid/lock files, socket paths.
/// Blocking calls: fine on a daemon's startup path and in the store's writer, not on
/// an event loop's hot path.
public enum Files {
    /// What an `lstat` found at a path.
    public enum Kind: Sendable, Equatable {
        case regular, directory, symbolicLink, socket, fifo, characterDevice, blockDevice, other
    }

    /// How `open` should open a file.
    public struct OpenOptions: Sendable {
        public var access: CInt
        public var flags: CInt

        public static let read = OpenOptions(access: O_RDONLY, flags: 0)
        /// Write, creating the file if missing, keeping its content.
        public static let write = OpenOptions(access: O_WRONLY, flags: O_CREAT)
        /// Write, creating the file or emptying it.
        public static let truncate = OpenOptions(access: O_WRONLY, flags: O_CREAT | O_TRUNC)
        /// Append, creating the file if missing.
        public static let append = OpenOptions(access: O_WRONLY, flags: O_CREAT | O_APPEND)
        /// Read and write, creating the file if missing (a lock file).
        public static let readWrite = OpenOptions(access: O_RDWR, flags: O_CREAT)
        /// Write a new file; EEXIST if one is there.
        public static let createNew = OpenOptions(access: O_WRONLY, flags: O_CREAT | O_EXCL)

        public init(access: CInt, flags: CInt) {
            self.access = access
            self.flags = flags
        }
    }

    /// open(2) with O_CLOEXEC. `mode` applies when the file is created (less the umask).
    /// Expect ENOENT, EACCES, EEXIST (createNew), EISDIR.
    public static func open(_ path: String, _ options: OpenOptions, mode: mode_t = 0o644) throws -> FileDescriptor {
        FileDescriptor(owning: try Posix.call("open(\(path))") {
            Glibc.open(path, options.access | options.flags | O_CLOEXEC, mode)
        })
    }

    /// The whole content of a file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = try open(path, .read)
        defer { try? fd.close() }
        return try readAll(fd)
    }

    /// Reads `fd` to its end.
    public static func readAll(_ fd: FileDescriptor) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64 * 1024)
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            guard case .done(let count) = try Posix.read(fd, into: &bytes, range: filled..<bytes.count) else {
                throw SystemError(errno: EAGAIN, function: "read: descriptor is non-blocking")
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes all of `bytes` (looping over short writes). Expect ENOSPC, EDQUOT, EIO.
    public static func write(_ fd: FileDescriptor, _ bytes: [UInt8]) throws {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            guard case .done(let count) = try Posix.write(fd, remaining) else {
                throw SystemError(errno: EAGAIN, function: "write: descriptor is non-blocking")
            }
            remaining = remaining.dropFirst(count)
        }
    }

    /// Writes `bytes` to `path` so that a crash leaves either the old or the new
    /// content: write a temporary file beside it, fsync, rename over, fsync the directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let temporary = path + ".tmp"
        let fd = try open(temporary, .truncate, mode: mode)
        do {
            try write(fd, bytes)
            try sync(fd)
            try fd.close()
            try rename(temporary, to: path)
        } catch {
            try? fd.close()
            _ = try? remove(temporary)
            throw error
        }
        try syncDirectory(containing: path)
    }

    /// fsync(2): data and metadata reach the disk. Expect EIO.
    public static func sync(_ fd: FileDescriptor) throws {
        _ = try Posix.call("fsync") { fsync(fd.rawValue) }
    }

    /// fdatasync(2): data (and the size) reach the disk, other metadata may not — cheaper for a log.
    public static func syncData(_ fd: FileDescriptor) throws {
        _ = try Posix.call("fdatasync") { fdatasync(fd.rawValue) }
    }

    /// fsyncs the directory holding `path`, so a rename or a new file in it survives a crash.
    public static func syncDirectory(containing path: String) throws {
        let directory = parentDirectory(of: path)
        let fd = FileDescriptor(owning: try Posix.call("open(\(directory))") {
            Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        })
        defer { try? fd.close() }
        try sync(fd)
    }

    /// ftruncate(2): cuts (or extends with zeros) the file to `size` bytes.
    public static func truncate(_ fd: FileDescriptor, size: Int) throws {
        _ = try Posix.call("ftruncate") { ftruncate(fd.rawValue, off_t(size)) }
    }

    /// lseek(2) to `offset` from the start; returns the new position.
    @discardableResult
    public static func seek(_ fd: FileDescriptor, to offset: Int) throws -> Int {
        Int(try Posix.call("lseek") { lseek(fd.rawValue, off_t(offset), SEEK_SET) })
    }

    /// The size of an open file (fstat).
    public static func size(_ fd: FileDescriptor) throws -> Int {
        var info = stat()
        _ = try Posix.call("fstat") { fstat(fd.rawValue, &info) }
        return Int(info.st_size)
    }

    /// rename(2), atomic within one file system. Expect EXDEV across file systems.
    public static func rename(_ from: String, to: String) throws {
        _ = try Posix.call("rename(\(from), \(to))") { Glibc.rename(from, to) }
    }

    /// unlink(2) (rmdir(2) for a directory). Returns false when nothing was there.
    @discardableResult
    public static func remove(_ path: String) throws -> Bool {
        let isDirectory = try kind(of: path) == .directory
        let result = isDirectory ? rmdir(path) : unlink(path)
        if result == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw SystemError(errno: code, function: "\(isDirectory ? "rmdir" : "unlink")(\(path))")
    }

    /// chmod(2).
    public static func setMode(_ path: String, _ mode: mode_t) throws {
        _ = try Posix.call("chmod(\(path))") { chmod(path, mode) }
    }

    /// The permission bits of `path` (e.g. 0o600), following symbolic links.
    public static func mode(of path: String) throws -> mode_t {
        var info = stat()
        _ = try Posix.call("stat(\(path))") { stat(path, &info) }
        return info.st_mode & 0o7777
    }

    /// lstat(2): what is at `path`, nil when nothing is.
    public static func kind(of path: String) throws -> Kind? {
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError(errno: code, function: "lstat(\(path))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        case S_IFSOCK: return .socket
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        default: return .other
        }
    }

    /// mkdir -p: creates `path` and missing parents with `mode` (less the umask);
    /// existing directories are left as they are. Expect EACCES, ENOTDIR.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 {
                let code = errno
                if code == EEXIST, try kind(of: current) == .directory { continue }
                throw SystemError(errno: code, function: "mkdir(\(current))")
            }
        }
    }

    /// How `lock` waits.
    public enum LockMode: Sendable {
        case shared
        case exclusive
    }

    /// flock(2): an advisory lock on an open file, released when the descriptor closes
    /// (the kernel drops it when the process dies, so a stale pid file does not block).
    /// With `wait: false` it returns false at once if another holder has it.
    @discardableResult
    public static func lock(_ fd: FileDescriptor, _ mode: LockMode = .exclusive, wait: Bool = true) throws -> Bool {
        let operation = (mode == .exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while true {
            if flock(fd.rawValue, operation) == 0 { return true }
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK && !wait { return false }
            throw SystemError(errno: code, function: "flock")
        }
    }

    /// Releases a `lock`.
    public static func unlock(_ fd: FileDescriptor) throws {
        _ = try Posix.call("flock(LOCK_UN)") { flock(fd.rawValue, LOCK_UN) }
    }

    /// The directory part of `path` ("." for a bare name, "/" for a top-level entry).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// A fresh directory under `parent` (mkdtemp), for tests and scratch work.
    public static func makeTemporaryDirectory(in parent: String = "/tmp", prefix: String = "meshlab") throws -> String {
        var template = Array("\(parent)/\(prefix).XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard result != nil else { throw SystemError(errno: errno, function: "mkdtemp(\(parent))") }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// rm -r: removes `path` and everything under it (not following symbolic links).
    /// Nothing there is fine.
    public static func removeTree(_ path: String) throws {
        guard let kind = try kind(of: path) else { return }
        if kind == .directory {
            for entry in try directoryEntries(path) { try removeTree(path + "/" + entry) }
        }
        try remove(path)
    }

    /// Names in a directory, without "." and "..".
    public static func directoryEntries(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw SystemError(errno: errno, function: "opendir(\(path))") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
