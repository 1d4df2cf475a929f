import MeshControlPlane
import MeshPod
import MeshSystem

/// `meshlab down`: stops the lab and removes what it made (its state stays).
struct DownCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "down",
        abstract: "Stop the lab.",
        discussion: "Asks the daemon to stop (SIGTERM), waits for it, and removes the files a running lab has (socket, daemon.json). The store stays, so the next 'meshlab up' finds your objects. After --timeout seconds the daemon is killed.",
        examples: ["meshlab down"]
    )
    static let arguments: [ArgumentSpec] = [
        .option("timeout", valueName: "seconds", help: "How long to wait for a graceful stop before killing the daemon.", default: "15"),
    ]

    var timeoutSeconds: Int

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        timeoutSeconds = try arguments.integer("timeout", range: 1...3600) ?? 15
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let state = StateDirectory(context.stateDirectory)
        switch LabState.probe(state) {
        case .down, .crashed:
            let removed = await UpCommand.removeWhatALabLeft(state, preferring: LabSettings.defaults)
            context.print(removed.isEmpty ? "meshlab is not up" : "meshlab was not running; removed what it left: \(removed.joined(separator: ", "))")
            return .success
        case .running(let pid, _):
            guard let pid else {
                context.printError("meshlab down: a daemon holds \(state.daemonLock) but its pid is unknown; try again in a moment")
                return .failure
            }
            let clock = ContinuousClock()
            let started = clock.now
            try? Signals.send(.terminate, to: pid)
            var stopped = await Self.waitUntilStopped(pid, state, timeout: .seconds(timeoutSeconds))
            if !stopped {
                context.printError("meshlab down: pid \(pid) did not stop within \(timeoutSeconds)s; killing it")
                try? Signals.send(.kill, to: pid)
                stopped = await Self.waitUntilStopped(pid, state, timeout: .seconds(5))
            }
            guard stopped else {
                context.printError("meshlab down: pid \(pid) is still running after SIGKILL")
                return .failure
            }
            let report = await Self.sweep(state)
            for error in report { context.printError("meshlab down: \(error)") }
            let took = clock.now - started
            let millis = took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000
            context.print("meshlab is down (stopped pid \(pid) in \(StartupEvent.seconds(Double(millis) / 1000))s)")
            return .success
        }
    }

    /// Removes what the stopped lab made: processes left in its network
    /// namespaces, the namespaces, pod folders, the socket and daemon.json.
    /// Returns what could not be removed.
    static func sweep(_ state: StateDirectory) async -> [String] {
        var errors: [String] = []
        if let settings = LabSettings.read(state), settings.runsPods {
            errors = await LabSweep.sweep(settings.network, podsDirectory: LabSettings.podsDirectory(state)).errors
        }
        LabState.removeLeftovers(state)
        return errors
    }

    /// Polls until the daemon has exited: its lock released and its process gone.
    static func waitUntilStopped(_ pid: Int32, _ state: StateDirectory, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if case .running = LabState.probe(state) {} else if !ProcessTable.isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }
}
