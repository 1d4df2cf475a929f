import MeshApps
import MeshClient
import MeshControlPlane
import MeshIO
import MeshModel
import MeshPod
import MeshSystem

/// `meshlab load URL`: HTTP load at a fixed rate (or closed loop at max rate),
/// with latency percentiles and counts per status, header value and body match,
/// from this machine or from inside a pod (through its sidecar).
struct LoadCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "load",
        abstract: "Send HTTP load to a URL and measure it.",
        discussion: "Open loop: requests leave at a fixed rate over keep-alive connections and each latency is measured from when its request was due, so a stalled server shows in every request that waited (no coordinated omission, as wrk2 and fortio). --qps 0 sends as fast as answers come back. Every run is bounded: --duration (default 10s), --requests, or both (at most 1h and 10000000). --from runs the generator inside a pod's network and mount namespaces, so service names resolve there and the traffic goes through the pod's sidecar.",
        examples: [
            "meshlab load http://127.0.0.1:8080/ --qps 500 --duration 5s",
            "meshlab load http://helloworld:5000/hello --from deploy/sleep -n sample --requests 2000 --count-body 'Hello version: (v[0-9]+)'",
            "meshlab load http://fortio:8080/echo?status=503:50 --from deploy/sleep --qps 0 --requests 1000 -o json",
        ]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("url", help: "http://HOST[:PORT]/PATH (with --from, HOST resolves as in the pod)."),
        .option("qps", valueName: "n", help: "Requests per second over all connections; 0: closed loop at max rate.", default: "100"),
        .option("duration", short: "t", valueName: "d", help: "How long to send (10s, 1m; default 10s unless --requests is given)."),
        .option("requests", valueName: "n", help: "How many requests in all (the first bound reached ends the run)."),
        .option("connections", valueName: "n", help: "Keep-alive connections.", default: "4"),
        .option("header", short: "H", valueName: "'K: V'", help: "A request header. Repeatable.", repeating: true),
        .option("count-header", valueName: "name", help: "Count responses per value of this response header."),
        .option("count-body", valueName: "regex", help: "Count responses per match of REGEX in the body (its first group)."),
        .option("timeout", valueName: "d", help: "Bounds the connect and each wait for response bytes.", default: "5s"),
        .option("from", valueName: "pod", help: "Send from inside this pod: NAME, pod/NAME or deploy/NAME."),
        .option("namespace", short: "n", valueName: "ns", help: "The --from pod's namespace (default: default)."),
        .option("container", short: "c", valueName: "name", help: "With --from: the container whose user and environment to use."),
        .option("output", short: "o", valueName: "format", help: "json: the whole report as JSON.", choices: ["text", "json"]),
    ]

    var settings: LoadSettings
    var from: String?
    var namespace: String
    var container: String?
    var json: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        settings = try Self.settings(arguments)
        from = arguments.option("from")
        namespace = arguments.option("namespace") ?? "default"
        container = arguments.option("container")
        json = arguments.option("output") == "json"
    }

    /// The settings a command line asks for.
    static func settings(_ arguments: ParsedArguments) throws(UsageError) -> LoadSettings {
        func duration(_ name: String) throws(UsageError) -> Duration? {
            guard let text = arguments.option(name) else { return nil }
            guard let value = LoadSettings.parseDuration(text) else {
                throw UsageError("--\(name): \"\(text)\" is not a duration (10s, 1m, 250ms)")
            }
            return value
        }
        let qpsText = arguments.option("qps") ?? "100"
        guard let rate = Double(qpsText) else { throw UsageError("--qps: \"\(qpsText)\" is not a number") }
        let length = try duration("duration")
        let timeout = try duration("timeout") ?? .seconds(5)
        let requests = try arguments.integer("requests")
        let connections = try arguments.integer("connections") ?? 4
        do throws(LoadError) {
            var headers: [LoadHeader] = []
            for text in arguments.options("header") { headers.append(try LoadHeader(parsing: text)) }
            return try LoadSettings(
                url: LoadURL(parsing: arguments.positional("url") ?? ""), rate: rate, duration: length, requests: requests,
                connections: connections, headers: headers, countHeader: arguments.option("count-header"),
                countBody: arguments.option("count-body"), timeout: timeout)
        } catch {
            throw UsageError(error.message)
        }
    }

    /// The `meshlab load` arguments that ask for `settings` (what runs inside a pod).
    static func commandLine(_ settings: LoadSettings) -> [String] {
        func text(_ duration: Duration) -> String { "\(LoadGenerator.nanoseconds(duration))ns" }
        var words = ["load", settings.url.description, "--qps", LoadReport.trimmed(settings.rate),
                     "--connections", String(settings.connections), "--timeout", text(settings.timeout)]
        if let duration = settings.duration { words += ["--duration", text(duration)] }
        if let requests = settings.requests { words += ["--requests", String(requests)] }
        for header in settings.headers { words += ["--header", header.text] }
        if let name = settings.countHeader { words += ["--count-header", name] }
        if let pattern = settings.countBody { words += ["--count-body", pattern] }
        return words
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let report: LoadReport
        if let from {
            report = try await PodLoad.run(settings, pod: from, namespace: namespace, container: container, context: context)
        } else {
            report = try await LoadGenerator(settings: settings).run()
        }
        context.stdout.write(json ? report.json.serialized(JSONFormat(indent: 2)) + "\n" : report.text)
        return .success
    }
}

/// Runs `meshlab load` inside a pod, as `meshlab exec` runs a command there,
/// and reads back its JSON report.
enum PodLoad {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ settings: LoadSettings, pod reference: String, namespace: String, container: String?,
                    context: CommandContext) async throws -> LoadReport {
        guard let lab = LabSettings.read(StateDirectory(context.stateDirectory)), lab.runsPods else {
            throw UsageError("this lab runs no pods (mode control-plane): --from needs pods")
        }
        let (configuration, podName): (SpawnConfiguration, String)
        do {
            (configuration, podName) = try await PodCommandLine.spawn(
                pod: reference, namespace: namespace, container: container, context: context
            ) { meshlab in [meshlab] + LoadCommand.commandLine(settings) + ["-o", "json"] }
        } catch let error as PodCommandLine.NoSandbox {
            throw Failure(description: error.description)
        }
        let directory = try Files.makeTemporaryDirectory(prefix: "meshlab-load")
        defer { try? Files.removeTree(directory) }
        let reportPath = directory + "/report.json"
        var spawn = configuration
        spawn.standardOutput = .descriptor(try Files.open(reportPath, .truncate, mode: 0o600))
        let status = try await ChildProcess.spawn(spawn).exitStatus(on: EventLoopGroup.shared.next())
        guard status.isSuccess else {
            throw Failure(description: "meshlab load in pod \(podName) \(status)")
        }
        let bytes = try Files.read(reportPath)
        do {
            return try LoadReport(json: JSONValue(parsing: bytes))
        } catch {
            throw Failure(description: "meshlab load in pod \(podName): unreadable report: \(error)")
        }
    }
}
