import MeshSystem

/// Applies `CaptureRules` in the network namespace this process runs in:
/// the thin shell `meshlab pod-init` (the istio-init role) runs in a pod's
/// netns. Everything goes through iptables' own programs, with the input
/// on a pipe: nothing is written to any file, so nothing is left on the
/// host; the rules live in the pod's netns and go with it.
///
/// As istio-iptables does: if Istio's chains are there already (the init
/// container ran before in this sandbox) and every rule checks, nothing is
/// done; if they are there but differ, the old ones are cleaned up first
/// (its `--reconcile`); then one `iptables-restore --noflush`, which
/// commits each table at once.
public struct CaptureApplier: Sendable {
    public var iptables: String
    public var iptablesRestore: String
    public var iptablesSave: String

    /// `binary`: `--force-iptables-binary` (iptables, iptables-nft, iptables-legacy), or nil for `iptables`.
    public init(binary: String? = nil) throws(CaptureError) {
        let name = binary.flatMap { $0.isEmpty ? nil : $0 } ?? "iptables"
        guard ["iptables", "iptables-nft", "iptables-legacy"].contains(name) else {
            throw CaptureError("--force-iptables-binary: iptables version \(name) not supported")
        }
        iptables = Preflight.locate(name) ?? name
        iptablesRestore = Preflight.locate(name + "-restore") ?? name + "-restore"
        iptablesSave = Preflight.locate(name + "-save") ?? name + "-save"
    }

    /// What `apply` did.
    public enum Outcome: Sendable, Hashable {
        case applied
        /// The same rules were in place already.
        case alreadyInPlace
        /// Earlier rules were removed before these went in.
        case replaced
        case cleanedUp
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var command: [String]
        public var status: ExitStatus
        public var output: String
        public var description: String {
            let detail = output.split(separator: "\n").prefix(3).joined(separator: "; ")
            return "\(command.joined(separator: " ")) \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    /// Installs `rules` (already placed for the lab), or with `cleanupOnly` removes them.
    public func apply(_ rules: [IptablesRule], cleanupOnly: Bool = false, force: Bool = false) throws -> Outcome {
        let tables = Set(rules.map(\.table)).sorted()
        var existing = false
        for table in tables {
            let save = try run(iptablesSave, ["-t", table.rawValue])
            if save.split(separator: "\n").contains(where: { $0.hasPrefix(":ISTIO_") }) { existing = true }
        }
        if cleanupOnly {
            cleanUp(rules)
            return .cleanedUp
        }
        if existing {
            if !force && checkFailures(rules).isEmpty { return .alreadyInPlace }
            cleanUp(rules)
        }
        _ = try run(iptablesRestore, ["--wait=5", "--noflush"], input: IptablesScript.restore(rules))
        return existing ? .replaced : .applied
    }

    /// The rules whose `iptables -C` check fails (empty: all in place).
    public func checkFailures(_ rules: [IptablesRule]) -> [IptablesRule] {
        zip(rules, IptablesScript.check(rules)).compactMap { rule, command in
            (try? run(iptables, ["--wait=5"] + command)) == nil ? rule : nil
        }
    }

    /// Each cleanup command, failures ignored (a rule or chain already gone).
    public func cleanUp(_ rules: [IptablesRule]) {
        for command in IptablesScript.cleanup(rules) { _ = try? run(iptables, ["--wait=5"] + command) }
    }

    /// `iptables-save -t TABLE` for each table the rules use.
    public func save(_ rules: [IptablesRule]) throws -> String {
        var text = ""
        for table in Set(rules.map(\.table)).sorted() { text += try run(iptablesSave, ["-t", table.rawValue]) }
        return text
    }

    /// Runs `program`, `input` on its stdin, and returns stdout and stderr
    /// together; a non-zero exit throws with them.
    func run(_ program: String, _ arguments: [String], input: String? = nil) throws -> String {
        let output = try Posix.pipe()
        let stdin = try input.map { _ in try Posix.pipe() }
        var spawn = SpawnConfiguration(executable: program, arguments: arguments)
        spawn.standardInput = stdin.map { .descriptor($0.read) } ?? .null
        spawn.standardOutput = .descriptor(output.write)
        spawn.standardError = .descriptor(output.write)
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(spawn)
        } catch {
            try? output.read.close()
            try? output.write.close()
            try? stdin?.read.close()
            try? stdin?.write.close()
            throw error
        }
        try? output.write.close()
        if let stdin, let input {
            try? stdin.read.close()
            // iptables input is a few kilobytes, far below a pipe's buffer: written before reading output.
            try? Files.write(stdin.write, Array(input.utf8))
            try? stdin.write.close()
        }
        let bytes = (try? Files.readAll(output.read)) ?? []
        try? output.read.close()
        let status = try child.wait()
        let text = String(decoding: bytes, as: UTF8.self)
        guard status.isSuccess else { throw Failure(command: [program] + arguments, status: status, output: text) }
        return text
    }
}
