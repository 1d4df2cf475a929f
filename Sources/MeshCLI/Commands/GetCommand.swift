import MeshControlPlane
import MeshModel

/// `meshlab get KIND [NAME...]`: kubectl's tables and formats.
struct GetCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "get",
        abstract: "Show objects.",
        discussion: "KIND is a plural, singular or short name (po, deploy, svc, ns, sa, ep, cm, vs, dr, gw, se, pa, ap, ra), optionally qualified by group (virtualservices.networking.istio.io); several may be given separated by commas.",
        examples: ["meshlab get pods", "meshlab get vs -A", "meshlab get deploy reviews-v1 -o yaml", "meshlab get po -l app=reviews -o wide"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("kind", help: "What to show: KIND or KIND,KIND."),
        .positional("names", help: "Only these objects.", optional: true, repeating: true),
    ] + NamespaceOptions.specs + [
        .option("selector", short: "l", valueName: "selector", help: "Only objects whose labels match (app=reviews,version!=v1)."),
        .option("output", short: "o", valueName: "format", help: "Print as a wide table, JSON, YAML, or kind/name.",
                choices: ["wide", "json", "yaml", "name"]),
    ]

    var kinds: [RegisteredResource]
    var names: [String]
    var namespaces: NamespaceOptions
    var selector: String?
    var output: String?

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        var kinds: [RegisteredResource] = []
        for name in (arguments.positional("kind") ?? "").split(separator: ",") {
            kinds.append(try ResourceRegistry.resolve(String(name)))
        }
        self.kinds = kinds
        names = arguments.positionals("names")
        if !names.isEmpty && kinds.count > 1 {
            throw UsageError("names cannot be given with more than one kind (use KIND/NAME forms one kind at a time)")
        }
        namespaces = try NamespaceOptions(arguments)
        selector = arguments.option("selector")
        if selector != nil && !names.isEmpty { throw UsageError("names cannot be provided when a selector is specified") }
        output = arguments.option("output")
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let client = try context.client()
        var objects: [(RegisteredResource, [JSONValue])] = []
        var failed = false
        for registered in kinds {
            let descriptor = registered.descriptor
            var found: [JSONValue] = []
            if names.isEmpty {
                var query: [(String, String)] = []
                if let selector { query.append(("labelSelector", selector)) }
                let list = try await client.get(APIClient.path(descriptor, namespace: namespaces.effective, query: query))
                found = list["items"]?.arrayValue ?? []
            } else {
                for name in names {
                    do {
                        found.append(try await client.get(APIClient.path(descriptor, namespace: namespaces.effective ?? "default", name: name)))
                    } catch let status as StatusObject {
                        context.printError(serverErrorText(status))
                        failed = true
                    }
                }
            }
            objects.append((registered, found))
        }
        let all = objects.flatMap(\.1)
        switch output {
        case "json", "yaml", "name":
            if !all.isEmpty || names.isEmpty { context.stdout.write(ObjectOutput.render(all, format: output!)) }
        default:
            if all.isEmpty && names.isEmpty {
                let scope = kinds.allSatisfy({ !$0.descriptor.namespaced }) || namespaces.allNamespaces
                    ? "" : " in \(namespaces.effective ?? "default") namespace"
                context.printError("No resources found\(scope).")
            }
            var first = true
            for (registered, found) in objects where !found.isEmpty {
                var table = ResourceTable.make(
                    kind: registered.descriptor.kind, objects: found, now: context.now(), wide: output == "wide",
                    withNamespace: namespaces.allNamespaces && registered.descriptor.namespaced)
                if kinds.count > 1 {
                    let nameColumn = table.columns.firstIndex(of: "NAME") ?? 0
                    for i in table.rows.indices {
                        table.rows[i][nameColumn] = "\(registered.descriptor.cliName)/\(table.rows[i][nameColumn])"
                    }
                }
                if !first { context.print() }
                first = false
                context.stdout.write(table.rendered())
            }
        }
        return failed ? .failure : .success
    }
}
