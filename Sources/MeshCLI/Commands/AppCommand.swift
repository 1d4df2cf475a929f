import MeshApps
import MeshIO
import MeshSystem

/// `meshlab app NAME`: the built-in sample apps. The node agent runs one for each
/// container whose image is in the catalog (MeshModel's `BuiltInImage`), as
/// `meshlab app <app> <image arguments> <container args>`; people can run them by
/// hand too. Hidden from `meshlab --help`: pods use it, people use `apply`.
struct AppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "app", abstract: "Run a built-in sample app, as pods of Istio's sample images do.",
        discussion: "Each app listens on 0.0.0.0, logs one line per request to stdout and exits 0 on SIGTERM "
            + "after finishing the requests in progress.",
        examples: ["meshlab app reviews --version v2", "meshlab app httpbin --port 8080", "meshlab app fortio server"],
        hidden: true,
        subcommands: [
            ProductpageAppCommand.self, DetailsAppCommand.self, ReviewsAppCommand.self, RatingsAppCommand.self,
            HelloworldAppCommand.self, HttpbinAppCommand.self, FortioAppCommand.self, SleepAppCommand.self,
        ]
    )

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {}

    func run(_ context: CommandContext) async throws -> ExitCode {
        context.stdout.write(HelpText.render(Self.self, path: ["meshlab", Self.info.name]))
        return .success
    }

    static func port(default value: String) -> ArgumentSpec {
        .option("port", valueName: "port", help: "TCP port to listen on.", default: value)
    }

    static let address = ArgumentSpec.option(
        "address", valueName: "ip", help: "IP address to listen on.", default: "0.0.0.0")

    static func version(default value: String, help: String) -> ArgumentSpec {
        .option("version", valueName: "version", help: help, default: value)
    }

    /// The listening address from `--address` and the port option `name`.
    static func listenAddress(_ arguments: ParsedArguments, port name: String = "port") throws(UsageError) -> SocketAddress {
        let port = try arguments.integer(name, range: 0...65535) ?? 0
        let ip = arguments.option("address") ?? "0.0.0.0"
        do {
            return try SocketAddress(parsing: ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)")
        } catch {
            throw UsageError("--address: \"\(ip)\" is not an IP address")
        }
    }
}

struct ProductpageAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "productpage", abstract: "bookinfo's front end: HTML, /api/v1/products, login.",
        discussion: "Calls details and reviews at http://details:9080 and http://reviews:9080 (DETAILS_HOSTNAME, "
            + "REVIEWS_HOSTNAME, RATINGS_HOSTNAME, SERVICES_DOMAIN and *_SERVICE_PORT change that).")
    static let arguments: [ArgumentSpec] = [AppCommand.port(default: "9080"), AppCommand.address]

    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let environment = AppEnvironment(context.environment)
        try await AppProcess.serve(address: address) { group in
            let client = ServiceClient(resolver: .system(eventLoop: group.next()), group: group,
                                       timeout: ProductpageApp.backendTimeout)
            return ProductpageApp(environment: environment, client: client)
        }
        return .success
    }
}

struct DetailsAppCommand: ParsableCommand {
    static let info = CommandInfo(name: "details", abstract: "bookinfo's details: /details/{id}.")
    static let arguments: [ArgumentSpec] = [
        AppCommand.version(default: "v1", help: "The image's version: v1 or v2."),
        AppCommand.port(default: "9080"), AppCommand.address,
    ]

    let version: String
    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        version = arguments.option("version") ?? "v1"
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        try await AppProcess.serve(address: address) { _ in DetailsApp(version: version) }
        return .success
    }
}

struct ReviewsAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "reviews", abstract: "bookinfo's reviews: v1 no stars, v2 black, v3 red.",
        discussion: "v2 and v3 call ratings at http://ratings:9080 (RATINGS_HOSTNAME, SERVICES_DOMAIN, "
            + "RATINGS_SERVICE_PORT). ENABLE_RATINGS and STAR_COLOR override the version's defaults.")
    static let arguments: [ArgumentSpec] = [
        .option("version", valueName: "version", help: "The image's version.", default: "v1", choices: ["v1", "v2", "v3"]),
        AppCommand.port(default: "9080"), AppCommand.address,
    ]

    let version: String
    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        version = arguments.option("version") ?? "v1"
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let environment = AppEnvironment(context.environment)
        try await AppProcess.serve(address: address) { group in
            ReviewsApp(version: version, environment: environment, client: { timeout in
                ServiceClient(resolver: .system(eventLoop: group.next()), group: group, timeout: timeout)
            }, log: .standardOutput)
        }
        return .success
    }
}

