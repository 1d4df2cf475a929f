// What meshd sends a sidecar, in Envoy's four resource types (listeners,
// routes, clusters, endpoints) but meshlab's own, smaller shape. meshd builds
// these from the store with a pure function; the sidecar validates and
// installs them; `meshlab proxy-config` prints them. Names follow Envoy's and
// Istio's so that `istioctl proxy-config` output and Envoy docs read true:
// cluster `outbound|9080|v1|reviews.default.svc.cluster.local`, route
// config `9080`, virtual host `reviews.default.svc.cluster.local:9080`.
//
// Durations are whole milliseconds (`...Ms`); nil means "not set" with the
// default each field documents.

/// A sidecar's identity, sent with its first request on the push stream.
public struct ProxyNode: Codable, Sendable, Hashable {
    /// Istio's node id: `sidecar~<podIP>~<pod>.<namespace>~<namespace>.svc.cluster.local`.
    public var id: String
    public var podName: String
    public var namespace: String
    public var podIP: String
    public var serviceAccount: String
    public var labels: [String: String]

    public init(podName: String, namespace: String, podIP: String, serviceAccount: String,
                labels: [String: String] = [:]) {
        self.id = "sidecar~\(podIP)~\(podName).\(namespace)~\(namespace).svc.cluster.local"
        self.podName = podName
        self.namespace = namespace
        self.podIP = podIP
        self.serviceAccount = serviceAccount
        self.labels = labels
    }
}

/// Which way a listener or cluster carries traffic, seen from the sidecar.
public enum TrafficDirection: String, SchemaEnum {
    /// From the app out to other services (captured on 15001).
    case outbound = "OUTBOUND"
    /// From other pods into the app (captured on 15006).
    case inbound = "INBOUND"
}

// MARK: Listeners

/// A listener: where captured connections are dispatched by destination.
///
/// A sidecar binds only 15001 (`virtualOutbound`) and 15006 (`virtualInbound`);
/// the per-service listeners (`0.0.0.0_9080`, `10.96.0.12_3306`) are not bound
/// but matched by the original destination, as Envoy's `use_original_dst` does:
/// first an exact `address:port` listener, then `0.0.0.0:port`, then the
/// virtual listener's own chains (passthrough or blackhole).
public struct Listener: Codable, Sendable, Hashable {
    public var name: String
    /// The IP the listener matches (`0.0.0.0` for any).
    public var address: String
    public var port: Int
    public var direction: TrafficDirection
    /// Tried in order; the first whose match fits the connection is used.
    public var filterChains: [FilterChain]

    public init(name: String, address: String, port: Int, direction: TrafficDirection, filterChains: [FilterChain]) {
        self.name = name
        self.address = address
        self.port = port
        self.direction = direction
        self.filterChains = filterChains
    }
}

/// One way of handling a connection, chosen by what it looks like.
public struct FilterChain: Codable, Sendable, Hashable {
    public var name: String?
    public var match: FilterChainMatch
    /// Set for HTTP chains: requests are routed per request.
    public var http: HTTPConnectionManager?
    /// Set for TCP chains: the whole connection goes to one cluster.
    public var tcp: TCPProxy?

    public init(name: String? = nil, match: FilterChainMatch = FilterChainMatch(), http: HTTPConnectionManager? = nil,
                tcp: TCPProxy? = nil) {
        self.name = name
        self.match = match
        self.http = http
        self.tcp = tcp
    }
}

/// What a connection must look like for a chain; unset fields match anything.
public struct FilterChainMatch: Codable, Sendable, Hashable {
    /// The original destination port (inbound chains, one per workload port).
    public var destinationPort: Int?
    /// `http` (HTTP/1.1 sniffed from the first bytes) or `tcp` (anything else).
    public var applicationProtocol: String?
    /// `tls` or `raw_buffer` (plaintext); for mTLS on inbound (issue 5).
    public var transportProtocol: String?

    public init(destinationPort: Int? = nil, applicationProtocol: String? = nil, transportProtocol: String? = nil) {
        self.destinationPort = destinationPort
        self.applicationProtocol = applicationProtocol
        self.transportProtocol = transportProtocol
    }
}

/// Envoy's HTTP connection manager, reduced to what routing needs.
public struct HTTPConnectionManager: Codable, Sendable, Hashable {
    /// A RouteConfiguration sent separately (outbound: the port, `9080`).
    public var routeConfigName: String?
    /// Routes carried inline (inbound: one route to the local app).
    public var routeConfig: RouteConfiguration?
    /// `outbound|9080||reviews.default.svc.cluster.local` style name for stats and logs.
    public var statPrefix: String

