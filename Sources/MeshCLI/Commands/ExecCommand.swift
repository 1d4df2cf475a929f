import MeshIO
import MeshSystem

/// `meshlab exec POD -- CMD ARGS`: runs a program of this machine inside a
/// pod: its network namespace, its /etc/resolv.conf and /etc/hosts, its
/// hostname and user, its container's environment.
struct ExecCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "exec",
        abstract: "Run a command inside a pod.",
        discussion: "The command is a program of this machine (curl, python3, sh...) run in the pod's namespaces as the container's user with its environment, as 'kubectl exec' runs one from the image. Its exit code is meshlab's.",
        examples: ["meshlab exec deploy/sleep -- curl -s http://productpage:9080/productpage",
                   "meshlab exec productpage-v1-6f7dc9b58c-7r72c -- cat /etc/resolv.conf"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("pod", help: "The pod: NAME, pod/NAME, or deploy/NAME for one of a Deployment's pods."),
        .option("container", short: "c", valueName: "name", help: "The container whose user and environment to use."),
        .option("namespace", short: "n", valueName: "ns", help: "The pod's namespace (default: default)."),
        .passthrough("command", help: "The program and its arguments."),
    ]

    var pod: String
    var container: String?
    var namespace: String
    var command: [String]

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        pod = arguments.positional("pod") ?? ""
        container = arguments.option("container")
        namespace = arguments.option("namespace") ?? "default"
        command = arguments.passthrough
        guard !command.isEmpty else { throw UsageError("you must specify at least one command after --") }
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let spawn: SpawnConfiguration
        do {
            spawn = try await PodCommandLine.spawn(pod: pod, namespace: namespace, container: container, context: context) { _ in
                command
            }.configuration
        } catch let error as PodCommandLine.NoSandbox {
            context.printError("meshlab exec: \(error)")
            return .failure
        }
        let status = try await ChildProcess.spawn(spawn).exitStatus(on: EventLoopGroup.shared.next())
        switch status {
        case .exited(let code): return ExitCode(code)
        case .signaled(let signal): return ExitCode(128 + signal.rawValue)
        }
    }
}
