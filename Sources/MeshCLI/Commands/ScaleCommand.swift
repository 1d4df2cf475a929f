import MeshClient
import MeshControlPlane
import MeshModel

/// `meshlab scale deploy NAME... --replicas N`: what `kubectl scale` does,
/// through the Deployment's `/scale` subresource.
struct ScaleCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "scale",
        abstract: "Set the number of replicas of deployments.",
        examples: ["meshlab scale deploy reviews-v1 --replicas 3", "meshlab scale deployment/web --replicas 0 -n shop"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("kind", help: "What to scale: deploy (or KIND/NAME)."),
        .positional("name", help: "The objects to scale.", optional: true, repeating: true),
        .option("replicas", valueName: "n", help: "The number of replicas wanted."),
        .option("namespace", short: "n", valueName: "ns", help: "The namespace to use (default: default)."),
        .flag("dry-run", help: "Check on the server without changing anything."),
    ]

    var kind: RegisteredResource
    var names: [String]
    var replicas: Int
    var namespace: String
    var dryRun: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        var kindText = arguments.positional("kind") ?? ""
        var names = arguments.positionals("name")
        if let slash = kindText.firstIndex(of: "/") {
            guard names.isEmpty else { throw UsageError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form") }
            names = [String(kindText[kindText.index(after: slash)...])]
            kindText = String(kindText[..<slash])
        }
        guard !names.isEmpty else { throw UsageError("resource(s) were provided, but no name was specified") }
        kind = try ResourceRegistry.resolve(kindText)
        self.names = names
        guard let replicas = try arguments.integer("replicas", range: 0...Int(Int32.max)) else {
            throw UsageError("--replicas=COUNT is required, and COUNT must be greater than or equal to 0")
        }
        self.replicas = replicas
        namespace = arguments.option("namespace") ?? "default"
        dryRun = arguments.flag("dry-run")
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let client = try context.client()
        var failed = false
        for name in names {
            var path = APIClient.path(kind.descriptor, namespace: namespace, name: name) + "/scale"
            if dryRun { path += "?dryRun=All" }
            do {
                try await client.call(.patch, path, body: ["spec": ["replicas": .int(replicas)]],
                                      contentType: "application/merge-patch+json")
                context.print("\(kind.descriptor.cliName)/\(name) scaled\(dryRun ? " (server dry run)" : "")")
            } catch {
                context.printError(serverErrorText(error))
                failed = true
            }
        }
        return failed ? .failure : .success
    }
}