    public init(routeConfigName: String? = nil, routeConfig: RouteConfiguration? = nil, statPrefix: String) {
        self.routeConfigName = routeConfigName
        self.routeConfig = routeConfig
        self.statPrefix = statPrefix
    }
}

/// A TCP chain: the connection is proxied to one of these clusters (weighted).
public struct TCPProxy: Codable, Sendable, Hashable {
    public var cluster: String?
    public var weightedClusters: [WeightedCluster]?
    public var statPrefix: String

    public init(cluster: String? = nil, weightedClusters: [WeightedCluster]? = nil, statPrefix: String) {
        self.cluster = cluster
        self.weightedClusters = weightedClusters
        self.statPrefix = statPrefix
    }
}

// MARK: Routes

/// Routes for one outbound port (name `9080`) or inline for an inbound chain.
public struct RouteConfiguration: Codable, Sendable, Hashable {
    public var name: String
    /// Chosen by the request's Host (port stripped or not), then `*`.
    public var virtualHosts: [VirtualHost]

    public init(name: String, virtualHosts: [VirtualHost]) {
        self.name = name
        self.virtualHosts = virtualHosts
    }
}

/// The routes of one service (`reviews.default.svc.cluster.local:9080`).
public struct VirtualHost: Codable, Sendable, Hashable {
    public var name: String
    /// Host header values that select it: every short form of the service
    /// name, with and without `:port`, and its ClusterIP; `*` for a catch-all.
    public var domains: [String]
    /// First match wins; no match → 404 `NR`.
    public var routes: [Route]

    public init(name: String, domains: [String], routes: [Route]) {
        self.name = name
        self.domains = domains
        self.routes = routes
    }
}

/// One route: when a request matches, what happens to it.
public struct Route: Codable, Sendable, Hashable {
    /// Istio's route name (the VirtualService http route's `name`), or `default`.
    public var name: String?
    public var match: RouteMatch
    /// Exactly one of `route`, `redirect`, `directResponse` is set.
    public var route: RouteAction?
    public var redirect: RedirectAction?
    public var directResponse: DirectResponseAction?
    public var requestHeaders: HeaderMutation?
    public var responseHeaders: HeaderMutation?
    public var fault: FaultPolicy?
    /// The VirtualService it came from (`name.namespace`), for proxy-config and logs.
    public var virtualService: String?

    public init(name: String? = nil, match: RouteMatch = RouteMatch(prefix: "/"), route: RouteAction? = nil) {
        self.name = name
        self.match = match
        self.route = route
    }
}

/// A string comparison; exactly one field is set.
public struct StringMatcher: Codable, Sendable, Hashable {
    public var exact: String?
    public var prefix: String?
    /// RE2 syntax, whole-string match.
    public var regex: String?

    public init(exact: String? = nil, prefix: String? = nil, regex: String? = nil) {
        self.exact = exact
        self.prefix = prefix
        self.regex = regex
    }
}

/// What a request must look like for a route; all set fields must match.
public struct RouteMatch: Codable, Sendable, Hashable {
    /// Path without the query; one of the three or none (any path).
    public var path: String?
    public var prefix: String?
    public var regex: String?
    public var ignoreCase: Bool?
    /// Header conditions, ANDed. `:method` and `:authority` name the method and Host.
    public var headers: [HeaderMatcher]?
    public var queryParameters: [QueryParameterMatcher]?

    public init(path: String? = nil, prefix: String? = nil, regex: String? = nil, headers: [HeaderMatcher]? = nil) {
        self.path = path
        self.prefix = prefix
        self.regex = regex
        self.headers = headers
    }
}

/// A condition on one header (case-insensitive name).
public struct HeaderMatcher: Codable, Sendable, Hashable {
    public var name: String
    /// nil with `present` true: the header only has to be there.
    public var match: StringMatcher?
    public var present: Bool?
    /// Negates the whole condition (Istio's `withoutHeaders`).
    public var invert: Bool?

    public init(name: String, match: StringMatcher? = nil, present: Bool? = nil, invert: Bool? = nil) {
        self.name = name
        self.match = match
        self.present = present
        self.invert = invert
    }
}

public struct QueryParameterMatcher: Codable, Sendable, Hashable {
    public var name: String
    public var match: StringMatcher?
    public var present: Bool?

    public init(name: String, match: StringMatcher? = nil, present: Bool? = nil) {
        self.name = name
        self.match = match
        self.present = present
    }
}

