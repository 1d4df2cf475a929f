#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// How a child process exits.
public enum ExitStatus: Hashable, Sendable, CustomStringConvertible {
    case exited(code: CInt)
    case signaled(Signal)

    /// Decodes a waitpid(2) status (the WIFEXITED/WTERMSIG macros, which Swift lacks).
    public init(waitStatus status: CInt) {
        let termination = status & 0x7f
        if termination == 0 {
            self = .exited(code: (status >> 8) & 0xff)
        } else {
            self = .signaled(Signal(rawValue: termination))
        }
    }

    public var isSuccess: Bool { self == .exited(code: 0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let signal): return "killed by \(signal)"
        }
    }
}

/// What to start: posix_spawn(3)'s arguments as a value.
///
/// Never fork in meshlab: fork in a multithreaded process copies locks held by other
/// threads. posix_spawn (vfork + exec in glibc) is safe and fast. The child starts with
/// default signal dispositions and an empty signal mask, and inherits only the
/// descriptors named here. meshlab opens everything close-on-exec, but a process that
/// started meshlab may have left descriptors open without it (a caller's pipe, kept
/// open by a daemon, would never see EOF), so the child closes all others before exec.
public struct SpawnConfiguration: Sendable {
    /// Where a standard stream of the child goes.
    public enum Redirect: Sendable {
        /// The parent's own stream.
        case inherit
        /// /dev/null.
        case null
        /// A file, created with mode 0644 if missing; truncated unless `append`.
        case file(String, append: Bool = false)
        /// An open descriptor of the parent (a pipe end, a log file).
        case descriptor(FileDescriptor)
    }

    /// Path of the program; without a "/" it is looked up in PATH (posix_spawnp).
    public var executable: String
    /// argv[1...].
    public var arguments: [String]
    /// argv[0]; the executable when nil.
    public var argument0: String?
    /// The whole environment; nil inherits the parent's.
    public var environment: [String: String]?
    /// Directory to start in; nil: the parent's.
    public var workingDirectory: String?
    public var standardInput: Redirect = .inherit
    public var standardOutput: Redirect = .inherit
    public var standardError: Redirect = .inherit
    /// Descriptors the child gets, by number in the child (socket activation: `[3: listener]`).
    public var inheritedDescriptors: [CInt: FileDescriptor] = [:]
    /// Start a new session (setsid): the child leaves the parent's terminal and process group,
    /// so a terminal's Ctrl-C does not reach it.
    public var newSession = false
    /// Put the child in process group `pgid` (0: a new group led by the child). Ignored with `newSession`.
    public var processGroup: pid_t?

    public init(executable: String, arguments: [String] = [], environment: [String: String]? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }
}

/// A started child process. Reap it with `wait()` (or `tryWait()`), or it stays a zombie.
public struct ChildProcess: Hashable, Sendable, CustomStringConvertible {
    public let pid: pid_t

    public init(pid: pid_t) { self.pid = pid }

    public var description: String { "process \(pid)" }

    /// posix_spawn(3)s `configuration`. Expect ENOENT/EACCES for the executable and
    /// ENOENT/EACCES for a redirect file, which the child reports before exec.
    public static func spawn(_ configuration: SpawnConfiguration) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        try check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init")
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        try check(posix_spawnattr_init(&attributes), "posix_spawnattr_init")
        defer { posix_spawnattr_destroy(&attributes) }

        // Descriptors that a dup2 in the child would otherwise clobber or keep close-on-exec
        // are first copied to fresh numbers (released when this call returns).
        var temporaries: [FileDescriptor] = []
        func source(_ fd: FileDescriptor, target: CInt) throws -> CInt {
            let raw = fd.rawValue
            if raw == target || raw <= 2 || configuration.inheritedDescriptors.keys.contains(raw) {
                let copy = try Posix.duplicate(fd)
                temporaries.append(copy)
                return copy.rawValue
            }
            return raw
        }

