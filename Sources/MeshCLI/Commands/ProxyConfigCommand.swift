import MeshClient
import MeshControlPlane
import MeshModel

/// `meshlab proxy-config POD listeners|routes|clusters|endpoints`: istioctl's
/// tables of one sidecar's config, as meshd last saw it ACKed
/// (`/debug/config_dump?proxyID=` through the API).
struct ProxyConfigCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "proxy-config",
        abstract: "Show a sidecar's listeners, routes, clusters, endpoints.",
        discussion: "What the sidecar runs by meshd's records: the resources of its last ACK per type (a refused push is not shown).",
        examples: [
            "meshlab proxy-config productpage-v1-abc12 clusters",
            "meshlab proxy-config reviews-v1-abc12.default routes -o json",
        ]
    )
    static let sections = ["listeners", "routes", "clusters", "endpoints"]
    static let arguments: [ArgumentSpec] = [
        .positional("pod", help: "The sidecar's pod (POD or POD.NAMESPACE)."),
        .positional("section", help: "listeners, routes, clusters or endpoints."),
        .option("namespace", short: "n", valueName: "ns", help: "The pod's namespace (default: default)."),
        .option("output", short: "o", valueName: "format", help: "Print the resources as JSON.", choices: ["json"]),
    ]

    var proxy: String
    var section: String
    var json: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        let pod = arguments.positional("pod") ?? ""
        proxy = pod.contains(".") ? pod : "\(pod).\(arguments.option("namespace") ?? "default")"
        section = arguments.positional("section") ?? ""
        let singular = ["listener": "listeners", "route": "routes", "cluster": "clusters", "endpoint": "endpoints"]
        section = singular[section] ?? section
        guard Self.sections.contains(section) else {
            throw UsageError("unknown section \"\(section)\": use listeners, routes, clusters or endpoints")
        }
        json = arguments.option("output") == "json"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let dump: JSONValue
        do {
            dump = try await context.client().get("/debug/config_dump?proxyID=\(proxy)")
        } catch let status as StatusObject where status.code == 404 {
            context.printError("meshd knows no proxy \(proxy) (see 'meshlab proxy-status')")
            return .failure
        }
        if json {
            context.print((dump[section] ?? .array([])).serialized(.kubectl))
            return .success
        }
        let decoded = ValueCodec.decode(ProxyConfig.self, from: dump)
        guard let config = decoded.value else {
            context.printError("meshd's config dump for \(proxy) does not decode: \(decoded.errors.map { "\($0)" }.joined(separator: "; "))")
            return .failure
        }
        context.stdout.write(Self.table(section, config).rendered())
        return .success
    }

    static func table(_ section: String, _ config: ProxyConfig) -> ResourceTable {
        switch section {
        case "listeners": listeners(config)
        case "routes": routes(config)
        case "clusters": clusters(config)
        default: endpoints(config)
        }
    }

    // MARK: Tables (istioctl's columns)

    static func listeners(_ config: ProxyConfig) -> ResourceTable {
        var rows: [(Int, String, [String])] = []
        for listener in config.listeners {
            for chain in listener.filterChains {
                rows.append((listener.port, listener.address,
                             [listener.address, String(listener.port), match(chain.match), destination(chain)]))
            }
            if listener.filterChains.isEmpty {
                rows.append((listener.port, listener.address, [listener.address, String(listener.port), "ALL", "-"]))
            }
        }
        return ResourceTable(columns: ["ADDRESS", "PORT", "MATCH", "DESTINATION"],
                             rows: rows.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2))
    }

    static func match(_ match: FilterChainMatch) -> String {
        var parts: [String] = []
        if let port = match.destinationPort { parts.append("Port: \(port)") }
        if let transport = match.transportProtocol { parts.append("Trans: \(transport)") }
        if let application = match.applicationProtocol { parts.append("App: \(application)") }
        return parts.isEmpty ? "ALL" : parts.joined(separator: "; ")
    }

    static func destination(_ chain: FilterChain) -> String {
        if let http = chain.http {
            if let name = http.routeConfigName { return "Route: \(name)" }
            if let inline = http.routeConfig { return "Inline Route: \(inline.name)" }
            return "HTTP"
        }
        if let tcp = chain.tcp {
            if let cluster = tcp.cluster { return "Cluster: \(cluster)" }
            let weighted = (tcp.weightedClusters ?? []).map { "\($0.name) (\($0.weight))" }
            return weighted.isEmpty ? "TCP" : "Clusters: " + weighted.joined(separator: ", ")
        }
        return "Non-HTTP/Non-TCP"
    }

    static func routes(_ config: ProxyConfig) -> ResourceTable {
        var configs = config.routes
        for listener in config.listeners {
            for chain in listener.filterChains { if let inline = chain.http?.routeConfig { configs.append(inline) } }
        }
        var rows: [[String]] = []
        for routeConfig in configs.sorted(by: { $0.name < $1.name }) {
            for host in routeConfig.virtualHosts {
                let domains = host.domains.first.map { host.domains.count > 1 ? "\($0) + \(host.domains.count - 1) more..." : $0 } ?? ""
                for route in host.routes {
                    rows.append([routeConfig.name, host.name, domains, routeMatch(route.match), route.virtualService ?? ""])
                }
                if host.routes.isEmpty { rows.append([routeConfig.name, host.name, domains, "-", ""]) }
            }
        }
        return ResourceTable(columns: ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"], rows: rows)
    }

    static func routeMatch(_ match: RouteMatch) -> String {
        if let path = match.path { return path }
        if let regex = match.regex { return regex }
        if let prefix = match.prefix { return prefix == "/" ? "/*" : prefix + "*" }
        return "/*"
    }

    static func clusters(_ config: ProxyConfig) -> ResourceTable {
        let rows = config.clusters.map { cluster -> [String] in
            [cluster.serviceName ?? cluster.name, cluster.port.map(String.init) ?? "-", cluster.subset ?? "-",
             cluster.serviceName == nil && cluster.port == nil ? "-" : cluster.direction.rawValue.lowercased(),
             cluster.discovery.rawValue, cluster.destinationRule ?? ""]
        }
        return ResourceTable(columns: ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"],
                             rows: rows.sorted { $0.lexicographicallyPrecedes($1) })
    }

    static func endpoints(_ config: ProxyConfig) -> ResourceTable {
        var rows: [[String]] = []
        func add(_ endpoint: Endpoint, _ cluster: String) {
            rows.append(["\(endpoint.address):\(endpoint.port)", endpoint.healthy ? "HEALTHY" : "UNHEALTHY", "OK", cluster])
        }
        for assignment in config.endpoints { for endpoint in assignment.endpoints { add(endpoint, assignment.clusterName) } }
        for cluster in config.clusters { for endpoint in cluster.staticEndpoints ?? [] { add(endpoint, cluster.name) } }
        return ResourceTable(columns: ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"],
                             rows: rows.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
