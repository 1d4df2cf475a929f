import MeshClient
import MeshControlPlane
import MeshModel
import MeshPod
import MeshSystem

/// `meshlab logs POD`: what a container wrote, as `kubectl logs` shows it.
struct LogsCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "logs",
        abstract: "Print a container's output.",
        discussion: "Shows what the container's current run wrote to stdout and stderr (--previous: the run before its last restart). The lab keeps every container's output in its state directory.",
        examples: ["meshlab logs productpage-v1-6f7dc9b58c-7r72c", "meshlab logs deploy/reviews-v2 -f",
                   "meshlab logs POD -c istio-proxy --previous"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("pod", help: "The pod: NAME, pod/NAME, or deploy/NAME."),
        .option("container", short: "c", valueName: "name", help: "Which container (default: the pod's default container)."),
        .option("namespace", short: "n", valueName: "ns", help: "The pod's namespace (default: default)."),
        .flag("follow", short: "f", help: "Keep printing what the container writes, until the pod is gone or Ctrl-C."),
        .flag("previous", short: "p", help: "The output of the run before the last restart."),
        .option("tail", valueName: "lines", help: "Only the last N lines."),
    ]

    var pod: String
    var container: String?
    var namespace: String
    var follow: Bool
    var previous: Bool
    var tail: Int?

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        pod = arguments.positional("pod") ?? ""
        container = arguments.option("container")
        namespace = arguments.option("namespace") ?? "default"
        follow = arguments.flag("follow")
        previous = arguments.flag("previous")
        tail = try arguments.integer("tail", range: 0...10_000_000)
        if follow && previous { throw UsageError("--follow and --previous cannot be used together") }
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let client = try context.client()
        let state = StateDirectory(context.stateDirectory)
        let pod = try await PodLookup.pod(named: pod, namespace: namespace, client: client)
        let name = try PodLookup.containerName(pod, named: container, context: context)
        let directory = ContainerLogs.podDirectory(agentDirectory: LabSettings.agentDirectory(state),
                                                   pod: PodLookup.identity(pod))
        let path = ContainerLogs.path(directory: directory, container: name)
        guard let text = try? ContainerLogs.read(directory: directory, container: name) else {
            context.printError("Error from server (BadRequest): container \"\(name)\" in pod \"\(pod.metadata.name ?? "")\" has not written anything yet (it is waiting to start)")
            return .failure
        }
        if previous && ContainerLogs.runs(text).count < 2 {
            context.printError("Error from server (BadRequest): previous terminated container \"\(name)\" in pod \"\(pod.metadata.name ?? "")\" not found")
            return .failure
        }
        var output = ContainerLogs.output(text, previous: previous)
        if let tail {
            output = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().suffix(tail)
                .map { $0 + "\n" }.joined()
        }
        context.stdout.write(output)
        guard follow else { return .success }

        // Follow the file: new bytes as they come; a shrunk file was rotated (copied, then truncated).
        var offset = (try? Files.read(path).count) ?? 0
        var checked = ContinuousClock.now
        while true {
            try await Task.sleep(for: .milliseconds(200))
            if let bytes = try? Files.read(path) {
                if bytes.count < offset { offset = 0 }
                if bytes.count > offset {
                    let fresh = String(decoding: bytes[offset...], as: UTF8.self)
                    // Restart markers are meshlab's, not the container's output.
                    context.stdout.write(fresh.split(separator: "\n", omittingEmptySubsequences: false)
                        .filter { !$0.hasPrefix(ContainerLogs.markerPrefix) }.joined(separator: "\n"))
                    offset = bytes.count
                }
            }
            if ContinuousClock.now - checked > .seconds(1) {
                checked = ContinuousClock.now
                let current = try? await client.get(APIClient.path(Pod.descriptor, namespace: namespace,
                                                                   name: pod.metadata.name ?? ""))
                if current?["metadata"]?["uid"]?.stringValue != pod.metadata.uid { return .success }
            }
        }
    }
}
