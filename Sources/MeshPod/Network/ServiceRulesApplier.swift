import MeshIO
import MeshSystem

/// Where the service proxy loads rules: a pod sandbox's netns (the real
/// `ServiceRulesApplier`, or a recording fake in tests).
public protocol ServiceRulesLoader: Sendable {
    /// Loads `iptables-restore --noflush` input into the sandbox.
    func load(_ input: String, into sandbox: PodSandbox) async throws
    /// What the sandbox holds now, as `iptables-save` prints it.
    func save(from sandbox: PodSandbox) async throws -> String
}

/// Loads rendered service rules into a pod's network namespace: the thin
/// shell around `ServiceRules.restoreInput`.
///
/// iptables acts on the network namespace it runs in, so the program is
/// spawned from a `NamespaceThread` that has entered the pod's netns (a
/// child starts in its spawning thread's namespaces): no `ip netns exec`,
/// no extra exec of meshlab.
public struct ServiceRulesApplier: ServiceRulesLoader {
    public var iptablesRestore: String
    public var iptablesSave: String
    let thread: NamespaceThread

    /// The programs are found in PATH or the sbin directories (as `Preflight` checks).
    public init(iptablesRestore: String = Preflight.locate("iptables-restore") ?? "iptables-restore",
                iptablesSave: String = Preflight.locate("iptables-save") ?? "iptables-save",
                thread: NamespaceThread = .shared) {
        self.iptablesRestore = iptablesRestore
        self.iptablesSave = iptablesSave
        self.thread = thread
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var command: String
        public var namespace: String
        public var status: ExitStatus
        public var stderr: String

        public var description: String {
            let detail = stderr.split(separator: "\n").prefix(3).joined(separator: "; ")
            return "\(command) in \(namespace) \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    /// `iptables-restore --noflush` of `input` in the netns at `namespace`.
    /// The input is kept as `<directory>/service-rules` (what was loaded last).
    public func load(_ input: String, intoNamespace namespace: String, directory: String) async throws {
        let file = directory + "/service-rules"
        let fd = try Files.open(file, .truncate, mode: 0o644)
        do {
            try Files.write(fd, Array(input.utf8))
            try fd.close()
        } catch {
            try? fd.close()
            throw error
        }
        // `--wait=5`, attached: a detached value would take the file name as the seconds.
        _ = try await run(iptablesRestore, ["--wait=5", "--noflush", file], namespace: namespace, directory: directory)
    }

    public func load(_ input: String, into sandbox: PodSandbox) async throws {
        guard let namespace = sandbox.networkNamespace else { return }
        try await load(input, intoNamespace: namespace, directory: sandbox.directory)
    }

    public func save(from sandbox: PodSandbox) async throws -> String {
        guard let namespace = sandbox.networkNamespace else { return "" }
        return try await save(namespace: namespace, directory: sandbox.directory)
    }

    /// `iptables-save` in the netns at `namespace`: what is loaded there now.
    public func save(namespace: String, directory: String) async throws -> String {
        try await run(iptablesSave, [], namespace: namespace, directory: directory)
    }

    /// Runs `program` inside the netns and returns its stdout; a non-zero exit throws with its stderr.
    private func run(_ program: String, _ arguments: [String], namespace: String, directory: String) async throws -> String {
        let output = directory + "/.\(program.split(separator: "/").last ?? "iptables").out"
        let errors = directory + "/.\(program.split(separator: "/").last ?? "iptables").err"
        defer {
            _ = try? Files.remove(output)
            _ = try? Files.remove(errors)
        }
        var spawn = SpawnConfiguration(executable: program, arguments: arguments)
        spawn.standardInput = .null
        spawn.standardOutput = .file(output)
        spawn.standardError = .file(errors)
        let child = try await thread.run { [spawn] () throws -> ChildProcess in
            try Namespaces.enter(namespace, kind: .network)
            return try ChildProcess.spawn(spawn)
        }
        let status = try await child.exitStatus(on: EventLoopGroup.shared.next())
        func text(_ path: String) -> String { (try? Files.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        guard status.isSuccess else {
            throw Failure(command: ([program] + arguments).joined(separator: " "), namespace: namespace, status: status,
                          stderr: text(errors))
        }
        return text(output)
    }
}