struct RatingsAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "ratings", abstract: "bookinfo's ratings: /ratings/{id}.",
        discussion: "SERVICE_VERSION, when set, overrides --version; besides v1 and v2 it may be v-faulty, "
            + "v-delayed, v-unavailable or v-unhealthy, as in the real image.")
    static let arguments: [ArgumentSpec] = [
        AppCommand.version(default: "v1", help: "The image's version."),
        AppCommand.port(default: "9080"), AppCommand.address,
    ]

    let version: String
    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        version = AppEnvironment(context.environment)["SERVICE_VERSION"] ?? arguments.option("version") ?? "v1"
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        try await AppProcess.serve(address: address) { _ in RatingsApp(version: version) }
        return .success
    }
}

struct HelloworldAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "helloworld", abstract: "Istio's helloworld: GET /hello names version and pod.",
        discussion: "SERVICE_VERSION, when set, overrides --version; the instance is HOSTNAME (the pod name).")
    static let arguments: [ArgumentSpec] = [
        AppCommand.version(default: "v1", help: "The image's version."),
        AppCommand.port(default: "5000"), AppCommand.address,
    ]

    let version: String
    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        version = arguments.option("version") ?? "v1"
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let app = HelloworldApp(imageVersion: version, environment: AppEnvironment(context.environment))
        try await AppProcess.serve(address: address) { _ in app }
        return .success
    }
}

struct HttpbinAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "httpbin", abstract: "An httpbin compatible with go-httpbin.",
        discussion: "/get, /anything, /headers, /ip, /status/{code}, /delay/{seconds}, /bytes/{n}, /uuid, "
            + "/user-agent, /response-headers, /redirect/{n} and more, as go-httpbin answers them.")
    static let arguments: [ArgumentSpec] = [
        .option("port", valueName: "port", help: "TCP port to listen on.", default: "8080", environment: "PORT"),
        AppCommand.address,
    ]

    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        address = try AppCommand.listenAddress(arguments)
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        try await AppProcess.serve(address: address) { _ in HttpbinApp() }
        return .success
    }
}

struct FortioAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "fortio", abstract: "fortio's echo server (fortio server).",
        discussion: "Any path echoes; ?status=503:50&delay=10ms:20&size=1024&header=x:y shape the answer "
            + "with fortio's probability lists; /debug describes the request. Fortio's other commands "
            + "(load, curl, grpcping...) are not supported in meshlab.")
    static let arguments: [ArgumentSpec] = [
        .positional("command", help: "Fortio's command; only 'server' runs here.", optional: true),
        .positional("args", help: "Arguments of other fortio commands (refused).", optional: true, repeating: true),
        .option("http-port", valueName: "port", help: "Port of the echo server (PORT or HOST:PORT).", default: "8080"),
    ]

    let command: String
    let address: SocketAddress

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        command = arguments.positional("command") ?? "server"
        let text = arguments.option("http-port") ?? "8080"
        let spelled = text.contains(":") ? (text.hasPrefix(":") ? "0.0.0.0" + text : text) : "0.0.0.0:" + text
        guard let address = try? SocketAddress(parsing: spelled) else {
            throw UsageError("--http-port: \"\(text)\" is not a port or HOST:PORT")
        }
        self.address = address
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        guard command == "server" else {
            context.printError("fortio \(command) is not supported in meshlab: only 'fortio server' (its echo server) runs here")
            return .failure
        }
        let environment = AppEnvironment(context.environment)
        let app = FortioApp(hostname: environment.podName, environment: context.environment)
        try await AppProcess.serve(address: address) { _ in app }
        return .success
    }
}

struct SleepAppCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "sleep", abstract: "An idle process for a client pod (curl, sleep).",
        discussion: "Does nothing until SIGTERM or SIGINT, then exits 0; with SECONDS, exits after that long. "
            + "'meshlab exec' runs commands in its pod.")
    static let arguments: [ArgumentSpec] = [
        .positional("seconds", help: "How long to sleep: a number of seconds or 'infinity' (the default).", optional: true),
    ]

    let duration: Duration?

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        let text = arguments.positional("seconds") ?? "infinity"
        if text == "infinity" || text == "inf" {
            duration = nil
        } else if let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds < 1e9 {
            duration = .milliseconds(Int64(seconds * 1000))
        } else {
            throw UsageError("SECONDS: \"\(text)\" is not a number of seconds or 'infinity'")
        }
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        try await AppProcess.idle(for: duration)
        return .success
    }
}
