import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// meshd's injector as a daemon service: serves `/inject` on the daemon's
/// address (port 15017 inside the lab's node network; an ephemeral port on
/// 127.0.0.1 for a control plane alone, so that several can run on one
/// machine), and at start makes sure the istiod Service and Endpoints point
/// at it and that `istio-sidecar-injector` is registered.
public struct InjectorService: MeshIO.Service {
    let http: HTTPServer
    let listener: SocketListener
    let handler: InjectionWebhook

    /// Where it listens.
    public var address: SocketAddress { listener.localAddress }

    /// The daemon's injector: on the daemon's address as pods see it (the
    /// bridge gateway, where cluster DNS is served too) port 15017, or on an
    /// ephemeral port of 127.0.0.1 for a control plane without pods.
    /// `istiod`: the ports meshd's push server bound, for the istiod Endpoints.
    public static func start(api: APIServer, network: DaemonInfo.Network?, istiod: IstiodService.Ports = .init(),
                             log: @escaping @Sendable (String) -> Void) async throws -> InjectorService {
        guard let network else { return try await start(api: api, address: .loopback, port: 0, istiod: istiod, log: log) }
        guard let address = IPv4Address(network.dnsAddress) else {
            throw ControlPlaneFailure("the daemon's address \(network.dnsAddress) is not an IPv4 address")
        }
        return try await start(api: api, address: address, istiod: istiod, log: log)
    }

    /// Binds, then registers through `api`. `port` 0 picks a free one.
    public static func start(api: APIServer, address: IPv4Address, port: UInt16 = UInt16(IstiodService.Ports().webhook),
                             settings: InjectionSettings = InjectionSettings(), istiod: IstiodService.Ports = .init(),
                             log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> InjectorService {
        let listener = try SocketListener.bind(.ipv4(address, port: port), group: EventLoopGroup.shared)
        let service = InjectorService(http: HTTPServer(), listener: listener, handler: InjectionWebhook(settings: settings))
        var ports = istiod
        ports.webhook = Int(listener.localAddress.port ?? port)
        var problems: [String] = []
        do {
            try await IstiodService.ensure(api: api, address: address.description, ports: ports)
        } catch {
            problems.append("registering the istiod service: \(error)")
        }
        problems += await register(api: api, revision: settings.revision)
        for problem in problems { log("injector: \(problem)") }
        return service
    }

    /// Creates `istio-sidecar-injector`, or replaces it with this version's.
    static func register(api: APIServer, revision: String) async -> [String] {
        let configuration = InjectorRegistration.configuration(revision: revision)
        let collection = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
        let headers: HTTPHeaders = ["Content-Type": "application/json"]
        let created = await api.respond(to: HTTPRequest(method: .post, target: collection, headers: headers,
                                                        body: configuration.serializedBytes()))
        if created.status.code == 201 { return [] }
        if created.status.code == 409 {
            let replaced = await api.respond(to: HTTPRequest(
                method: .put, target: collection + "/" + InjectorRegistration.name, headers: headers,
                body: configuration.serializedBytes()))
            if replaced.status.code == 200 { return [] }
            return ["registering \(InjectorRegistration.name): \(replaced.status.code) \(replaced.bodyText)"]
        }
        return ["registering \(InjectorRegistration.name): \(created.status.code) \(created.bodyText)"]
    }

    /// Stops serving and closes the listener (graceful shutdown does this for a running daemon).
    public func stop() async {
        await http.shutdown(gracePeriod: .seconds(1))
        await listener.close()
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await http.serve(listener, handler: handler)
        } onGracefulShutdown: {
            Task { await http.shutdown(gracePeriod: .seconds(2)) }
        }
    }
}
