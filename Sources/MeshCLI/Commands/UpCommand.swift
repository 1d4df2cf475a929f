import MeshControlPlane
import MeshModel
import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// `meshlab up`: starts the lab and returns once it is ready.
struct UpCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "up",
        abstract: "Start the lab and wait until it is ready.",
        discussion: "Starts the lab's daemon in the background (or, with --foreground, in this process until Ctrl-C), printing each startup step with its time, then the API address. When the lab is already up it says so; when a previous lab stopped without 'meshlab down', what it left is removed first.",
        examples: ["meshlab up", "meshlab up --api-port 16080", "meshlab --state-dir /tmp/lab up --foreground"]
    )
    static let arguments: [ArgumentSpec] = [
        .flag("foreground", help: "Run the daemon in this process (for containers and CI) until SIGTERM or Ctrl-C."),
        .option("api-port", valueName: "port", help: "TCP port of the API on 127.0.0.1 (0: any free port).", default: "15080"),
        .option("timeout", valueName: "seconds", help: "How long to wait for the lab to become ready.", default: "30"),
    ]

    var foreground: Bool
    var apiPort: UInt16
    var timeoutSeconds: Int

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        foreground = arguments.flag("foreground")
        apiPort = UInt16(try arguments.integer("api-port", range: 0...65535) ?? 15080)
        timeoutSeconds = try arguments.integer("timeout", range: 1...3600) ?? 30
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
        case .crashed(let leftovers):
            LabState.removeLeftovers(state)
            context.print("removed what a lab that stopped without 'meshlab down' left: \(leftovers.joined(separator: ", "))")
        case .down:
            break
        }
        let listener: FileDescriptor
        do {
            listener = try Self.listen(port: apiPort)
        } catch let error as SystemError where error.errno == EADDRINUSE {
            context.printError("meshlab up: 127.0.0.1:\(apiPort) is already in use: stop what listens there, or pick another port with --api-port")
            return .failure
        }
        context.print("meshlab up: starting the lab in \(state.path)")
        return foreground
            ? try await runInForeground(state, listener: listener, context: context)
            : try await startInBackground(state, listener: listener, context: context)
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

    func runInForeground(_ state: StateDirectory, listener: FileDescriptor, context: CommandContext) async throws -> ExitCode {
        let options = ControlPlaneOptions(
            stateDirectory: state, apiAddress: .loopback(port: apiPort), inheritedAPIListener: listener,
            progress: { event in
                switch event {
                case .step, .failed: context.print(Self.describe(event))
                case .ready:
                    context.print(Self.describe(event))
                    if let info = DaemonInfo.read(from: state.daemonInfo) {
                        for line in Self.summary(info) { context.print(line) }
                    }
                    context.print("running in the foreground: Ctrl-C or SIGTERM stops the lab")
                }
            },
            log: { line in context.stderr.write("\(Timestamp.format(epochSeconds: Timestamp.now())) \(line)\n") })
        try Signals.ignoreBrokenPipe()
        try await ControlPlane.run(options)
        context.print("meshlab is down")
        return .success
    }

    func startInBackground(_ state: StateDirectory, listener: FileDescriptor, context: CommandContext) async throws -> ExitCode {
        let pipe = try Posix.pipe()
        var spawn = SpawnConfiguration(
            executable: try CurrentProcess.executablePath(),
            arguments: ["daemon", "--state-dir", state.path, "--api-port", String(apiPort), "--api-fd", "3", "--progress-fd", "4"],
            environment: context.environment)
        spawn.standardInput = .null
        spawn.standardOutput = .file(state.daemonLog, append: true)
        spawn.standardError = .file(state.daemonLog, append: true)
        spawn.inheritedDescriptors = [3: listener, 4: pipe.write]
        spawn.newSession = true
        let child = try ChildProcess.spawn(spawn)
        try pipe.write.close()
        try listener.close()

        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        var pending = ""
        while true {
            let remaining = deadline - ContinuousClock.now
            let millis = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
            guard millis > 0, try Posix.waitReadable(pipe.read, timeoutMilliseconds: Int32(clamping: millis)) else {
                try? child.send(.kill)
                _ = try? child.wait()
                context.printError("meshlab up: the lab was not ready after \(timeoutSeconds)s; stopped it. Its log, \(state.daemonLog), ends with:")
                for line in Self.tail(of: state.daemonLog) { context.printError("  " + line) }
                return .failure
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let read = try Posix.read(pipe.read, into: &buffer, range: 0..<buffer.count)
            guard case .done(let count) = read, count > 0 else {
                // The daemon closed the pipe without saying ready: it failed or died.
                let status = try? child.wait()
                context.printError("meshlab up: the daemon stopped while starting (\(status.map(String.init(describing:)) ?? "unknown status")). Its log, \(state.daemonLog), ends with:")
                for line in Self.tail(of: state.daemonLog) { context.printError("  " + line) }
                LabState.removeLeftovers(state)
                return .failure
            }
            pending += String(decoding: buffer[0..<count], as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                guard let event = StartupEvent(line: line) else { continue }
                switch event {
                case .step:
                    context.print(Self.describe(event))
                case .ready:
                    context.print(Self.describe(event))
                    if let info = DaemonInfo.read(from: state.daemonInfo) {
                        for line in Self.summary(info) { context.print(line) }
                    }
                    return .success
                case .failed(let message):
                    _ = try? child.wait()
                    context.printError("meshlab up: \(message)")
                    return .failure
                }
            }
        }
    }

    static func describe(_ event: StartupEvent) -> String {
        switch event {
        case .step(let name, let detail, let elapsed):
            "  [\(StartupEvent.seconds(elapsed))s] \(name): \(detail)"
        case .ready(let elapsed):
            "meshlab is up after \(StartupEvent.seconds(elapsed))s"
        case .failed(let message):
            "meshlab up: \(message)"
        }
    }

    static func summary(_ info: DaemonInfo) -> [String] {
        [
            "  API:   \(info.apiURL)  (unix socket \(info.apiSocket))",
            "  mode:  \(info.mode)",
            "  next:  meshlab apply -f FILE   meshlab get ns   meshlab status   meshlab down",
        ]
    }

    /// The last lines of a log file, for failure messages.
    static func tail(of path: String, lines: Int = 15) -> [String] {
        guard let bytes = try? Files.read(path) else { return ["(no log)"] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(lines).map(String.init)
    }
}
