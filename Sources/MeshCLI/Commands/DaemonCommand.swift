import MeshControlPlane
import MeshModel
import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// `meshlab daemon`: the lab's daemon itself, as `meshlab up` starts it in
/// the background (hidden: people use `up`).
struct DaemonCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "daemon", abstract: "The lab's daemon, as 'meshlab up' starts it.", hidden: true)
    static let arguments: [ArgumentSpec] = [
        .option("api-port", valueName: "port", help: "TCP port of the API on 127.0.0.1.", default: "15080"),
        .option("api-fd", valueName: "fd", help: "An inherited listening socket for the API (socket activation)."),
        .option("progress-fd", valueName: "fd", help: "An inherited pipe to report startup steps on."),
        .flag("print-progress", help: "Print the startup steps on standard output (up --foreground)."),
    ] + LabSettings.specs

    var apiPort: Int
    var apiDescriptor: CInt?
    var progressDescriptor: CInt?
    var printProgress: Bool
    var settings: LabSettings

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        printProgress = arguments.flag("print-progress")
        settings = try LabSettings(arguments)
        apiPort = try arguments.integer("api-port", range: 0...65535) ?? 15080
        apiDescriptor = try arguments.integer("api-fd", range: 3...1024).map(CInt.init)
        progressDescriptor = try arguments.integer("progress-fd", range: 3...1024).map(CInt.init)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        try Signals.ignoreBrokenPipe()
        let progressPipe = progressDescriptor.map { FileDescriptor(owning: $0) }
        let state = StateDirectory(context.stateDirectory)
        let log: @Sendable (String) -> Void = { line in
            context.stderr.write("\(Timestamp.format(epochSeconds: Timestamp.now())) \(line)\n")
        }
        let options = ControlPlaneOptions(
            stateDirectory: state, apiAddress: .loopback(port: UInt16(apiPort)),
            inheritedAPIListener: apiDescriptor.map { FileDescriptor(owning: $0) },
            mode: settings.mode, network: settings.runsPods ? settings.published : nil,
            startNode: settings.runsPods ? NodeWiring.startNode(settings: settings, state: state, log: log) : nil,
            progress: { [printProgress] event in
                if printProgress { UpCommand.report(event, context: context, state: state) }
                guard let progressPipe else { return }
                try? Files.write(progressPipe, Array(event.line.utf8))
                if case .ready = event { try? progressPipe.close() }
            },
            log: log)
        do {
            try await ControlPlane.run(options)
            return .success
        } catch {
            log("failed: \(error)")
            if let progressPipe, progressPipe.isOpen {
                try? Files.write(progressPipe, Array(StartupEvent.failed(message: "\(error)").line.utf8))
            }
            return .failure
        }
    }
}
