import Foundation
import MeshControlPlane
import MeshModel
import Testing

/// Builds translation inputs the way a user makes them: manifests read by
/// the YAML reader and checked as `meshlab apply` checks them, plus the
/// objects the lab's controllers would add (ClusterIPs, pods, Endpoints).
struct TranslateFixture {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var snapshot = MeshSnapshot()
    var deployments: [Deployment] = []
    private var nextServiceIP = 10
    private var nextPodIP = 10

    /// Istio's files beside the repository (`<repo>/../shared/istio`), or the shared copy.
    static let istioDirectory: String? = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [repository.deletingLastPathComponent().appendingPathComponent("shared/istio").path, "/work/shared/istio"]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/samples/bookinfo/platform/kube/bookinfo.yaml") }
    }()

    static var hasIstioFiles: Bool { istioDirectory != nil }

    /// Reads `relative` under Istio's directory and applies it.
    mutating func apply(istioFile relative: String, namespace: String = "default") throws {
        guard let root = Self.istioDirectory else { throw Failure(description: "no Istio files") }
        let path = root + "/" + relative
        try apply(String(contentsOfFile: path, encoding: .utf8), file: relative, namespace: namespace)
    }

    /// Applies every object of a manifest as `meshlab apply` would: checked
    /// (decode, default, validate); a missing namespace is `namespace`.
    /// Services get the next ClusterIP; a Deployment gets one ready pod (with
    /// the sidecar's tlsMode label) and Endpoints are rebuilt afterwards.
    mutating func apply(_ yaml: String, file: String = "inline.yaml", namespace: String = "default") throws {
        let read = ManifestReader.read(yaml, file: file)
        if let error = read.errors.first { throw Failure(description: error.description) }
        for manifest in read.manifests {
            var object = manifest.object
            if object["metadata"]?["namespace"] == nil { object["metadata"]?["namespace"] = .string(namespace) }
            let checked = Manifest(object: object, locations: manifest.locations).check()
            guard let normalized = checked.object else {
                throw Failure(description: "\(file): \(manifest.displayName): \(checked.errors)")
            }
            try add(normalized, kind: manifest.kind ?? "")
        }
        rebuildEndpoints()
    }

    /// Creates or replaces (same kind, namespace and name) as `apply` does.
    private mutating func add(_ object: JSONValue, kind: String) throws {
        switch kind {
        case "Service":
            var service = try ResourceCodec.decode(Service.self, from: object)
            let existing = snapshot.services.first { Self.same($0, service) }
            if service.spec.clusterIP == nil {
                if let ip = existing?.spec.clusterIP {
                    service.spec.clusterIP = ip
                } else {
                    service.spec.clusterIP = "10.96.0.\(nextServiceIP)"
                    nextServiceIP += 1
                }
            }
            Self.upsert(service, into: &snapshot.services)
        case "Deployment":
            let deployment = try ResourceCodec.decode(Deployment.self, from: object)
            deployments.append(deployment)
            let name = deployment.metadata.name ?? "app"
            var labels = deployment.spec.template.metadata?.labels ?? [:]
            labels["security.istio.io/tlsMode"] = "istio"
            addPod(name: "\(name)-pod", namespace: deployment.metadata.namespace ?? "default", labels: labels,
                   spec: deployment.spec.template.spec)
        case "Pod": Self.upsert(try ResourceCodec.decode(Pod.self, from: object), into: &snapshot.pods)
        case "Namespace": Self.upsert(try ResourceCodec.decode(Namespace.self, from: object), into: &snapshot.namespaces)
        case "VirtualService": Self.upsert(try ResourceCodec.decode(VirtualService.self, from: object), into: &snapshot.virtualServices)
        case "DestinationRule": Self.upsert(try ResourceCodec.decode(DestinationRule.self, from: object), into: &snapshot.destinationRules)
        case "ServiceEntry": Self.upsert(try ResourceCodec.decode(ServiceEntry.self, from: object), into: &snapshot.serviceEntries)
        case "Sidecar": Self.upsert(try ResourceCodec.decode(Sidecar.self, from: object), into: &snapshot.sidecars)
        case "ServiceAccount": break
        default: throw Failure(description: "the fixture does not take \(kind)")
        }
    }

    static func same<T: Resource>(_ a: T, _ b: T) -> Bool {
        a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
    }

    static func upsert<T: Resource>(_ item: T, into list: inout [T]) {
        if let index = list.firstIndex(where: { same($0, item) }) { list[index] = item } else { list.append(item) }
    }

    /// A running pod with the next pod IP.
    mutating func addPod(name: String, namespace: String, labels: [String: String], spec: PodSpec, ready: Bool = true) {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), spec: spec)
        var status = PodStatus(phase: .running)
        status.podIP = "10.44.0.\(nextPodIP)"
        status.conditions = [PodCondition(type: "Ready", status: ready ? .true : .false)]
        pod.status = status
        nextPodIP += 1
        snapshot.pods.append(pod)
        rebuildEndpoints()
    }

    /// The Endpoints controller's work: per Service, the pods it selects, ready or not.
    mutating func rebuildEndpoints() {
        snapshot.endpoints = snapshot.services.compactMap { service in
            guard let selector = service.spec.selector, !selector.isEmpty else { return nil }
            let namespace = service.metadata.namespace ?? "default"
            let pods = snapshot.pods.filter { pod in
                (pod.metadata.namespace ?? "default") == namespace
                    && selector.allSatisfy { pod.metadata.labels?[$0.key] == $0.value }
            }
            let address = { (pod: Pod) in
                Endpoints.Address(ip: pod.status?.podIP ?? "", targetRef: ObjectReference(kind: "Pod", namespace: namespace, name: pod.metadata.name))
            }
            let ready = pods.filter { $0.status?.conditions?.contains { $0.type == "Ready" && $0.status == .true } ?? false }
            let notReady = pods.filter { pod in !ready.contains { $0.metadata.name == pod.metadata.name } }
            let ports = (service.spec.ports ?? []).map { port in
                Endpoints.Port(name: port.name, port: port.targetPort?.intValue ?? port.port, protocol: .tcp)
            }
            return Endpoints(metadata: ObjectMeta(name: service.metadata.name, namespace: namespace), subsets: [
                Endpoints.Subset(addresses: ready.isEmpty ? nil : ready.map(address),
                                 notReadyAddresses: notReady.isEmpty ? nil : notReady.map(address), ports: ports),
            ])
        }
    }

    /// The sidecar node of a pod of the snapshot.
    func node(pod name: String, namespace: String = "default") throws -> ProxyNode {
        guard let pod = snapshot.pods.first(where: { $0.metadata.name == name && $0.metadata.namespace == namespace }) else {
            throw Failure(description: "no pod \(namespace)/\(name)")
        }
        return ProxyNode(podName: name, namespace: namespace, podIP: pod.status?.podIP ?? "",
                         serviceAccount: pod.spec.serviceAccountName ?? "default", labels: pod.metadata.labels ?? [:])
    }

    func config(pod name: String, namespace: String = "default") throws -> ProxyConfig {
        ProxyConfigGenerator.config(for: try node(pod: name, namespace: namespace), snapshot: snapshot)
    }

    /// A ClusterIP by service name.
    func clusterIP(_ name: String, namespace: String = "default") -> String? {
        snapshot.services.first { $0.metadata.name == name && $0.metadata.namespace == namespace }?.spec.clusterIP
    }

    /// Bookinfo as `kubectl apply -f bookinfo.yaml` makes it, plus Istio
    /// sample networking files, applied in order.
    static func bookinfo(_ networking: [String] = []) throws -> TranslateFixture {
        var fixture = TranslateFixture()
        try fixture.apply(istioFile: "samples/bookinfo/platform/kube/bookinfo.yaml")
        for file in networking { try fixture.apply(istioFile: "samples/bookinfo/networking/\(file).yaml") }
        return fixture
    }

    /// Deterministic text of a config for golden files: JSON, sorted keys, two-space indent.
    static func json(_ config: ProxyConfig) -> String {
        ValueCodec.encode(config).serialized(JSONFormat(indent: 2, sortedKeys: true)) + "\n"
    }
}

