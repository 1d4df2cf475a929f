import MeshClient
import MeshModel

/// `meshlab describe pod|deploy|svc NAME`: an object's state and its events, as kubectl describes them.
struct DescribeCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "describe",
        abstract: "Show an object's details and its events.",
        examples: ["meshlab describe pod productpage-v1-6f7dc9b58c-7r72c", "meshlab describe deploy reviews-v1",
                   "meshlab describe svc reviews"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("kind", help: "pod, deploy or svc (or their other names)."),
        .positional("name", help: "The objects to describe.", repeating: true),
        .option("namespace", short: "n", valueName: "ns", help: "The namespace (default: default)."),
    ]

    var kind: RegisteredResource
    var names: [String]
    var namespace: String

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        kind = try ResourceRegistry.resolve(arguments.positional("kind") ?? "")
        guard ["Pod", "Deployment", "Service"].contains(kind.descriptor.kind) else {
            throw UsageError("describe shows pods, deployments and services, not \(kind.descriptor.plural)")
        }
        names = arguments.positionals("name")
        namespace = arguments.option("namespace") ?? "default"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let client = try context.client()
        let descriptor = kind.descriptor
        var failed = false
        for (index, name) in names.enumerated() {
            let object: JSONValue
            do {
                object = try await client.get(APIClient.path(descriptor, namespace: namespace, name: name))
            } catch {
                context.printError(serverErrorText(error))
                failed = true
                continue
            }
            let uid = object["metadata"]?["uid"]?.stringValue ?? ""
            let selector = "involvedObject.name=\(name),involvedObject.namespace=\(namespace),involvedObject.uid=\(uid)"
            let events = (try? await client.get(APIClient.path(Event.descriptor, namespace: namespace,
                                                               query: [("fieldSelector", selector)])))?["items"]?.arrayValue ?? []
            if index > 0 { context.print() }
            switch descriptor.kind {
            case "Pod": context.stdout.write(Description.pod(object, events: events, now: context.now()))
            case "Deployment": context.stdout.write(Description.deployment(object, events: events, now: context.now()))
            default:
                let endpoints = try? await client.get(APIClient.path(Endpoints.descriptor, namespace: namespace, name: name))
                context.stdout.write(Description.service(object, endpoints: endpoints, events: events, now: context.now()))
            }
        }
        return failed ? .failure : .success
    }
}