/// Forward to a cluster: one, or weighted.
public struct RouteAction: Codable, Sendable, Hashable {
    public var cluster: String?
    /// Relative weights; a request picks one at random in proportion.
    public var weightedClusters: [WeightedCluster]?
    /// The whole request, all tries included; nil: no timeout (Istio's default).
    public var timeoutMs: Int?
    /// nil: no retries at all.
    public var retryPolicy: RetryPolicy?
    /// Replaces the matched prefix of the path (Istio `rewrite.uri` on a prefix match).
    public var prefixRewrite: String?
    /// Replaces the whole path when the route matched it exactly or by regex.
    public var pathRewrite: String?
    public var hostRewrite: String?
    /// Copies of requests (fire and forget) to this cluster, at this percentage (0-100).
    public var mirrorCluster: String?
    public var mirrorPercent: Double?

    public init(cluster: String? = nil, weightedClusters: [WeightedCluster]? = nil, timeoutMs: Int? = nil,
                retryPolicy: RetryPolicy? = nil) {
        self.cluster = cluster
        self.weightedClusters = weightedClusters
        self.timeoutMs = timeoutMs
        self.retryPolicy = retryPolicy
    }
}

public struct WeightedCluster: Codable, Sendable, Hashable {
    public var name: String
    public var weight: Int
    public var requestHeaders: HeaderMutation?
    public var responseHeaders: HeaderMutation?

    public init(name: String, weight: Int) {
        self.name = name
        self.weight = weight
    }
}

/// Envoy's retry policy as Istio configures it.
public struct RetryPolicy: Codable, Sendable, Hashable {
    /// Retries after the first try (Istio `attempts`; default route policy: 2).
    public var numRetries: Int
    /// Envoy conditions: `5xx`, `gateway-error`, `reset`, `connect-failure`,
    /// `retriable-4xx`, `refused-stream`, `retriable-status-codes`, ...
    public var retryOn: [String]
    /// For `retriable-status-codes` (Istio: bare numbers in `retryOn`).
    public var retriableStatusCodes: [Int]?
    /// Bound on each try; nil: the route timeout.
    public var perTryTimeoutMs: Int?
    /// Fully jittered exponential backoff from this base (default 25), capped at `backoffMaxMs` (default 10× base).
    public var backoffBaseMs: Int?
    public var backoffMaxMs: Int?
    /// Avoid endpoints already tried (Istio default: true, up to 5 host selections).
    public var retryPreviousHosts: Bool?
    public var hostSelectionRetryMaxAttempts: Int?

    public init(numRetries: Int, retryOn: [String], retriableStatusCodes: [Int]? = nil, perTryTimeoutMs: Int? = nil) {
        self.numRetries = numRetries
        self.retryOn = retryOn
        self.retriableStatusCodes = retriableStatusCodes
        self.perTryTimeoutMs = perTryTimeoutMs
    }
}

public struct RedirectAction: Codable, Sendable, Hashable {
    public var pathRedirect: String?
    public var prefixRewrite: String?
    public var hostRedirect: String?
    public var portRedirect: Int?
    public var schemeRedirect: String?
    /// Default 301.
    public var responseCode: Int?

    public init() {}
}

public struct DirectResponseAction: Codable, Sendable, Hashable {
    public var status: Int
    public var body: String?

    public init(status: Int, body: String? = nil) {
        self.status = status
        self.body = body
    }
}

/// Header edits: `set` replaces, `add` appends, `remove` deletes (names case-insensitive).
public struct HeaderMutation: Codable, Sendable, Hashable {
    public var set: [HeaderValue]?
    public var add: [HeaderValue]?
    public var remove: [String]?

    public init(set: [HeaderValue]? = nil, add: [HeaderValue]? = nil, remove: [String]? = nil) {
        self.set = set
        self.add = add
        self.remove = remove
    }
}

public struct HeaderValue: Codable, Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Istio's fault injection, applied before routing; percentages are 0-100.
public struct FaultPolicy: Codable, Sendable, Hashable {
    public var delayMs: Int?
    public var delayPercent: Double?
    public var abortStatus: Int?
    public var abortPercent: Double?

    public init(delayMs: Int? = nil, delayPercent: Double? = nil, abortStatus: Int? = nil, abortPercent: Double? = nil) {
        self.delayMs = delayMs
        self.delayPercent = delayPercent
        self.abortStatus = abortStatus
        self.abortPercent = abortPercent
    }
}

// MARK: Clusters

