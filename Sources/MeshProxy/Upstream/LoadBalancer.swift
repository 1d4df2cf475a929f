import MeshModel

/// Endpoint choice, as a pure function of the endpoints' health and load.
///
/// LEAST_REQUEST is Envoy's power of two choices: two healthy endpoints drawn at
/// random, the one with fewer active requests wins (all equal, it is random).
/// ROUND_ROBIN walks a cursor the caller keeps; RANDOM draws uniformly. Endpoints
/// in `excluded` (already tried, for `retryPreviousHosts`) are avoided while any
/// other healthy one is left.
public enum LoadBalancer {
    public struct Candidate: Sendable, Equatable {
        public var healthy: Bool
        public var activeRequests: Int
        public init(healthy: Bool, activeRequests: Int) {
            self.healthy = healthy
            self.activeRequests = activeRequests
        }
    }

    /// The index picked, or nil when no endpoint is healthy.
    public static func pick(_ policy: Cluster.LoadBalancer, candidates: [Candidate], excluded: Set<Int> = [],
                            cursor: inout Int, random: inout some RandomNumberGenerator) -> Int? {
        let healthy = candidates.indices.filter { candidates[$0].healthy }
        guard !healthy.isEmpty else { return nil }
        let fresh = healthy.filter { !excluded.contains($0) }
        let pool = fresh.isEmpty ? healthy : fresh
        switch policy {
        case .roundRobin:
            let chosen = pool[Int(UInt(bitPattern: cursor) % UInt(pool.count))]
            cursor &+= 1
            return chosen
        case .random, .passthrough:
            return pool[Int(random.next() % UInt64(pool.count))]
        case .leastRequest:
            if pool.count == 1 { return pool[0] }
            let first = pool[Int(random.next() % UInt64(pool.count))]
            let second = pool[Int(random.next() % UInt64(pool.count))]
            return candidates[second].activeRequests < candidates[first].activeRequests ? second : first
        }
    }
}
