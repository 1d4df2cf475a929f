#if canImport(Glibc)
import Glibc
#endif
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// meshd's push side as the daemon runs it: the push server on
/// `address:15010` and its debug views on `address:15014` (`istiodPorts`
/// says which ports were bound, for the istiod Endpoints).
public struct MeshdPushService: MeshIO.Service {
    public let server: PushServer
    let debugListener: SocketListener
    let api: APIServer
    let address: String

    /// Binds meshd's ports on `address` (the daemon's address as pods see it).
    /// On 127.0.0.1 (a control plane without pods, often beside another lab or
    /// test daemon) a taken port falls back to a free one, said in the log.
    public static func bind(api: APIServer, address: String, options: PushServerOptions = PushServerOptions()) throws
        -> MeshdPushService
    {
        guard let ip = IPv4Address(address) else {
            throw ControlPlaneFailure("meshd's address \(address) is not an IPv4 address")
        }
        func listen(_ port: Int) throws -> SocketListener {
            do {
                return try SocketListener.bind(.ipv4(ip, port: UInt16(port)), group: .shared)
            } catch let error as SystemError where error.errno == EADDRINUSE && ip == .loopback {
                let fallback = try SocketListener.bind(.ipv4(ip, port: 0), group: .shared)
                options.log("push: port \(port) is taken on \(address); using \(fallback.localAddress)")
                return fallback
            }
        }
        let push = try listen(DiscoveryWire.plaintextPort)
        let debug = try listen(15014)
        return MeshdPushService(server: PushServer(store: api.store, listener: push, options: options),
                                debugListener: debug, api: api, address: address)
    }

    /// The ports bound, with the webhook's default.
    public var istiodPorts: IstiodService.Ports {
        IstiodService.Ports(push: Int(server.localAddress.port ?? 15010), debug: Int(debugListener.localAddress.port ?? 15014))
    }

    public func run() async throws {
        let http = HTTPServer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await http.serve(debugListener, handler: PushDebugHandler(server: server))
                } onGracefulShutdown: {
                    Task { await http.shutdown(gracePeriod: .seconds(1)) }
                }
            }
            group.addTask { try await server.run() }
            try await group.waitForAll()
        }
    }
}
