import MeshClient
import MeshControlPlane
import MeshIO
import MeshModel
import MeshPod
import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// `meshlab up`: starts the lab and returns once it is ready.
struct UpCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "up",
        abstract: "Start the lab and wait until it is ready.",
        discussion: "Makes the lab's node network namespace, starts the daemon inside it in the background (or, with --foreground, until Ctrl-C), printing each startup step with its time, then the API address. When the lab is already up it says so; when a previous lab stopped without 'meshlab down', what it left is removed first. --demo applies one of Istio's samples and waits until it serves.",
        examples: ["meshlab up", "meshlab up --demo bookinfo", "meshlab up --api-port 16080", "meshlab up --mode control-plane",
                   "meshlab --state-dir /tmp/lab up --foreground"]
    )
    static let arguments: [ArgumentSpec] = [
        .flag("foreground", help: "Run the lab in the foreground (containers, CI) until SIGTERM or Ctrl-C."),
        .option("api-port", valueName: "port", help: "TCP port of the API on 127.0.0.1 (0: any free port).", default: "15080"),
        .option("demo", valueName: "name", help: "Also apply one of Istio's samples and wait until it serves.",
                choices: IstioSamples.demos.keys.sorted()),
        .option("timeout", valueName: "seconds", help: "How long to wait for the lab (and the demo) to be ready.", default: "60"),
    ] + LabSettings.specs

    var foreground: Bool
    var apiPort: UInt16
    var demo: String?
    var timeoutSeconds: Int
    var settings: LabSettings

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        foreground = arguments.flag("foreground")
        apiPort = UInt16(try arguments.integer("api-port", range: 0...65535) ?? 15080)
        demo = arguments.option("demo")
        timeoutSeconds = try arguments.integer("timeout", range: 1...3600) ?? 60
        settings = try LabSettings(arguments)
        if demo != nil && settings.mode == LabSettings.controlPlane {
            throw UsageError("--demo needs pods: it cannot be used with --mode control-plane")
        }
        if demo != nil && foreground { throw UsageError("--demo cannot be used with --foreground") }
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let state = StateDirectory(context.stateDirectory)
        do {
            try state.create()
        } catch {
            context.printError("meshlab up: cannot create the state directory \(state.path): \(error) (choose another with --state-dir)")
            return .failure
        }
        switch LabState.probe(state) {
        case .running(let pid, let info):
            context.print("meshlab is already up (pid \(pid.map(String.init) ?? "?")\(info.map { ", API \($0.apiURL)" } ?? ""))")
            return .success
        case .crashed, .down:
            let swept = await Self.removeWhatALabLeft(state, preferring: settings)
            if !swept.isEmpty { context.print("removed what a lab that stopped without 'meshlab down' left: \(swept.joined(separator: ", "))") }
        }
        if settings.runsPods {
            do {
                try await Preflight.check()
            } catch {
                let message = error.message.hasPrefix("meshlab up") ? error.message : "meshlab up: " + error.message
                context.printError(message + " (or run 'meshlab up --mode control-plane' for the API alone)")
                return .failure
            }
        }
        let listener: FileDescriptor
        do {
            listener = try Self.listen(port: apiPort)
        } catch let error as SystemError where error.errno == EADDRINUSE {
            context.printError("meshlab up: 127.0.0.1:\(apiPort) is already in use: stop what listens there, or pick another port with --api-port")
            return .failure
        }
        try settings.write(to: state)
        let clock = ContinuousClock()
        let started = clock.now
        context.print("meshlab up: starting the lab in \(state.path)")
        var arguments = ["daemon", "--state-dir", state.path, "--api-port", String(apiPort), "--api-fd", "3"] + settings.arguments
        if settings.runsPods {
            do {
                let node = try await NodeNetwork.create(settings.network)
                context.print("  [\(StartupEvent.seconds(clock.seconds(since: started)))s] node: network namespace \(node.namespacePath), bridge \(LabNetworkConfiguration.bridgeName) \(settings.network.gatewayAddress)/\(settings.podCIDR.prefixLength)")
                arguments = node.daemonEnterRequest(program: try CurrentProcess.executablePath(), arguments: arguments).commandLine
            } catch {
                context.printError("meshlab up: cannot make the lab's network: \(error)")
                await Self.sweep(settings, state)
                return .failure
            }
        }
        let status = foreground
            ? try await runInForeground(state, arguments: arguments, listener: listener, context: context)
            : try await startInBackground(state, arguments: arguments, listener: listener, context: context,
                                          launchedAfter: clock.seconds(since: started))
        guard status == .success, let demo, !foreground else { return status }
        return await DemoApplier(state: state, settings: settings, timeout: .seconds(timeoutSeconds))
            .apply(demo, context: context, started: started)
    }

    /// The API's TCP socket, opened here and handed to the daemon, so that a
    /// busy port is reported by `up` itself and the socket belongs to this
    /// process's network namespace wherever the daemon runs.
    static func listen(port: UInt16) throws -> FileDescriptor {
        let address = SocketAddress.loopback(port: port)
        let socket = try Sockets.makeSocket(family: address.family, kind: .stream)
        try Sockets.setReuseAddress(socket)
        try Sockets.bind(socket, to: address)
        try Sockets.listen(socket, backlog: 1024)
        return socket
    }

    /// Everything a lab that is not running left: its files and, when it ran
    /// pods, its processes and network namespaces. Returns what was removed.
    static func removeWhatALabLeft(_ state: StateDirectory, preferring settings: LabSettings) async -> [String] {
        var removed: [String] = []
        if case .crashed(let files) = LabState.probe(state) {
            LabState.removeLeftovers(state)
            removed += files
        }
        let previous = LabSettings.read(state) ?? settings
        if previous.runsPods {
            let report = await LabSweep.sweep(previous.network, podsDirectory: LabSettings.podsDirectory(state))
            removed += report.removedNamespaces.map { "netns \($0)" }
            if !report.stoppedProcesses.isEmpty { removed.append("\(report.stoppedProcesses.count) processes") }
        }
        return removed
    }

    static func sweep(_ settings: LabSettings, _ state: StateDirectory) async {
        if settings.runsPods { _ = await LabSweep.sweep(settings.network, podsDirectory: LabSettings.podsDirectory(state)) }
        LabState.removeLeftovers(state)
    }

    /// The daemon as a child of this process, its output on ours; SIGTERM and
    /// SIGINT are passed on, and what it leaves is swept when it exits.
    func runInForeground(_ state: StateDirectory, arguments: [String], listener: FileDescriptor,
                         context: CommandContext) async throws -> ExitCode {
        var spawn = SpawnConfiguration(executable: try CurrentProcess.executablePath(),
                                       arguments: arguments + ["--print-progress"], environment: context.environment)
        spawn.standardInput = .null
        spawn.inheritedDescriptors = [3: listener]
        let signals = try Signals.stream([.terminate, .interrupt])
        let child = try ChildProcess.spawn(spawn)
        try listener.close()
        let forwarding = Task {
            for await signal in signals { try? child.send(signal) }
        }
        let status = try await child.exitStatus(on: EventLoopGroup.shared.next())
        forwarding.cancel()
        await Self.sweep(settings, state)
        context.print("meshlab is down (\(status))")
        return status.isSuccess ? .success : .failure
    }

    /// `launchedAfter`: seconds `up` spent before starting the daemon, added to
    /// the daemon's own step times so that one timeline is printed.
    func startInBackground(_ state: StateDirectory, arguments: [String], listener: FileDescriptor,
                           context: CommandContext, launchedAfter: Double) async throws -> ExitCode {
        let pipe = try Posix.pipe()
        var spawn = SpawnConfiguration(executable: try CurrentProcess.executablePath(),
                                       arguments: arguments + ["--progress-fd", "4"], environment: context.environment)
        spawn.standardInput = .null
        spawn.standardOutput = .file(state.daemonLog, append: true)
        spawn.standardError = .file(state.daemonLog, append: true)
        spawn.inheritedDescriptors = [3: listener, 4: pipe.write]
        spawn.newSession = true
        let child = try ChildProcess.spawn(spawn)
        try pipe.write.close()
        try listener.close()

        func fail(_ message: String) async -> ExitCode {
            context.printError("meshlab up: \(message). Its log, \(state.daemonLog), ends with:")
            for line in Self.tail(of: state.daemonLog) { context.printError("  " + line) }
            await Self.sweep(settings, state)
            return .failure
        }

        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        var pending = ""
        while true {
            let millis = ContinuousClock().milliseconds(until: deadline)
            guard millis > 0, try Posix.waitReadable(pipe.read, timeoutMilliseconds: Int32(clamping: millis)) else {
                try? child.send(.kill)
                _ = try? child.wait()
                return await fail("the lab was not ready after \(timeoutSeconds)s; stopped it")
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let read = try Posix.read(pipe.read, into: &buffer, range: 0..<buffer.count)
            guard case .done(let count) = read, count > 0 else {
                // The daemon closed the pipe without saying ready: it failed or died.
                let status = try? child.wait()
                return await fail("the daemon stopped while starting (\(status.map(String.init(describing:)) ?? "unknown status"))")
            }
            pending += String(decoding: buffer[0..<count], as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                guard let event = StartupEvent(line: line) else { continue }
                Self.report(event, context: context, state: state, offset: launchedAfter)
                switch event {
                case .step: continue
                case .ready: return .success
                case .failed:
                    _ = try? child.wait()
                    await Self.sweep(settings, state)
                    return .failure
                }
            }
        }
    }

    /// Prints one startup event as `up` shows it (also what `daemon --print-progress` prints).
    static func report(_ event: StartupEvent, context: CommandContext, state: StateDirectory, offset: Double = 0) {
        switch event {
        case .step(let name, let detail, let elapsed):
            context.print("  [\(StartupEvent.seconds(elapsed + offset))s] \(name): \(detail)")
        case .ready(let elapsed):
            context.print("meshlab is up after \(StartupEvent.seconds(elapsed + offset))s")
            if let info = DaemonInfo.read(from: state.daemonInfo) {
                for line in summary(info) { context.print(line) }
            }
        case .failed(let message):
            context.printError("meshlab up: \(message)")
        }
    }

    static func summary(_ info: DaemonInfo) -> [String] {
        var lines = [
            "  API:   \(info.apiURL)  (unix socket \(info.apiSocket))",
            "  mode:  \(info.mode)",
        ]
        if let network = info.network {
            lines.append("  pods:  \(network.podCIDR), services \(network.serviceCIDR), DNS \(network.dnsAddress)")
        }
        lines.append("  next:  meshlab apply -f FILE   meshlab get pods -A   meshlab status   meshlab down")
        return lines
    }

    /// The last lines of a log file, for failure messages.
    static func tail(of path: String, lines: Int = 15) -> [String] {
        guard let bytes = try? Files.read(path) else { return ["(no log)"] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(lines).map(String.init)
    }
}

extension ContinuousClock {
    func seconds(since start: Instant) -> Double {
        let duration = now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func milliseconds(until deadline: Instant) -> Int64 {
        let remaining = deadline - now
        return remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
    }
}