/// A request sent through a generated config the way a sidecar would route
/// it, for simulation tests (Istio's *_simulation_test.go). It is the tests'
/// own tiny router, independent of the data plane's: listener by original
/// destination (exact `ip_port`, then `0.0.0.0_port`, then `virtualOutbound`),
/// the HTTP chain, route configuration, virtual host by Host, first matching route.
enum RouteSimulation {
    enum Outcome: Equatable, CustomStringConvertible {
        case cluster(String)
        /// Cluster → weight.
        case weighted([String: Int])
        case directResponse(Int)
        case redirect(RedirectAction)
        /// A TCP chain: the connection went here.
        case tcp(String)
        case noRoute

        var description: String {
            switch self {
            case .cluster(let name): "cluster \(name)"
            case .weighted(let weights): "weighted \(weights.sorted { $0.key < $1.key })"
            case .directResponse(let status): "direct response \(status)"
            case .redirect(let redirect): "redirect \(redirect)"
            case .tcp(let name): "tcp \(name)"
            case .noRoute: "no route"
            }
        }
    }

    struct Result {
        var outcome: Outcome
        var route: Route?
        var virtualHost: String?
        var listener: String
    }

    /// Sends `method path` with `headers` to `host` (the Host header),
    /// dialled at `address:port` (a ClusterIP; nil when resolved to no VIP;
    /// the port defaults to the Host's, else 80).
    static func send(_ config: ProxyConfig, host: String, address: String? = nil, port: Int? = nil, path: String = "/",
                     method: String = "GET", headers: [String: String] = [:], http: Bool = true) -> Result {
        let port = port ?? host.split(separator: ":").dropFirst().last.flatMap { Int($0) } ?? 80
        let listener = config.listeners.first { $0.name == "\(address ?? "")_\(port)" }
            ?? config.listeners.first { $0.name == "0.0.0.0_\(port)" }
            ?? config.listeners.first { $0.name == "virtualOutbound" }!
        let chain = listener.filterChains.first { chain in
            let wanted = chain.match.applicationProtocol
            return wanted == nil || wanted == (http ? "http" : "tcp")
        }
        guard let chain else { return Result(outcome: .noRoute, listener: listener.name) }
        if let tcp = chain.tcp {
            let outcome: Outcome = tcp.weightedClusters.map { .weighted(Dictionary(uniqueKeysWithValues: $0.map { ($0.name, $0.weight) })) }
                ?? .tcp(tcp.cluster ?? "")
            return Result(outcome: outcome, listener: listener.name)
        }
        guard let manager = chain.http,
            let routes = manager.routeConfig ?? config.routes.first(where: { $0.name == manager.routeConfigName })
        else { return Result(outcome: .noRoute, listener: listener.name) }
        let virtualHost = routes.virtualHosts.first { $0.domains.contains(host) }
            ?? routes.virtualHosts.first { $0.domains.contains("*") }
        guard let virtualHost else { return Result(outcome: .noRoute, listener: listener.name) }
        var request = headers.reduce(into: [String: String]()) { $0[$1.key.lowercased()] = $1.value }
        request[":method"] = method
        request[":authority"] = host
        request[":scheme"] = "http"
        guard let route = virtualHost.routes.first(where: { matches($0.match, path: path, headers: request) }) else {
            return Result(outcome: .noRoute, virtualHost: virtualHost.name, listener: listener.name)
        }
        let outcome: Outcome
        if let direct = route.directResponse {
            outcome = .directResponse(direct.status)
        } else if let redirect = route.redirect {
            outcome = .redirect(redirect)
        } else if let weighted = route.route?.weightedClusters {
            outcome = .weighted(Dictionary(uniqueKeysWithValues: weighted.map { ($0.name, $0.weight) }))
        } else {
            outcome = .cluster(route.route?.cluster ?? "")
        }
        return Result(outcome: outcome, route: route, virtualHost: virtualHost.name, listener: listener.name)
    }