/// A group of upstream endpoints and how to talk to them.
public struct Cluster: Codable, Sendable, Hashable {
    public enum Discovery: String, SchemaEnum {
        /// Endpoints come in a ClusterLoadAssignment of the same name.
        case eds = "EDS"
        /// The connection's original destination (PassthroughCluster).
        case originalDestination = "ORIGINAL_DST"
        /// Fixed endpoints listed in `staticEndpoints` (inbound clusters, BlackHoleCluster with none).
        case staticEndpoints = "STATIC"
    }

    public enum LoadBalancer: String, SchemaEnum {
        /// Istio's default: the fewer of two random endpoints' active requests.
        case leastRequest = "LEAST_REQUEST"
        case roundRobin = "ROUND_ROBIN"
        case random = "RANDOM"
        case passthrough = "PASSTHROUGH"
    }

    /// `outbound|9080|v1|reviews.default.svc.cluster.local`, `inbound|9080||`,
    /// `PassthroughCluster`, `BlackHoleCluster`.
    public var name: String
    public var direction: TrafficDirection
    public var discovery: Discovery
    public var loadBalancer: LoadBalancer
    public var staticEndpoints: [Endpoint]?
    /// Default 10 000 (Istio's connectTimeout 10s).
    public var connectTimeoutMs: Int?
    public var circuitBreakers: CircuitBreakers?
    /// 0 or nil: unlimited; 1 turns keep-alive off.
    public var maxRequestsPerConnection: Int?
    /// Idle pooled connections are closed after this (default 1 h).
    public var idleTimeoutMs: Int?
    public var outlierDetection: OutlierDetection?
    /// Inbound clusters: connect from this source address (Envoy's 127.0.0.6,
    /// which the capture rules let through instead of redirecting again).
    public var upstreamBindAddress: String?
    /// Where it came from, for proxy-config: service FQDN, port, subset, DestinationRule `name.namespace`.
    public var serviceName: String?
    public var port: Int?
    public var subset: String?
    public var destinationRule: String?

    public init(name: String, direction: TrafficDirection, discovery: Discovery,
                loadBalancer: LoadBalancer = .leastRequest) {
        self.name = name
        self.direction = direction
        self.discovery = discovery
        self.loadBalancer = loadBalancer
    }
}

/// Envoy's thresholds; nil is unlimited (Istio sets every one to 2^32-1).
public struct CircuitBreakers: Codable, Sendable, Hashable {
    public var maxConnections: Int?
    public var maxPendingRequests: Int?
    public var maxRequests: Int?
    public var maxRetries: Int?

    public init(maxConnections: Int? = nil, maxPendingRequests: Int? = nil, maxRequests: Int? = nil,
                maxRetries: Int? = nil) {
        self.maxConnections = maxConnections
        self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests
        self.maxRetries = maxRetries
    }
}

/// Passive health: endpoints that fail in a row are ejected for a while.
public struct OutlierDetection: Codable, Sendable, Hashable {
    public var consecutive5xxErrors: Int?
    public var consecutiveGatewayErrors: Int?
    public var intervalMs: Int?
    public var baseEjectionTimeMs: Int?
    public var maxEjectionPercent: Int?

    public init() {}
}

// MARK: Endpoints

/// The endpoints of one EDS cluster.
public struct ClusterLoadAssignment: Codable, Sendable, Hashable {
    public var clusterName: String
    public var endpoints: [Endpoint]

    public init(clusterName: String, endpoints: [Endpoint]) {
        self.clusterName = clusterName
        self.endpoints = endpoints
    }
}

public struct Endpoint: Codable, Sendable, Hashable {
    public var address: String
    public var port: Int
    /// A pod that is not ready stays listed but unhealthy (no traffic).
    public var healthy: Bool
    /// Pod name (`reviews-v1-xxx.default`), for proxy-config and logs.
    public var podName: String?
    /// `istio` when the pod carries `security.istio.io/tlsMode: istio` (auto mTLS, issue 5).
    public var tlsMode: String?
    public var serviceAccount: String?

    public init(address: String, port: Int, healthy: Bool = true) {
        self.address = address
        self.port = port
        self.healthy = healthy
    }
}

/// Everything one sidecar is configured with: what translation returns for a
/// proxy, and what the sidecar holds after applying the last pushes.
public struct ProxyConfig: Codable, Sendable, Hashable {
    public var listeners: [Listener]
    public var routes: [RouteConfiguration]
    public var clusters: [Cluster]
    public var endpoints: [ClusterLoadAssignment]

    public init(listeners: [Listener] = [], routes: [RouteConfiguration] = [], clusters: [Cluster] = [],
                endpoints: [ClusterLoadAssignment] = []) {
        self.listeners = listeners
        self.routes = routes
        self.clusters = clusters
        self.endpoints = endpoints
    }
}
