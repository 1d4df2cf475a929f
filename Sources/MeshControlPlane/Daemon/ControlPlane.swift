import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// How to start the daemon.
public struct ControlPlaneOptions: Sendable {
    public var stateDirectory: StateDirectory
    /// Where the API listens for TCP clients (127.0.0.1 only).
    public var apiAddress: SocketAddress
    /// A listening socket the launcher opened (socket activation: it was made
    /// in the launcher's network namespace); nil binds `apiAddress` here.
    public var inheritedAPIListener: FileDescriptor?
    /// How pods run, for `status` (`control-plane` until the lab runs pods).
    public var mode: String
    public var storeSync: SyncPolicy
    /// Each startup step, for the launcher and the log.
    public var progress: @Sendable (StartupEvent) -> Void
    /// Lines for the daemon's log.
    public var log: @Sendable (String) -> Void
    /// The lab's network when the daemon runs pods (it then serves cluster
    /// DNS on `network.dnsAddress`); nil for a control plane alone.
    public var network: DaemonInfo.Network?
    /// Starts what runs pods (the node agent and the service proxy live in
    /// MeshPod, which this module does not import: the wiring passes them in).
    /// Gets the API server and a way to report a startup step; returns the
    /// services to run after the control plane's own, in start order.
    public var startNode: (@Sendable (APIServer, _ step: @Sendable (String, String) -> Void) async throws -> [NamedService])?

    public init(stateDirectory: StateDirectory, apiAddress: SocketAddress, inheritedAPIListener: FileDescriptor? = nil,
                mode: String = "control-plane", storeSync: SyncPolicy = .interval(milliseconds: 1000),
                network: DaemonInfo.Network? = nil,
                startNode: (@Sendable (APIServer, _ step: @Sendable (String, String) -> Void) async throws -> [NamedService])? = nil,
                progress: @escaping @Sendable (StartupEvent) -> Void = { _ in },
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.stateDirectory = stateDirectory
        self.apiAddress = apiAddress
        self.inheritedAPIListener = inheritedAPIListener
        self.mode = mode
        self.storeSync = storeSync
        self.network = network
        self.startNode = startNode
        self.progress = progress
        self.log = log
    }
}

/// A service of the daemon with the name its lifecycle log uses.
public struct NamedService: Sendable {
    public var name: String
    public var service: any MeshIO.Service
    public init(_ name: String, _ service: any MeshIO.Service) {
        self.name = name
        self.service = service
    }
}

/// Another daemon holds the state directory.
public struct DaemonAlreadyRunning: Error, CustomStringConvertible {
    public var stateDirectory: String
    public var pid: String
    public var description: String {
        "another meshlab daemon (pid \(pid)) is running on \(stateDirectory): use it, or stop it with 'meshlab down'"
    }
}

