import FoundationEssentials
import MeshSystem

/// Runs the real `meshlab` binary in tests that need processes: the daemon,
/// `up`/`down`, crash recovery.
public enum MeshlabProcess {
    /// The binary under test: $MESHLAB_BIN (what `make test` sets), else the
    /// `meshlab` built next to the test bundle.
    public static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["MESHLAB_BIN"], !path.isEmpty { return path }
        let bundle = try CurrentProcess.executablePath()
        var directory = Files.parentDirectory(of: bundle)
        while !directory.isEmpty && directory != "/" {
            let candidate = directory + "/meshlab"
            if (try? Files.kind(of: candidate)) == .regular { return candidate }
            directory = Files.parentDirectory(of: directory)
        }
        throw Missing(description: "no meshlab binary next to \(bundle); build it (swift build) or set MESHLAB_BIN")
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Result: Sendable {
        public var status: ExitStatus
        public var stdout: String
        public var stderr: String
        public var code: CInt? { if case .exited(let code) = status { code } else { nil } }
    }

    /// Runs `meshlab ARGS` to completion, capturing its output; the caller
    /// suspends meanwhile (see `offloaded`).
    public static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Result {
        try await offloaded { try runBlocking(arguments, environment: environment) }
    }

    /// `run` for places that cannot suspend (a `defer`, a `deinit`).
    public static func runBlocking(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-run")
        defer { try? Files.removeTree(scratch) }
        var spawn = SpawnConfiguration(executable: try binary(), arguments: arguments, environment: environment)
        spawn.standardInput = .null
        spawn.standardOutput = .file(scratch + "/out")
        spawn.standardError = .file(scratch + "/err")
        let status = try ChildProcess.spawn(spawn).wait()
        func text(_ name: String) -> String {
            (try? Files.read(scratch + "/" + name)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return Result(status: status, stdout: text("out"), stderr: text("err"))
    }
}
