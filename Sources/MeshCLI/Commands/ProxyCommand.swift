import MeshApps
import MeshIO
import MeshModel
import MeshProxy
import MeshSystem

/// `meshlab proxy`: the sidecar, started by the injected `istio-proxy` container
/// as `proxy sidecar --domain ... --proxyLogLevel=...` (Istio's pilot-agent
/// arguments; the ones meshlab has no use for are accepted and ignored). Hidden
/// from `meshlab --help`: pods run it.
struct ProxyCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "proxy", abstract: "Run the sidecar proxy (Istio's istio-proxy role).",
        discussion: "Captured outbound traffic arrives on 15001, inbound on 15006; admin on 127.0.0.1:15000 "
            + "(/config_dump, /clusters, /stats, /logging), readiness on 15021 (/healthz/ready), metrics on 15090 "
            + "(/stats/prometheus). Configuration comes from meshd (PROXY_CONFIG's discoveryAddress) or, with "
            + "--config, from a file holding a ProxyConfig as JSON or YAML. Reads POD_NAME, POD_NAMESPACE, "
            + "INSTANCE_IP and SERVICE_ACCOUNT. One access-log line per request goes to stdout.",
        examples: ["meshlab proxy sidecar --config proxy.yaml", "meshlab proxy sidecar --domain default.svc.cluster.local"],
        hidden: true
    )

    /// pilot-agent's flags as Istio's injection template passes them: accepted, not used.
    static let istioFlags = [
        "domain", "proxyLogLevel", "proxyComponentLogLevel", "log_output_level", "serviceCluster", "stsPort",
        "outlierLogPath", "templateFile", "log_as_json", "log_caller", "log_stacktrace_level", "log_target",
        "vklog", "meshConfig", "drainDuration", "parentShutdownDuration", "tokenManagerPlugin",
    ]

    static let arguments: [ArgumentSpec] = [
        .positional("role", help: "sidecar (the default) or router; only sidecar is supported.", optional: true),
        .option("config", valueName: "file", help: "Serve this static ProxyConfig (JSON or YAML) instead of asking meshd."),
        .option("discovery-address", valueName: "host:port",
                help: "meshd's push address (default: PROXY_CONFIG's discoveryAddress)."),
        .option("concurrency", valueName: "n", help: "Event loop threads.", default: "2"),
        .option("outbound-port", valueName: "port", help: "Outbound capture port.", default: "15001", hidden: true),
        .option("inbound-port", valueName: "port", help: "Inbound capture port.", default: "15006", hidden: true),
        .option("admin-port", valueName: "port", help: "Admin port (loopback).", default: "15000", hidden: true),
        .option("status-port", valueName: "port", help: "Readiness port.", default: "15021", hidden: true),
        .option("prometheus-port", valueName: "port", help: "Metrics port.", default: "15090", hidden: true),
    ] + istioFlags.map { .option($0, valueName: "value", help: "Istio pilot-agent flag, ignored.", hidden: true) }

    let configFile: String?
    let discoveryAddress: String?
    let threads: Int
    let ports: [String: UInt16]

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        let role = arguments.positional("role") ?? "sidecar"
        guard role == "sidecar" else { throw UsageError("proxy \(role): only the sidecar role is supported") }
        configFile = arguments.option("config")
        discoveryAddress = arguments.option("discovery-address")
        threads = try arguments.integer("concurrency", range: 1...64) ?? 2
        var ports: [String: UInt16] = [:]
        for name in ["outbound-port", "inbound-port", "admin-port", "status-port", "prometheus-port"] {
            ports[name] = UInt16(try arguments.integer(name, range: 0...65535) ?? 0)
        }
        self.ports = ports
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let environment: ProxyEnvironment
        do {
            environment = try ProxyEnvironment(context.environment)
        } catch {
            context.printError("meshlab proxy: \(error)")
            return .failure
        }
        let store = ProxyConfigStore()
        if let configFile {
            do {
                let text = String(decoding: try Files.read(configFile), as: UTF8.self)
                try store.load(text: text, file: configFile)
            } catch {
                context.printError("meshlab proxy: \(error)")
                return .failure
            }
        }
        let options = SidecarOptions(
            outboundAddress: .ipv4(.any, port: ports["outbound-port"] ?? 15001),
            inboundAddress: .ipv4(.any, port: ports["inbound-port"] ?? 15006),
            adminAddress: .ipv4(.loopback, port: ports["admin-port"] ?? 15000),
            healthAddress: .ipv4(.any, port: ports["status-port"] ?? 15021),
            prometheusAddress: .ipv4(.any, port: ports["prometheus-port"] ?? 15090),
            workload: environment.workload,
            accessLog: { line in context.stdout.write(line + "\n") })
        let pushAddress = discoveryAddress ?? environment.discoveryAddress
        // Without a static file, config comes from meshd's push stream at PROXY_CONFIG's
        // discoveryAddress (Istio's default, istiod.istio-system.svc:15012, when it names
        // none), resolved through the pod's own DNS.
        var discovery: (@Sendable (ProxyConfigStore) async throws -> Void)?
        if configFile == nil {
            let address: DiscoveryAddress
            do {
                address = try DiscoveryAddress.resolve(proxyConfigAddress: pushAddress, environment: context.environment)
            } catch {
                context.printError("meshlab proxy: \(error)")
                return .failure
            }
            let resolver = HostResolver.system(eventLoop: EventLoopGroup.shared.next())
            let clientOptions = DiscoveryClientOptions(
                address: address, node: environment.node, resolve: { try await resolver.resolve($0) },
                log: { context.printError($0) })
            discovery = { store in try await DiscoveryClient(options: clientOptions, sink: store).run() }
        }
        try await SidecarProcess.run(options: options, store: store, threads: threads,
                                     log: { context.printError($0) }, discovery: discovery)
        return .success
    }
}
