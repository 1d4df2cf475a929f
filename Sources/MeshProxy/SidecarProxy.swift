import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// How a sidecar listens and who it is. The defaults are Istio's ports; tests bind
/// port 0 on loopback and inject the original destination.
public struct SidecarOptions: Sendable {
    /// Outbound capture (Istio 15001) and inbound capture (15006).
    public var outboundAddress: SocketAddress
    public var inboundAddress: SocketAddress?
    /// Envoy's admin (15000, loopback only), readiness (15021), Prometheus (15090); nil: not served.
    public var adminAddress: SocketAddress?
    public var healthAddress: SocketAddress?
    public var prometheusAddress: SocketAddress?
    /// Where a captured connection was going: SO_ORIGINAL_DST by default; loopback
    /// tests, which have no iptables REDIRECT, hand the upstream's address instead.
    public var originalDestination: @Sendable (SocketConnection) throws -> SocketAddress
    /// Who this sidecar serves, for metric labels.
    public var workload: ProxyStats.Workload
    /// Where access-log lines go (stdout, so they end up in the container log).
    public var accessLog: @Sendable (String) -> Void
    /// Seed for weighted picks, load balancing, faults and backoff jitter; nil: from the system.
    public var randomSeed: UInt64?
    /// How long to wait for a client's first bytes before treating it as non-HTTP.
    public var sniffTimeout: Duration
    /// Request bodies are held in memory for retries up to this size (larger: 413).
    public var maxRequestBodyBytes: Int

    public init(outboundAddress: SocketAddress = .ipv4(.any, port: 15001),
                inboundAddress: SocketAddress? = .ipv4(.any, port: 15006),
                adminAddress: SocketAddress? = .ipv4(.loopback, port: 15000),
                healthAddress: SocketAddress? = .ipv4(.any, port: 15021),
                prometheusAddress: SocketAddress? = .ipv4(.any, port: 15090),
                originalDestination: @escaping @Sendable (SocketConnection) throws -> SocketAddress = {
                    try $0.originalDestination()
                },
                workload: ProxyStats.Workload = ProxyStats.Workload(name: "unknown", namespace: "unknown", app: "unknown"),
                accessLog: @escaping @Sendable (String) -> Void = { print($0) },
                randomSeed: UInt64? = nil, sniffTimeout: Duration = .milliseconds(100),
                maxRequestBodyBytes: Int = 16 << 20) {
        self.outboundAddress = outboundAddress
        self.inboundAddress = inboundAddress
        self.adminAddress = adminAddress
        self.healthAddress = healthAddress
        self.prometheusAddress = prometheusAddress
        self.originalDestination = originalDestination
        self.workload = workload
        self.accessLog = accessLog
        self.randomSeed = randomSeed
        self.sniffTimeout = sniffTimeout
        self.maxRequestBodyBytes = maxRequestBodyBytes
    }
}

/// The sidecar: capture listeners, L7 and TCP proxying through the configuration
/// in `store`, and the admin, readiness and metrics endpoints.
///
///     let store = ProxyConfigStore()                  // the push client applies into it
///     let sidecar = SidecarProxy(options: options, store: store, group: group)
///     let addresses = try sidecar.bind()             // real ports after port 0
///     try await sidecar.run()                         // until `shutdown()`
public final class SidecarProxy: Sendable {
    public let options: SidecarOptions
    public let store: ProxyConfigStore
    public let clusters: ClusterManager
    public let stats: ProxyStats
    let group: EventLoopGroup
    let random: Mutex<SplitMix64>
    let logLevel = Mutex("info")
    /// Serves HTTP on captured connections (one exchange loop per connection).
    let downstream: HTTPServer
    let admin = HTTPServer(configuration: HTTPServerConfiguration(idleTimeout: .seconds(60), sendsDate: true))
    private let bound = Mutex<Bound?>(nil)
    private let stopping = Atomic<Bool>(false)

    /// The listeners after `bind()`.
    public struct Bound: Sendable {
        public var outbound: SocketListener
        public var inbound: SocketListener?
        public var admin: SocketListener?
        public var health: SocketListener?
        public var prometheus: SocketListener?
    }

    public init(options: SidecarOptions, store: ProxyConfigStore, group: EventLoopGroup) {
        self.options = options
        self.store = store
        self.group = group
        self.clusters = ClusterManager(group: group)
        self.stats = ProxyStats(workload: options.workload)
        self.random = Mutex(options.randomSeed.map { SplitMix64(seed: $0) } ?? SplitMix64())
        self.downstream = HTTPServer(configuration: HTTPServerConfiguration(
            idleTimeout: .seconds(3600), readTimeout: .seconds(60), writeTimeout: .seconds(60), sendsDate: false))
    }

    /// Opens every listener (errors name the address, e.g. EADDRINUSE).
    @discardableResult
    public func bind() throws -> Bound {
        func open(_ address: SocketAddress?) throws -> SocketListener? {
            try address.map { try SocketListener.bind($0, group: group) }
        }
        let listeners = Bound(outbound: try SocketListener.bind(options.outboundAddress, group: group),
                              inbound: try open(options.inboundAddress), admin: try open(options.adminAddress),
                              health: try open(options.healthAddress), prometheus: try open(options.prometheusAddress))
        bound.withLock { $0 = listeners }
        return listeners
    }

