import MeshModel
import Synchronization

/// The sidecar's configuration holder: what the push client hands resources to
/// (`ProxyConfigSink`), and what every connection reads its routing from.
///
/// Each `apply` replaces all resources of one type (xDS state of the world),
/// checks the whole resulting configuration and swaps it in with one store of a
/// reference: readers take `snapshot` once per connection or request and never
/// see half a push. A refused push throws `ProxyConfigError` and leaves the
/// previous configuration in force (the push client NACKs with its description).
///
/// Warming, as far as Envoy's makes sense here: a listener may name a route
/// configuration that has not arrived yet (requests get 404 NR meanwhile), and a
/// cluster's endpoints may come later (503 UH meanwhile); but a route or TCP
/// chain that names a cluster nobody defined is refused, because Envoy pushes
/// clusters first (`ProxyResourceType.pushOrder`) and such a route would never work.
public final class ProxyConfigStore: ProxyConfigSink, Sendable {
    private struct State {
        var snapshot = ProxyConfigSnapshot.empty
        var versions: [ProxyResourceType: String] = [:]
        var staticallyLoaded = false
        var generation = 0
    }

    private let state = Mutex(State())
    /// Called after every successful swap (e.g. to drain pools of removed clusters).
    private let onChange: (@Sendable (ProxyConfigSnapshot) -> Void)?

    public init(onChange: (@Sendable (ProxyConfigSnapshot) -> Void)? = nil) {
        self.onChange = onChange
    }

    /// A store holding a static configuration from the start (`meshlab proxy --config FILE`).
    public convenience init(static config: ProxyConfig) throws(ProxyConfigError) {
        self.init()
        try load(config)
    }

    /// The configuration in force now.
    public var snapshot: ProxyConfigSnapshot { state.withLock { $0.snapshot } }

    /// The version applied per type (for `/config_dump` and the push client's ACKs).
    public var versions: [ProxyResourceType: String] { state.withLock { $0.versions } }

    /// Ready as Envoy's `/healthz/ready`: a static config was loaded, or every one of
    /// CDS, EDS, LDS and RDS has been applied at least once.
    public var isReady: Bool {
        state.withLock { state in
            state.staticallyLoaded || ProxyResourceType.pushOrder.allSatisfy { state.versions[$0] != nil }
        }
    }

    /// Replaces the whole configuration at once (a static file, or tests).
    public func load(_ config: ProxyConfig) throws(ProxyConfigError) {
        let snapshot = try ProxyConfigSnapshot(checking: config)
        state.withLock { state in
            state.snapshot = snapshot
            state.staticallyLoaded = true
            state.generation += 1
        }
        onChange?(snapshot)
    }

    /// Loads a static ProxyConfig from JSON or YAML text (`file` names it in errors).
    public func load(text: String, file: String) throws {
        try load(try Self.parse(text: text, file: file))
    }

    /// Parses a ProxyConfig file (JSON is YAML too); errors name the file and field path.
    public static func parse(text: String, file: String) throws -> ProxyConfig {
        let document: JSONValue
        do {
            document = try YAML.load(text, file: file).value
        } catch {
            throw ProxyConfigError(problems: ["\(file): \(error)"])
        }
        let decoded = ValueCodec.decode(ProxyConfig.self, from: withDefaults(document), strict: true)
        guard let config = decoded.value else {
            throw ProxyConfigError(problems: decoded.errors.map { "\(file): \($0)" })
        }
        return config
    }

    /// Fills what a hand-written file may leave out: absent lists are empty and a
    /// cluster's load balancer is Istio's default, LEAST_REQUEST.
    static func withDefaults(_ document: JSONValue) -> JSONValue {
        guard case .object(var object) = document else { return document }
        for key in ["listeners", "routes", "clusters", "endpoints"] where object[key] == nil {
            object[key] = .array([])
        }
        if case .array(let clusters)? = object["clusters"] {
            object["clusters"] = .array(clusters.map { cluster in
                guard case .object(var fields) = cluster, fields["loadBalancer"] == nil else { return cluster }
                fields["loadBalancer"] = .string(Cluster.LoadBalancer.leastRequest.rawValue)
                return .object(fields)
            })
        }
        return .object(object)
    }

    /// `ProxyConfigSink`: all resources of `type`, as the push client received them.
    public func apply(_ type: ProxyResourceType, resources: [JSONValue], version: String) async throws {
        try applyNow(type, resources: resources, version: version)
    }

    /// The synchronous body of `apply` (tests, and callers that are not async).
    public func applyNow(_ type: ProxyResourceType, resources: [JSONValue], version: String) throws {
        // Decode outside the lock: only the swap is serialised.
        let base = snapshot.config
        var config = base
        switch type {
        case .cluster: config.clusters = try Self.decode(Cluster.self, resources, type)
        case .endpoint: config.endpoints = try Self.decode(ClusterLoadAssignment.self, resources, type)
        case .listener: config.listeners = try Self.decode(Listener.self, resources, type)
        case .route: config.routes = try Self.decode(RouteConfiguration.self, resources, type)
        case .secret: throw ProxyConfigError(problems: ["SDS secrets are not supported by this sidecar yet"])
        }
        let checked = try ProxyConfigSnapshot(checking: config)
        let swapped = state.withLock { state -> Bool in
            // Another type was applied meanwhile: redo on the newer base rather than lose it.
            guard state.snapshot.config == base else { return false }
            state.snapshot = checked
            state.versions[type] = version
            state.generation += 1
            return true
        }
        if !swapped { return try applyNow(type, resources: resources, version: version) }
        onChange?(checked)
    }

    private static func decode<T: Decodable>(_: T.Type, _ resources: [JSONValue], _ type: ProxyResourceType) throws -> [T] {
        var values: [T] = []
        var problems: [String] = []
        for (index, resource) in resources.enumerated() {
            let decoded = ValueCodec.decode(T.self, from: resource)
            if let value = decoded.value {
                values.append(value)
            } else {
                problems += decoded.errors.map { "\(type.shortName) resource \(index): \($0)" }
            }
        }
        if !problems.isEmpty { throw ProxyConfigError(problems: problems) }
        return values
    }
}