/// The daemon: store, API server, controllers and (later) node agent and
/// meshd, started in order and stopped in reverse on SIGTERM or SIGINT.
public enum ControlPlane {
    /// Starts everything, reports `ready`, and serves until asked to stop.
    public static func run(_ options: ControlPlaneOptions) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        @Sendable func elapsed() -> Double {
            let duration = clock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        @Sendable func step(_ name: String, _ detail: String) {
            options.log("\(name): \(detail)")
            options.progress(.step(name: name, detail: detail, elapsed: elapsed()))
        }

        let state = options.stateDirectory
        try state.create()
        let lock = try Files.open(state.daemonLock, .readWrite, mode: 0o600)
        // `meshlab status` probes with a brief shared lock: allow it a moment.
        var locked = try Files.lock(lock, wait: false)
        for _ in 0..<50 where !locked {
            try await Task.sleep(for: .milliseconds(20))
            locked = try Files.lock(lock, wait: false)
        }
        guard locked else {
            let holder = (try? Files.read(state.daemonLock)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            throw DaemonAlreadyRunning(stateDirectory: state.path, pid: holder.isEmpty ? "?" : holder)
        }
        try Files.truncate(lock, size: 0)
        try Files.write(lock, Array(String(CurrentProcess.id).utf8))
        step("state", state.path)

        let store = try ResourceStore(directory: state.store, options: StoreOptions(sync: options.storeSync, log: options.log))
        let seeded = try Bootstrap.seed(store)
        var detail = "\(store.stats().objects) objects at revision \(store.resourceVersion)"
        if seeded > 0 { detail += " (\(seeded) created)" }
        if let tail = store.recovery.droppedTail {
            detail += "; dropped \(tail.bytes) bytes of an unfinished write at the end of \(tail.file)"
        }
        step("store", detail)

        let group = EventLoopGroup.shared
        let tcp = try options.inheritedAPIListener.map { try SocketListener.adopt(descriptor: $0, group: group) }
            ?? SocketListener.bind(options.apiAddress, group: group)
        let unix = try SocketListener.bindUnix(path: state.apiSocket, mode: 0o600, group: group)
        var apiOptions = APIServerOptions(serverAddress: tcp.localAddress.description)
        if let cidr = options.network.flatMap({ IPv4CIDR($0.serviceCIDR) }) { apiOptions.serviceCIDR = cidr }
        let api = APIServer(store: store, options: apiOptions)
        let http = HTTPServer()
        let apiURL = "http://\(tcp.localAddress)"
        step("api", "\(apiURL) and \(state.apiSocket)")

        // meshd's push: at the gateway address pods see (cluster DNS serves there too), else loopback.
        let meshd = try MeshdPushService.bind(api: api, address: options.network?.dnsAddress ?? "127.0.0.1",
                                              options: PushServerOptions(log: options.log))
        step("meshd", "push on \(meshd.server.localAddress), debug on \(meshd.debugListener.localAddress)")
        var services = [
            NamedService("api", APIService(http: http, handler: APIWithPushDebug(api: api, push: meshd.server), listeners: [tcp, unix])),
            NamedService("controllers", ControllerManager(server: api, options: ControllerOptions(log: options.log))),
            NamedService("meshd-push", meshd),
        ]
        let injector = try await InjectorService.start(api: api, network: options.network, istiod: meshd.istiodPorts,
                                                       log: options.log)
        services.append(NamedService("injector", injector))
        step("injector", "\(injector.address)/inject")
        if let network = options.network {
            guard let address = IPv4Address(network.dnsAddress) else {
                throw ControlPlaneFailure("the DNS address \(network.dnsAddress) is not an IPv4 address")
            }
            let dns = try ClusterDNSServer(
                address: .ipv4(address, port: 53), store: store,
                options: ClusterDNSOptions(resolver: .init(nameserverAddress: address), log: options.log))
            services.append(NamedService("dns", dns))
            step("dns", "\(dns.localAddress) udp+tcp")
        }
        if let startNode = options.startNode {
            services += try await startNode(api) { name, detail in step(name, detail) }
        }

        let info = DaemonInfo(pid: CurrentProcess.id, apiURL: apiURL, apiSocket: state.apiSocket, mode: options.mode,
                              startedAt: Timestamp.format(epochSeconds: Timestamp.now()), network: options.network)
        try info.write(to: state.daemonInfo)
        api.setReady(true)
        options.progress(.ready(elapsed: elapsed()))
        options.log("ready")

        let serviceGroup = ServiceGroup(
            services: services.map(\.service), names: services.map(\.name),
            gracefulShutdownSignals: [.terminate, .interrupt], gracefulShutdownTimeout: .seconds(20), log: options.log)
        defer {
            api.setReady(false)
            _ = try? Files.remove(state.daemonInfo)
            store.close()
            try? Files.unlock(lock)
            options.log("stopped")
        }
        try await serviceGroup.run()
    }
}

/// A startup failure of the daemon's own, in one line.
public struct ControlPlaneFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Serves the API on its listeners until graceful shutdown, then lets
/// requests in flight finish (a watch stream is closed after the grace period).
struct APIService: MeshIO.Service {
    let http: HTTPServer
    let handler: any HTTPHandler
    let listeners: [SocketListener]

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for listener in listeners {
                    group.addTask { try await http.serve(listener, handler: handler) }
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            Task { await http.shutdown(gracePeriod: .seconds(2)) }
        }
    }
}