    /// Serves every bound listener until `shutdown()`.
    public func run() async throws {
        let listeners = try bound.withLock { bound -> Bound in
            if let bound { return bound }
            throw IOError.closed(.accept)
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.acceptCaptured(listeners.outbound, direction: .outbound) }
            if let inbound = listeners.inbound {
                group.addTask { await self.acceptCaptured(inbound, direction: .inbound) }
            }
            if let admin = listeners.admin {
                group.addTask { try? await self.admin.serve(admin, handler: AdminHandler(sidecar: self, role: .admin)) }
            }
            if let health = listeners.health {
                group.addTask { try? await self.admin.serve(health, handler: AdminHandler(sidecar: self, role: .health)) }
            }
            if let prometheus = listeners.prometheus {
                group.addTask {
                    try? await self.admin.serve(prometheus, handler: AdminHandler(sidecar: self, role: .prometheus))
                }
            }
        }
    }

    /// Stops accepting, lets requests in flight finish (up to `gracePeriod`), closes pools.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        stopping.store(true, ordering: .releasing)
        if let listeners = bound.withLock({ $0 }) {
            await listeners.outbound.close()
            await listeners.inbound?.close()
        }
        await downstream.shutdown(gracePeriod: gracePeriod)
        await admin.shutdown(gracePeriod: .milliseconds(100))
        await clusters.shutdown()
    }

    // MARK: Captured connections

    private func acceptCaptured(_ listener: SocketListener, direction: TrafficDirection) async {
        await withDiscardingTaskGroup { group in
            while !stopping.load(ordering: .acquiring) {
                let connection: SocketConnection
                do {
                    connection = try await listener.accept()
                } catch IOError.closed {
                    return
                } catch is CancellationError {
                    return
                } catch {
                    if stopping.load(ordering: .acquiring) { return }
                    try? await Task.sleep(for: .milliseconds(50))  // EMFILE and friends: pause, go on
                    continue
                }
                group.addTask(executorPreference: connection.eventLoop) {
                    await self.handleCaptured(connection, direction: direction, listener: listener)
                }
            }
        }
    }

    /// One captured connection: find its listener and chain by original destination,
    /// sniff when the chains differ by protocol, then proxy at L7 or as TCP.
    func handleCaptured(_ connection: SocketConnection, direction: TrafficDirection, listener: SocketListener) async {
        guard let destination = try? options.originalDestination(connection),
              let (ip, port) = Self.split(destination) else {
            stats.count("listener.no_original_destination")
            return await connection.close()
        }
        // Not redirected (someone dialled the capture port itself): proxying would loop.
        if destination == connection.localAddress, destination.port == listener.localAddress.port {
            stats.count("listener.loop_refused")
            return await connection.close()
        }
        let snapshot = store.snapshot
        guard let configured = Router.listener(in: snapshot, direction: direction, destinationAddress: ip,
                                               destinationPort: port) else {
            stats.count("listener.no_filter_chain_match")
            return await connection.close()
        }
        let candidates = Router.candidateChains(of: configured, destinationPort: port)
        guard !candidates.isEmpty else {
            stats.count("listener.no_filter_chain_match")
            return await connection.close()
        }
        let blackHoleTCP = candidates.contains { $0.tcp?.cluster == Self.blackHole }
        var sniffed: Router.SniffedProtocol = Router.chain(from: candidates, sniffed: .http)?.http != nil ? .http : .tcp
        var prefix = ByteBuffer()
        if Router.needsSniffing(candidates) || blackHoleTCP {
            let (verdict, bytes) = await ProtocolSniffer.sniff(connection, timeout: options.sniffTimeout)
            sniffed = verdict == .http ? .http : .tcp
            prefix = bytes
        }
        guard let chain = Router.chain(from: candidates, sniffed: sniffed) else {
            stats.count("listener.no_filter_chain_match")
            return await connection.close()
        }
        let stream: any ByteStream = prefix.isEmpty ? connection : PrefixedStream(base: connection, prefix: prefix)
        let context = DownstreamContext(direction: direction, listener: configured, chain: chain,
                                        originalDestination: destination, destinationIP: ip, destinationPort: port,
                                        remote: connection.remoteAddress, eventLoop: connection.eventLoop)
        if chain.http != nil {
            await downstream.serve(stream: stream, handler: ProxyHTTPHandler(sidecar: self, context: context))
        } else if let tcp = chain.tcp {
            if sniffed == .http && tcp.cluster == Self.blackHole {
                await refuseHTTPToBlackHole(stream, context: context)
            } else {
                await proxyTCP(stream, tcp: tcp, context: context, snapshot: snapshot)
            }
        }
        await stream.close()
    }

    static let blackHole = "BlackHoleCluster"
    static let passthrough = "PassthroughCluster"

    static func split(_ address: SocketAddress) -> (String, Int)? {
        switch address {
        case .ipv4(let ip, let port): return (ip.description, Int(port))
        case .ipv6(let ip, let port, _): return (ip.description, Int(port))
        default: return nil
        }
    }

    /// Draws from the shared generator.
    func withRandom<R>(_ body: (inout SplitMix64) -> R) -> R {
        random.withLock { body(&$0) }
    }

    /// Writes one finished request to the access log and the metrics.
    func finish(_ record: RequestRecord) {
        stats.record(record)
        options.accessLog(AccessLogFormat.line(record))
    }
}

/// What a request handler knows about the connection it came in on.
struct DownstreamContext: Sendable {
    let direction: TrafficDirection
    let listener: Listener
    let chain: FilterChain
    let originalDestination: SocketAddress
    let destinationIP: String
    let destinationPort: Int
    let remote: SocketAddress?
    let eventLoop: EventLoop

    var reporter: String { direction == .inbound ? "destination" : "source" }
}
