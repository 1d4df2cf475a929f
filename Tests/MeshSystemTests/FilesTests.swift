import Glibc
import MeshSystem
import Testing

@Suite struct FilesTests {
    @Test func directoriesAtomicWritesLocksAndModes() throws {
        let root = try Files.makeTemporaryDirectory()
        defer { try? Files.removeTree(root) }
        let state = root + "/a/b/state"
        try Files.makeDirectories(state, mode: 0o700)
        try Files.makeDirectories(state, mode: 0o700)  // again: fine
        #expect(try Files.kind(of: state) == .directory)
        #expect(try Files.mode(of: state) & 0o077 == 0)

        let file = state + "/snapshot.json"
        try Files.writeAtomically(file, Array("{}".utf8), mode: 0o600)
        try Files.writeAtomically(file, Array("{\"v\":2}".utf8), mode: 0o600)
        #expect(try Files.read(file) == Array("{\"v\":2}".utf8))
        #expect(try Files.kind(of: file + ".tmp") == nil)
        try Files.setMode(file, 0o640)
        #expect(try Files.mode(of: file) == 0o640)

        let log = try Files.open(state + "/wal", .append, mode: 0o600)
        try Files.write(log, [1, 2, 3, 4, 5])
        try Files.syncData(log)
        try Files.truncate(log, size: 2)
        #expect(try Files.size(log) == 2)
        try log.close()

        let lockPath = state + "/daemon.lock"
        let holder = try Files.open(lockPath, .readWrite, mode: 0o600)
        #expect(try Files.lock(holder, wait: false))
        let contender = try Files.open(lockPath, .readWrite)
        #expect(try !Files.lock(contender, wait: false))
        try holder.close()  // closing releases the lock
        #expect(try Files.lock(contender, wait: false))

        try Files.rename(file, to: state + "/renamed.json")
        #expect(try Files.directoryEntries(state) == ["daemon.lock", "renamed.json", "wal"])
        #expect(try Files.remove(state + "/renamed.json"))
        #expect(try !Files.remove(state + "/renamed.json"))
    }

    @Test func errorsNameTheCallAndPath() {
        #expect(throws: SystemError(errno: ENOENT, function: "open(/nonexistent/x)")) {
            _ = try Files.open("/nonexistent/x", .read)
        }
        #expect(Files.parentDirectory(of: "/a/b") == "/a")
        #expect(Files.parentDirectory(of: "/a") == "/")
        #expect(Files.parentDirectory(of: "a") == ".")
    }

    @Test func fileDescriptorClosesOnceAndCanBeReleased() throws {
        let pipe = try Posix.pipe()
        let raw = pipe.read.rawValue
        try pipe.read.close()
        try pipe.read.close()  // second close does nothing
        #expect(!pipe.read.isOpen)
        #expect(fcntl(raw, F_GETFD) == -1)
        let kept = pipe.write.release()
        #expect(!pipe.write.isOpen)
        #expect(fcntl(kept, F_GETFD) != -1)  // still open: ownership moved to us
        _ = Glibc.close(kept)
    }
}
