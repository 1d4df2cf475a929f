import MeshModel

/// One consistent, indexed view of everything the sidecar is configured with.
///
/// Immutable: the store swaps whole snapshots, so a request that took one sees
/// listeners, routes, clusters and endpoints that were checked together and
/// never a mix of two pushes. Regexes are compiled once here, not per request.
public struct ProxyConfigSnapshot: Sendable {
    public let config: ProxyConfig
    public let clusters: [String: Cluster]
    public let endpoints: [String: [Endpoint]]
    public let routes: [String: RouteConfiguration]
    /// Listeners keyed by `address:port` (the virtual ones by name too).
    let listenersByAddress: [String: Listener]
    let listenersByName: [String: Listener]
    let patterns: RegexCache

    /// Indexes `config` and checks it; throws `ProxyConfigError` listing every problem.
    public init(checking config: ProxyConfig) throws(ProxyConfigError) {
        let problems = ProxyConfigCheck.problems(in: config)
        if !problems.isEmpty { throw ProxyConfigError(problems: problems) }
        self.init(unchecked: config)
    }

    init(unchecked config: ProxyConfig) {
        self.config = config
        clusters = Dictionary(config.clusters.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        var endpoints: [String: [Endpoint]] = [:]
        for assignment in config.endpoints { endpoints[assignment.clusterName] = assignment.endpoints }
        for cluster in config.clusters where cluster.discovery == .staticEndpoints {
            endpoints[cluster.name] = cluster.staticEndpoints ?? []
        }
        self.endpoints = endpoints
        routes = Dictionary(config.routes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        listenersByAddress = Dictionary(config.listeners.map { ("\($0.address):\($0.port)", $0) },
                                        uniquingKeysWith: { first, _ in first })
        listenersByName = Dictionary(config.listeners.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        patterns = RegexCache(config: config)
    }

    /// An empty configuration (before the first push).
    public static let empty = ProxyConfigSnapshot(unchecked: ProxyConfig())

    /// The endpoints of `cluster` (EDS assignment or static list).
    public func endpoints(of cluster: String) -> [Endpoint] { endpoints[cluster] ?? [] }
}

/// Why a configuration was refused: every problem, each naming where it is.
public struct ProxyConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "; ") }
}

/// The checks a sidecar makes before installing a configuration, in the spirit of
/// Envoy's: names unique, every cluster a route or TCP chain names exists, weights
/// positive, regexes compile, exactly one action per route.
enum ProxyConfigCheck {
    static func problems(in config: ProxyConfig) -> [String] {
        var problems: [String] = []
        let clusterNames = Set(config.clusters.map(\.name))
        problems += duplicates(config.clusters.map(\.name), kind: "cluster")
        problems += duplicates(config.listeners.map(\.name), kind: "listener")
        problems += duplicates(config.routes.map(\.name), kind: "route configuration")
        for cluster in config.clusters {
            problems += clusterProblems(cluster)
        }
        for assignment in config.endpoints {
            for (index, endpoint) in assignment.endpoints.enumerated()
            where !(1...65535).contains(endpoint.port) || IPText.isAddress(endpoint.address) == false {
                problems.append("endpoints \(assignment.clusterName)[\(index)]: \(endpoint.address):\(endpoint.port) is not an IP address and port")
            }
        }
        for listener in config.listeners {
            if !(0...65535).contains(listener.port) {
                problems.append("listener \(listener.name): port \(listener.port) out of range")
            }
            for (index, chain) in listener.filterChains.enumerated() {
                let place = "listener \(listener.name) chain \(chain.name ?? String(index))"
                if (chain.http == nil) == (chain.tcp == nil) {
                    problems.append("\(place): exactly one of http and tcp must be set")
                }
                // A listener may name a route configuration that comes later (Envoy's RDS
                // warming): requests get 404 NR meanwhile. Inline routes are checked now.
                if let inline = chain.http?.routeConfig {
                    problems += routeProblems(inline, clusters: clusterNames, place: "\(place) inline routes")
                }
                if let tcp = chain.tcp {
                    problems += targetProblems(cluster: tcp.cluster, weighted: tcp.weightedClusters,
                                               clusters: clusterNames, place: place)
                }
            }
        }
        for route in config.routes {
            problems += routeProblems(route, clusters: clusterNames, place: "route \(route.name)")
        }
        return problems
    }

