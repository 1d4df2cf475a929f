import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// A cluster at run time: its keep-alive pool, its endpoints' load and counters,
/// and its circuit breakers. Made from a `Cluster` and replaced when that changes.
public final class UpstreamCluster: Sendable {
    public let cluster: Cluster
    let pool: HTTPConnectionPool
    private let state: Mutex<State>

    /// Counters of one endpoint, as `/clusters` shows them.
    public struct EndpointStats: Sendable, Equatable {
        public var requestsTotal = 0
        public var requestsActive = 0
        public var requestsSuccess = 0
        public var requestsError = 0
        public var requestsTimeout = 0
        public var connectFailures = 0
    }

    struct State {
        var endpointStats: [String: EndpointStats] = [:]
        var cursor = 0
        var activeRequests = 0
        var activeRetries = 0
    }

    init(cluster: Cluster, group: EventLoopGroup) {
        self.cluster = cluster
        self.state = Mutex(State())
        let connectTimeout = Duration.milliseconds(cluster.connectTimeoutMs ?? 10_000)
        let source = cluster.upstreamBindAddress.flatMap { try? SocketAddress(parsing: "\($0):0") }
        var configuration = HTTPPoolConfiguration(
            maxIdlePerDestination: 64, idleTimeout: .milliseconds(cluster.idleTimeoutMs ?? 3_600_000))
        configuration.client = HTTPClientConfiguration(readTimeout: .seconds(3600), writeTimeout: .seconds(30))
        pool = HTTPConnectionPool(configuration: configuration) { destination in
            let address = try SocketAddress(parsing: Endpoint.addressText(destination.host, destination.port))
            return try await SocketConnection.connect(to: address, from: source, timeout: connectTimeout,
                                                      on: group.current ?? group.next())
        }
    }

    /// Picks an endpoint for one try: healthy, by the cluster's policy, avoiding `excluded`.
    func pick(_ endpoints: [Endpoint], excluded: Set<Int>, random: inout some RandomNumberGenerator) -> Int? {
        state.withLock { state in
            let candidates = endpoints.map { endpoint in
                LoadBalancer.Candidate(healthy: endpoint.healthy,
                                       activeRequests: state.endpointStats[endpoint.key]?.requestsActive ?? 0)
            }
            return LoadBalancer.pick(cluster.loadBalancer, candidates: candidates, excluded: excluded,
                                     cursor: &state.cursor, random: &random)
        }
    }

    /// Admits one more request under the circuit breakers; false: overflow (503 UO).
    /// With HTTP/1.1 every request in flight holds a connection, so `maxConnections`
    /// plus `maxPendingRequests` bound the requests in flight as well as `maxRequests`.
    func admitRequest() -> Bool {
        state.withLock { state in
            let breakers = cluster.circuitBreakers
            var limit = breakers?.maxRequests ?? Int.max
            if let connections = breakers?.maxConnections {
                limit = min(limit, connections &+ (breakers?.maxPendingRequests ?? Int.max / 2))
            }
            guard state.activeRequests < limit else { return false }
            state.activeRequests += 1
            return true
        }
    }

    func finishRequest() {
        state.withLock { $0.activeRequests -= 1 }
    }

    /// Admits a retry under `maxRetries` (Envoy's default there is 3; Istio lifts it).
    func admitRetry() -> Bool {
        state.withLock { state in
            guard state.activeRetries < (cluster.circuitBreakers?.maxRetries ?? Int.max) else { return false }
            state.activeRetries += 1
            return true
        }
    }

    func finishRetry() {
        state.withLock { $0.activeRetries -= 1 }
    }

    func record(_ endpoint: String, _ change: (inout EndpointStats) -> Void) {
        state.withLock { change(&$0.endpointStats[endpoint, default: EndpointStats()]) }
    }

    public func stats(of endpoint: String) -> EndpointStats {
        state.withLock { $0.endpointStats[endpoint] ?? EndpointStats() }
    }

    public var poolStatistics: HTTPConnectionPool.Stats { pool.statistics }
}

/// The run-time clusters, made on first use and replaced when their config changes.
public final class ClusterManager: Sendable {
    private let group: EventLoopGroup
    private let clusters = Mutex<[String: UpstreamCluster]>([:])

    public init(group: EventLoopGroup) {
        self.group = group
    }

    /// The run-time state of `cluster` (same config: same pool and counters).
    public func upstream(for cluster: Cluster) -> UpstreamCluster {
        let (upstream, replaced) = clusters.withLock { clusters -> (UpstreamCluster, UpstreamCluster?) in
            if let existing = clusters[cluster.name], existing.cluster == cluster { return (existing, nil) }
            let fresh = UpstreamCluster(cluster: cluster, group: group)
            let old = clusters.updateValue(fresh, forKey: cluster.name)
            return (fresh, old)
        }
        if let replaced { Task { await replaced.pool.shutdown() } }
        return upstream
    }

    /// Forgets clusters no longer configured (their idle connections close).
    public func retain(only names: Set<String>) {
        let removed = clusters.withLock { clusters -> [UpstreamCluster] in
            let gone = clusters.filter { !names.contains($0.key) }
            for name in gone.keys { clusters[name] = nil }
            return Array(gone.values)
        }
        for cluster in removed { Task { await cluster.pool.shutdown() } }
    }

    /// The clusters used so far, by name.
    public var all: [String: UpstreamCluster] { clusters.withLock { $0 } }

    /// Closes every idle pooled connection.
    public func shutdown() async {
        for cluster in all.values { await cluster.pool.shutdown() }
    }
}

extension Endpoint {
    /// `ip:port` (`[ip]:port` for IPv6), the key of its counters and pool.
    var key: String { Endpoint.addressText(address, port) }

    static func addressText(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
