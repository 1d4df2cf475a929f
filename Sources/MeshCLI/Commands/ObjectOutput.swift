import MeshControlPlane
import MeshModel

/// `-o json|yaml|name` for objects, as kubectl prints them.
enum ObjectOutput {
    /// One object as itself; several as a `List`, as kubectl wraps them.
    static func render(_ objects: [JSONValue], format: String) -> String {
        switch format {
        case "name":
            return objects.map { name(of: $0) + "\n" }.joined()
        case "yaml":
            return YAML.dump(wrapped(objects))
        default:
            return wrapped(objects).serialized(.kubectl) + "\n"
        }
    }

    static func wrapped(_ objects: [JSONValue]) -> JSONValue {
        if objects.count == 1 { return objects[0] }
        return ["apiVersion": "v1", "items": .array(objects), "kind": "List", "metadata": ["resourceVersion": ""]]
    }

    /// `deployment.apps/web`, `configmap/settings`.
    static func name(of object: JSONValue) -> String {
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let registered = ResourceRegistry.resource(apiVersion: apiVersion, kind: kind)
        else { return "\((object["kind"]?.stringValue ?? "").lowercased())/\(name)" }
        return "\(registered.descriptor.cliName)/\(name)"
    }
}

/// Options that name where objects are: `-n` and `-A`.
struct NamespaceOptions {
    static let specs: [ArgumentSpec] = [
        .option("namespace", short: "n", valueName: "ns", help: "The namespace to use (default: default)."),
        .flag("all-namespaces", short: "A", help: "Across all namespaces."),
    ]

    var namespace: String?
    var allNamespaces: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        namespace = arguments.option("namespace")
        allNamespaces = arguments.flag("all-namespaces")
        if allNamespaces && namespace != nil {
            throw UsageError("--namespace and --all-namespaces cannot be used together")
        }
    }

    /// The namespace for a namespaced request that names one (nil with -A).
    var effective: String? { allNamespaces ? nil : (namespace ?? "default") }
}

extension ResourceRegistry {
    /// Resolves a KIND argument or throws a usage error in kubectl's words.
    static func resolve(_ name: String) throws(UsageError) -> RegisteredResource {
        guard let registered = resource(named: name) else {
            throw UsageError("the server doesn't have a resource type \"\(name)\"")
        }
        return registered
    }
}

/// How an API failure reads on the command line: kubectl's
/// `Error from server (NotFound): pods "x" not found`.
func serverErrorText(_ error: any Error) -> String {
    if let status = error as? StatusObject { return "Error from server (\(status.reason.rawValue)): \(status.message)" }
    return "\(error)"
}