    private static func duplicates(_ names: [String], kind: String) -> [String] {
        var seen = Set<String>(), reported = Set<String>(), problems: [String] = []
        for name in names where !seen.insert(name).inserted && reported.insert(name).inserted {
            problems.append("\(kind) \(name) is defined twice")
        }
        return problems
    }

    private static func clusterProblems(_ cluster: Cluster) -> [String] {
        var problems: [String] = []
        let place = "cluster \(cluster.name)"
        for (field, value) in [("connectTimeoutMs", cluster.connectTimeoutMs), ("idleTimeoutMs", cluster.idleTimeoutMs),
                               ("maxRequestsPerConnection", cluster.maxRequestsPerConnection)] {
            if let value, value < 0 { problems.append("\(place): \(field) must be >= 0") }
        }
        if let address = cluster.upstreamBindAddress, !IPText.isAddress(address) {
            problems.append("\(place): upstreamBindAddress \(address) is not an IP address")
        }
        for (index, endpoint) in (cluster.staticEndpoints ?? []).enumerated()
        where !(1...65535).contains(endpoint.port) || !IPText.isAddress(endpoint.address) {
            problems.append("\(place): staticEndpoints[\(index)] \(endpoint.address):\(endpoint.port) is not an IP address and port")
        }
        return problems
    }

    private static func routeProblems(_ config: RouteConfiguration, clusters: Set<String>, place: String) -> [String] {
        var problems: [String] = []
        for host in config.virtualHosts {
            for (index, route) in host.routes.enumerated() {
                let where_ = "\(place) virtual host \(host.name) route \(route.name ?? String(index))"
                let actions = [route.route != nil, route.redirect != nil, route.directResponse != nil].filter { $0 }.count
                if actions != 1 { problems.append("\(where_): exactly one of route, redirect, directResponse must be set") }
                let pathForms = [route.match.path, route.match.prefix, route.match.regex].compactMap { $0 }.count
                if pathForms > 1 { problems.append("\(where_): at most one of path, prefix, regex may be set") }
                for pattern in patterns(in: route) where RegexCache.compile(pattern) == nil {
                    problems.append("\(where_): regex \(pattern.debugDescription) does not compile")
                }
                if let action = route.route {
                    problems += targetProblems(cluster: action.cluster, weighted: action.weightedClusters,
                                               clusters: clusters, place: where_)
                    if let policy = action.retryPolicy, policy.numRetries < 0 {
                        problems.append("\(where_): retryPolicy.numRetries must be >= 0")
                    }
                    if let timeout = action.timeoutMs, timeout < 0 { problems.append("\(where_): timeoutMs must be >= 0") }
                    if let mirror = action.mirrorCluster, !clusters.contains(mirror) {
                        problems.append("\(where_): mirror cluster \(mirror) is unknown")
                    }
                }
            }
        }
        return problems
    }

    private static func targetProblems(cluster: String?, weighted: [WeightedCluster]?, clusters: Set<String>,
                                       place: String) -> [String] {
        var problems: [String] = []
        switch (cluster, weighted) {
        case (let name?, nil):
            if !clusters.contains(name) { problems.append("\(place): unknown cluster \(name)") }
        case (nil, let weighted?):
            if weighted.isEmpty || weighted.reduce(0, { $0 + max(0, $1.weight) }) == 0 {
                problems.append("\(place): weighted clusters need a positive total weight")
            }
            for entry in weighted {
                if entry.weight < 0 { problems.append("\(place): weight of \(entry.name) must be >= 0") }
                if !clusters.contains(entry.name) { problems.append("\(place): unknown cluster \(entry.name)") }
            }
        default:
            problems.append("\(place): exactly one of cluster and weightedClusters must be set")
        }
        return problems
    }

    static func patterns(in route: Route) -> [String] {
        var patterns: [String] = []
        if let regex = route.match.regex { patterns.append(regex) }
        for header in route.match.headers ?? [] { if let regex = header.match?.regex { patterns.append(regex) } }
        for query in route.match.queryParameters ?? [] { if let regex = query.match?.regex { patterns.append(regex) } }
        return patterns
    }
}

/// Text checks for IP addresses without touching sockets (MeshModel-level parsing).
enum IPText {
    static func isAddress(_ text: String) -> Bool {
        if text.contains(":") { return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && text.count >= 2 }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && (UInt8(part) != nil)
        }
    }
}