    static func matches(_ match: RouteMatch, path fullPath: String, headers: [String: String]) -> Bool {
        let parts = fullPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? parseQuery(String(parts[1])) : [:]
        let fold = { (text: String) in match.ignoreCase == true ? text.lowercased() : text }
        if let exact = match.path, fold(exact) != fold(path) { return false }
        if let prefix = match.prefix, !fold(path).hasPrefix(fold(prefix)) { return false }
        if let regex = match.regex, !wholeMatch(regex, path) { return false }
        for header in match.headers ?? [] {
            let value = headers[header.name]
            var ok: Bool
            if let matcher = header.match {
                ok = value.map { stringMatches(matcher, $0) } ?? false
            } else {
                ok = value != nil
            }
            if header.invert == true { ok.toggle() }
            if !ok { return false }
        }
        for parameter in match.queryParameters ?? [] {
            guard let value = query[parameter.name] else { return false }
            if let matcher = parameter.match, !stringMatches(matcher, value) { return false }
        }
        return true
    }

    static func stringMatches(_ matcher: StringMatcher, _ value: String) -> Bool {
        if let exact = matcher.exact { return value == exact }
        if let prefix = matcher.prefix { return value.hasPrefix(prefix) }
        if let regex = matcher.regex { return wholeMatch(regex, value) }
        return true
    }

    static func wholeMatch(_ pattern: String, _ value: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: value)) != nil
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
        }
        return result
    }
}
