import MeshClient
import MeshControlPlane
import MeshModel

/// `meshlab proxy-status`: istioctl's table of every sidecar's sync with meshd.
struct ProxyStatusCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "proxy-status",
        abstract: "Show whether each sidecar runs what meshd last sent.",
        discussion: "Per type (CDS, LDS, EDS, RDS) as istioctl: SYNCED (the sidecar ACKed the last push), STALE (a push is not answered yet), NOT SENT (nothing pushed), ERROR (the sidecar refused the last push and runs its previous config). Reads meshd's /debug/syncz through the API.",
        examples: ["meshlab proxy-status", "meshlab proxy-status reviews-v1-abc12.default", "meshlab proxy-status -o json"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("proxy", help: "Only this proxy (POD or POD.NAMESPACE).", optional: true),
        .option("namespace", short: "n", valueName: "ns", help: "The proxy's namespace (default: default)."),
        .option("output", short: "o", valueName: "format", help: "Print meshd's records as JSON.", choices: ["json"]),
    ]

    var proxy: String?
    var json: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        proxy = arguments.positional("proxy").map { name in
            name.contains(".") ? name : "\(name).\(arguments.option("namespace") ?? "default")"
        }
        json = arguments.option("output") == "json"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let syncz = try await context.client().get("/debug/syncz")
        var proxies = syncz.arrayValue ?? []
        if let proxy {
            proxies = proxies.filter { $0["proxy"]?.stringValue == proxy }
            if proxies.isEmpty {
                context.printError("meshd knows no proxy \(proxy)")
                return .failure
            }
        }
        if json {
            context.print(JSONValue.array(proxies).serialized(.kubectl))
        } else if proxies.isEmpty {
            context.printError("No proxies are connected to meshd.")
        } else {
            context.stdout.write(Self.table(proxies).rendered())
        }
        return .success
    }

    /// istioctl's columns, from `/debug/syncz` entries (status per type as meshd computed it).
    static func table(_ proxies: [JSONValue]) -> ResourceTable {
        let types = ["CDS", "LDS", "EDS", "RDS"]
        let rows = proxies.map { proxy -> [String] in
            let meshlab = proxy["meshlab"]
            let connected = meshlab?["connected"]?.boolValue ?? true
            return [proxy["proxy"]?.stringValue ?? "?", proxy["cluster_id"]?.stringValue ?? "Kubernetes"]
                + types.map { meshlab?["types"]?[$0]?["status"]?.stringValue ?? ProxySyncStatus.notSent.rawValue }
                + [connected ? "meshd" : "(disconnected)", proxy["istio_version"]?.stringValue ?? ""]
        }
        return ResourceTable(columns: ["NAME", "CLUSTER"] + types + ["ISTIOD", "VERSION"], rows: rows.sorted { $0[0] < $1[0] })
    }
}
