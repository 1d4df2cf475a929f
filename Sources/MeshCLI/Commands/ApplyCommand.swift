import MeshControlPlane
import MeshModel

/// `meshlab apply -f ...`: creates what is missing and updates what
/// changed, as `kubectl apply` does (client-side, three-way).
struct ApplyCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "apply",
        abstract: "Create or update objects from manifests.",
        discussion: "Each object is created when missing, and otherwise patched with what changed since the last apply (kubectl's client-side apply: fields you removed from the manifest are removed, fields the lab set are kept). Problems are reported as FILE:LINE: Kind/name: field: message.",
        examples: [
            "meshlab apply -f samples/bookinfo/platform/kube/bookinfo.yaml",
            "meshlab apply -f samples/bookinfo/networking/ --dry-run",
            "cat vs.yaml | meshlab apply -f -",
        ]
    )
    static let arguments: [ArgumentSpec] = [
        .option("filename", short: "f", valueName: "file", help: "A manifest file, a directory of them, or - for standard input. Repeatable.", repeating: true),
        .flag("recursive", short: "R", help: "Descend into subdirectories of a directory given with -f."),
        .option("namespace", short: "n", valueName: "ns", help: "The namespace for objects that do not name one (default: default)."),
        .flag("dry-run", help: "Check everything on the server without storing anything."),
        .option("output", short: "o", valueName: "format", help: "Print the resulting objects.", choices: ["json", "yaml", "name"]),
        .option("validate", valueName: "mode", help: "What unknown or duplicate fields are: strict errors, warn warnings, ignore nothing.", default: "warn",
                choices: ["strict", "warn", "ignore", "true", "false"]),
    ]

    var files: [String]
    var recursive: Bool
    var namespace: String?
    var dryRun: Bool
    var output: String?
    var fieldValidation: String

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        files = arguments.options("filename")
        guard !files.isEmpty else { throw UsageError("must specify one of -f and -k") }
        recursive = arguments.flag("recursive")
        namespace = arguments.option("namespace")
        dryRun = arguments.flag("dry-run")
        output = arguments.option("output")
        fieldValidation = switch arguments.option("validate") {
        case "strict", "true": "Strict"
        case "ignore", "false": "Ignore"
        default: "Warn"
        }
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let inputs = try ManifestFiles.gather(files, recursive: recursive, readStandardInput: readStandardInput)
        let client = try context.client()
        var failures = 0
        var results: [JSONValue] = []
        for input in inputs {
            let read = ManifestReader.read(utf8: input.bytes, file: input.name)
            for error in read.errors {
                context.printError(error.description)
                failures += 1
            }
            for manifest in read.manifests {
                do {
                    let (object, verb, warnings) = try await apply(manifest, client: client)
                    for warning in warnings { context.printError(render(warning: warning, manifest)) }
                    results.append(object)
                    if output == nil {
                        context.print("\(ObjectOutput.name(of: object)) \(verb)\(dryRun ? " (server dry run)" : "")")
                    }
                } catch {
                    failures += 1
                    for line in describe(error, manifest) { context.printError(line) }
                }
            }
        }
        if let output, !results.isEmpty { context.stdout.write(ObjectOutput.render(results, format: output)) }
        return failures == 0 ? .success : .failure
    }

    /// Creates or patches one object; returns it as stored, what happened, and the server's warnings.
    func apply(_ manifest: Manifest, client: APIClient) async throws -> (JSONValue, String, [String]) {
        guard let registered = ResourceRegistry.resource(apiVersion: manifest.apiVersion ?? "", kind: manifest.kind ?? "") else {
            throw StatusObject(code: 404, reason: .notFound,
                               message: "no matches for kind \"\(manifest.kind ?? "")\" in version \"\(manifest.apiVersion ?? "")\"")
        }
        let descriptor = registered.descriptor
        guard let name = manifest.name, !name.isEmpty else {
            throw StatusObject.badRequest(manifest.object["metadata"]?["generateName"] != nil
                ? "cannot use generateName with apply" : "metadata.name: Required value")
        }
        var modified = manifest.object
        var targetNamespace: String?
        if descriptor.namespaced {
            if let own = manifest.namespace, let flag = namespace, own != flag {
                throw StatusObject.badRequest(
                    "the namespace from the provided object \"\(own)\" does not match the namespace \"\(flag)\". You must pass '--namespace=\(own)' to perform this operation.")
            }
            targetNamespace = manifest.namespace ?? namespace ?? "default"
            modified[path: "metadata.namespace"] = .string(targetNamespace!)
        }
        modified[path: FieldPath.root.appending("metadata").appending("annotations").appending(key: lastAppliedAnnotation)] = nil
        let lastApplied = modified.serialized(.canonical)
        modified[path: FieldPath.root.appending("metadata").appending("annotations").appending(key: lastAppliedAnnotation)] =
            .string(lastApplied)

        var query: [(String, String)] = [("fieldValidation", fieldValidation)]
        if dryRun { query.append(("dryRun", "All")) }
        let objectPath = APIClient.path(descriptor, namespace: targetNamespace, name: name, query: query)
        let current: JSONValue
        do {
            current = try await client.get(APIClient.path(descriptor, namespace: targetNamespace, name: name))
        } catch let status as StatusObject where status.code == 404 && status.reason == .notFound {
            let reply = try await client.call(
                .post, APIClient.path(descriptor, namespace: targetNamespace, query: query), body: modified)
            return (reply.object, "created", reply.warnings)
        }
        let original = current[path: FieldPath.root.appending("metadata").appending("annotations")
            .appending(key: lastAppliedAnnotation)]?.stringValue.flatMap { try? JSONValue(parsing: $0) }
        let patch = threeWayMergePatch(original: original, modified: modified, current: current)
        if patch.isEmpty { return (current, "unchanged", []) }
        let reply = try await client.call(.patch, objectPath, body: .object(patch),
                                          contentType: "application/merge-patch+json")
        return (reply.object, "configured", reply.warnings)
    }

    /// A server warning, placed at the field it names when it names one.
    func render(warning: String, _ manifest: Manifest) -> String {
        "\(manifest.position(of: Self.namedField(warning) ?? .root)): Warning: \(manifest.displayName): \(warning)"
    }

    /// The field an `unknown field "spec.x"` or `duplicate field "spec.x"` message is about.
    static func namedField(_ message: String) -> FieldPath? {
        for prefix in ["unknown field \"", "duplicate field \""] where message.hasPrefix(prefix) && message.hasSuffix("\"") {
            return FieldPath(parsing: String(message.dropFirst(prefix.count).dropLast()))
        }
        return nil
    }

    /// An apply failure as lines: one per invalid field, at its line in the file.
    func describe(_ error: any Error, _ manifest: Manifest) -> [String] {
        guard let status = error as? StatusObject else {
            return ["\(manifest.position()): \(manifest.displayName): \(error)"]
        }
        if status.reason == .invalid, !status.causes.isEmpty {
            return status.causes.map { cause in
                let path = Self.namedField(cause.message) ?? FieldPath(parsing: cause.field)
                let text = cause.field.isEmpty ? cause.message : "\(cause.field): \(cause.message)"
                return "\(manifest.position(of: path)): \(manifest.displayName): \(text)"
            }
        }
        if status.reason == .badRequest || status.code == 404 && status.kind == nil {
            return ["\(manifest.position()): \(manifest.displayName): \(status.message)"]
        }
        return ["\(manifest.position()): \(manifest.displayName): \(serverErrorText(status))"]
    }
}