        let streams: [(CInt, SpawnConfiguration.Redirect)] = [
            (0, configuration.standardInput), (1, configuration.standardOutput), (2, configuration.standardError),
        ]
        // Resolve every source before the first dup2, so no dup2 overwrites a later source.
        var plan: [(target: CInt, action: PlannedAction)] = []
        for (target, redirect) in streams {
            switch redirect {
            case .inherit: break
            case .null: plan.append((target, .open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY)))
            case .file(let path, let append):
                plan.append((target, .open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC))))
            case .descriptor(let fd): plan.append((target, .dup(try source(fd, target: target))))
            }
        }
        for (target, fd) in configuration.inheritedDescriptors.sorted(by: { $0.key < $1.key }) {
            plan.append((target, .dup(try source(fd, target: target))))
        }
        for (target, action) in plan {
            switch action {
            case .open(let path, let flags):
                try check(posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o644),
                          "posix_spawn_file_actions_addopen(\(path))")
            case .dup(let from):
                try check(posix_spawn_file_actions_adddup2(&actions, from, target), "posix_spawn_file_actions_adddup2")
            }
        }
        let firstUnnamed = (configuration.inheritedDescriptors.keys.max() ?? 2) + 1
        try check(meshlab_spawn_addclosefrom(&actions, firstUnnamed), "posix_spawn_file_actions_addclosefrom_np")
        if let directory = configuration.workingDirectory {
            try check(meshlab_spawn_addchdir(&actions, directory), "posix_spawn_file_actions_addchdir(\(directory))")
        }

        var flags = CInt(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if configuration.newSession {
            flags |= MESHLAB_POSIX_SPAWN_SETSID
        } else if let group = configuration.processGroup {
            flags |= CInt(POSIX_SPAWN_SETPGROUP)
            try check(posix_spawnattr_setpgroup(&attributes, group), "posix_spawnattr_setpgroup")
        }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in 1..<CInt(32) where number != SIGKILL && number != SIGSTOP { sigaddset(&defaults, number) }
        try check(posix_spawnattr_setsigdefault(&attributes, &defaults), "posix_spawnattr_setsigdefault")
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        try check(posix_spawnattr_setsigmask(&attributes, &emptyMask), "posix_spawnattr_setsigmask")
        try check(posix_spawnattr_setflags(&attributes, Int16(flags)), "posix_spawnattr_setflags")

        let argv = [configuration.argument0 ?? configuration.executable] + configuration.arguments
        let environment = configuration.environment.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        var pid: pid_t = 0
        let result = withCStrings(argv) { argvPointers in
            func spawn(_ envp: UnsafePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
                if configuration.executable.contains("/") {
                    return posix_spawn(&pid, configuration.executable, &actions, &attributes, argvPointers, envp)
                }
                return posix_spawnp(&pid, configuration.executable, &actions, &attributes, argvPointers, envp)
            }
            if let environment {
                return withCStrings(environment) { spawn($0) }
            }
            return spawn(meshlab_environ())
        }
        withExtendedLifetime(temporaries) {}
        try check(result, "posix_spawn(\(configuration.executable))")
        return ChildProcess(pid: pid)
    }

    private enum PlannedAction {
        case open(String, CInt)
        case dup(CInt)
    }

    private static func check(_ result: CInt, _ function: @autoclosure () -> String) throws {
        if result != 0 { throw SystemError(errno: result, function: function()) }
    }

    /// waitpid(2), blocking until the child exits. Not on an event loop thread: use
    /// `ChildProcess.exitStatus(on:)` from MeshIO there. Expect ECHILD (already reaped).
    public func wait() throws -> ExitStatus {
        var status: CInt = 0
        _ = try Posix.call("waitpid(\(pid))") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }

    /// waitpid(2) with WNOHANG: the exit status if the child has exited (reaping it), nil if it runs.
    public func tryWait() throws -> ExitStatus? {
        var status: CInt = 0
        let result = try Posix.call("waitpid(\(pid), WNOHANG)") { waitpid(pid, &status, WNOHANG) }
        return result == 0 ? nil : ExitStatus(waitStatus: status)
    }

    /// Sends `signal` to the child (kill(2)). Expect ESRCH once it has been reaped.
    public func send(_ signal: Signal) throws {
        try Signals.send(signal, to: pid)
    }

    /// pidfd_open(2) (Linux 5.3+): a descriptor that becomes readable when the child
    /// exits, so an event loop can wait for it without a thread or SIGCHLD.
    public func openDescriptor() throws -> FileDescriptor {
        FileDescriptor(owning: try Posix.call("pidfd_open(\(pid))") { meshlab_pidfd_open(pid, 0) })
    }
}

/// Calls `body` with a NULL-terminated C array of the strings (argv/envp shape).
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Facts about the calling process.
public enum CurrentProcess {
    /// getpid(2).
    public static var id: pid_t { getpid() }
    /// getuid(2): the real user id (0 for root).
    public static var userID: uid_t { getuid() }
    /// geteuid(2): the effective user id, what permission checks use.
    public static var effectiveUserID: uid_t { geteuid() }

    /// The running binary's path (readlink /proc/self/exe): what a re-exec starts.
    public static func executablePath() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = try Posix.call("readlink(/proc/self/exe)") { readlink("/proc/self/exe", &buffer, buffer.count - 1) }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
