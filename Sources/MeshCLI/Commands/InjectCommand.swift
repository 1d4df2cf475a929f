import MeshControlPlane
import MeshModel

/// `meshlab inject -f FILE`: Istio's sidecar injection offline, as `istioctl
/// kube-inject` does, with the same code as meshd's webhook. Pods and the
/// pod templates of workloads are injected; other objects pass through.
struct InjectCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "inject",
        abstract: "Add Istio's sidecar to manifests, offline.",
        discussion: "Like istioctl kube-inject: reads every object in the files and prints them with the sidecar injected into each Pod and each workload's pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), exactly as the lab's injector webhook would: the istio-init and istio-proxy containers, labels and annotations. Namespace labels play no part; a pod's own sidecar.istio.io/inject: \"false\" and hostNetwork do. Exits 1 when an object's annotations cannot be honoured.",
        examples: ["meshlab inject -f samples/helloworld/helloworld.yaml", "meshlab inject -f deploy.yaml | meshlab apply -f -"]
    )
    static let arguments: [ArgumentSpec] = [
        .option("filename", short: "f", valueName: "file", help: "A manifest file, a directory of them, or - for standard input. Repeatable.", repeating: true),
        .option("output", short: "o", valueName: "format", help: "Print as YAML documents (the default) or JSON.", choices: ["yaml", "json"]),
    ]

    var files: [String]
    var output: String

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        files = arguments.options("filename")
        guard !files.isEmpty else { throw UsageError("must specify -f") }
        output = arguments.option("output") ?? "yaml"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let inputs = try ManifestFiles.gather(files, recursive: false, readStandardInput: readStandardInput)
        var objects: [JSONValue] = []
        var failed = false
        for input in inputs {
            let read = ManifestReader.read(utf8: input.bytes, file: input.name)
            for error in read.errors {
                context.printError(error.description)
                failed = true
            }
            for manifest in read.manifests {
                do {
                    objects.append(try ManifestInjection.inject(manifest.object))
                } catch {
                    let kind = manifest.kind ?? "?"
                    let name = manifest.object["metadata"]?["name"]?.stringValue ?? "?"
                    context.printError("\(input.name): \(kind)/\(name): \(error)")
                    failed = true
                }
            }
        }
        if failed { return .failure }
        if output == "json" {
            context.stdout.write(ObjectOutput.render(objects, format: "json"))
        } else {
            context.stdout.write(objects.map { YAML.dump($0) }.joined(separator: "---\n"))
        }
        return .success
    }
}
