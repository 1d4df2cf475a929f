import MeshControlPlane
import MeshModel

/// `meshlab delete -f FILE | KIND NAME...`
struct DeleteCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "delete",
        abstract: "Delete objects by file, by name, or by label.",
        examples: ["meshlab delete -f samples/bookinfo/networking/virtual-service-all-v1.yaml",
                   "meshlab delete vs reviews", "meshlab delete cm -l app=demo", "meshlab delete ns shop"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("kind", help: "What to delete (when not using -f).", optional: true),
        .positional("names", help: "The objects to delete.", optional: true, repeating: true),
        .option("filename", short: "f", valueName: "file", help: "Delete the objects in this manifest, directory, or - for standard input. Repeatable.", repeating: true),
        .flag("recursive", short: "R", help: "Descend into subdirectories of a directory given with -f."),
        .option("namespace", short: "n", valueName: "ns", help: "The namespace to use (default: default)."),
        .option("selector", short: "l", valueName: "selector", help: "Delete every object of KIND whose labels match."),
        .flag("all", help: "Delete every object of KIND in the namespace."),
        .flag("ignore-not-found", help: "Treat objects that do not exist as deleted."),
        .flag("dry-run", help: "Check on the server without deleting."),
    ]

    enum Target {
        case files([String])
        case named(RegisteredResource, [String])
        case matching(RegisteredResource, selector: String?)
    }

    var target: Target
    var recursive: Bool
    var namespace: String?
    var ignoreNotFound: Bool
    var dryRun: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        let files = arguments.options("filename")
        let kind = arguments.positional("kind")
        let names = arguments.positionals("names")
        let selector = arguments.option("selector")
        let all = arguments.flag("all")
        if !files.isEmpty {
            guard kind == nil else { throw UsageError("KIND and NAME cannot be given with -f") }
            target = .files(files)
        } else if let kind {
            let registered = try ResourceRegistry.resolve(kind)
            if !names.isEmpty {
                guard selector == nil && !all else { throw UsageError("names cannot be given with --selector or --all") }
                target = .named(registered, names)
            } else if selector != nil || all {
                target = .matching(registered, selector: selector)
            } else {
                throw UsageError("resource(s) were provided, but no name was specified: give NAME, -l SELECTOR or --all")
            }
        } else {
            throw UsageError("you must provide one or more resources by argument or filename")
        }
        recursive = arguments.flag("recursive")
        namespace = arguments.option("namespace")
        ignoreNotFound = arguments.flag("ignore-not-found")
        dryRun = arguments.flag("dry-run")
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let client = try context.client()
        var failed = false
        var query: [(String, String)] = []
        if dryRun { query.append(("dryRun", "All")) }
        let suffix = dryRun ? " (server dry run)" : ""

        func delete(_ descriptor: ResourceDescriptor, namespace: String?, name: String) async {
            do {
                try await client.call(.delete, APIClient.path(descriptor, namespace: namespace, name: name, query: query))
                context.print("\(descriptor.cliName) \"\(name)\" deleted\(suffix)")
            } catch let status as StatusObject where status.code == 404 && ignoreNotFound {
                _ = status
            } catch {
                context.printError(serverErrorText(error))
                failed = true
            }
        }

        switch target {
        case .files(let files):
            let inputs = try ManifestFiles.gather(files, recursive: recursive, readStandardInput: readStandardInput)
            for input in inputs {
                let read = ManifestReader.read(utf8: input.bytes, file: input.name)
                for error in read.errors {
                    context.printError(error.description)
                    failed = true
                }
                for manifest in read.manifests {
                    guard let registered = ResourceRegistry.resource(apiVersion: manifest.apiVersion ?? "", kind: manifest.kind ?? ""),
                        let name = manifest.name
                    else {
                        context.printError("\(manifest.position()): \(manifest.displayName): no matches for kind \"\(manifest.kind ?? "")\" in version \"\(manifest.apiVersion ?? "")\"")
                        failed = true
                        continue
                    }
                    await delete(registered.descriptor, namespace: manifest.namespace ?? namespace ?? "default", name: name)
                }
            }
        case .named(let registered, let names):
            for name in names { await delete(registered.descriptor, namespace: namespace ?? "default", name: name) }
        case .matching(let registered, let selector):
            var listQuery: [(String, String)] = []
            if let selector { listQuery.append(("labelSelector", selector)) }
            let list = try await client.get(APIClient.path(registered.descriptor, namespace: namespace ?? "default", query: listQuery))
            let items = list["items"]?.arrayValue ?? []
            if items.isEmpty { context.printError("No resources found") }
            for item in items {
                guard let name = item["metadata"]?["name"]?.stringValue else { continue }
                await delete(registered.descriptor, namespace: item["metadata"]?["namespace"]?.stringValue, name: name)
            }
        }
        return failed ? .failure : .success
    }
}
