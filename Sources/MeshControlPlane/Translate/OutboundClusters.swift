import MeshModel

/// The DestinationRule policy in force for one cluster: the top level, with
/// the port's `portLevelSettings` replacing whole fields, then the subset's
/// own policy (and its port-level settings) replacing fields again, as
/// Istio's MergeTrafficPolicy does.
struct EffectiveTrafficPolicy: Sendable, Hashable {
    var loadBalancer: DestinationRule.LoadBalancerSettings?
    var connectionPool: Istio.ConnectionPoolSettings?
    var outlierDetection: DestinationRule.OutlierDetection?

    init() {}

    init(_ policy: DestinationRule.TrafficPolicy?, port: Int) {
        loadBalancer = policy?.loadBalancer
        connectionPool = policy?.connectionPool
        outlierDetection = policy?.outlierDetection
        if let level = policy?.portLevelSettings?.first(where: { $0.port?.number.map(Int.init) == port }) {
            loadBalancer = level.loadBalancer ?? loadBalancer
            connectionPool = level.connectionPool ?? connectionPool
            outlierDetection = level.outlierDetection ?? outlierDetection
        }
    }

    func overridden(by subset: DestinationRule.TrafficPolicy?, port: Int) -> EffectiveTrafficPolicy {
        guard let subset else { return self }
        let inner = EffectiveTrafficPolicy(subset, port: port)
        var merged = self
        merged.loadBalancer = inner.loadBalancer ?? loadBalancer
        merged.connectionPool = inner.connectionPool ?? connectionPool
        merged.outlierDetection = inner.outlierDetection ?? outlierDetection
        return merged
    }

    /// Whether requests are pinned by a hash (Istio then drops the retry-previous-hosts predicate).
    var usesConsistentHash: Bool { loadBalancer?.consistentHash != nil }
}

/// Which DestinationRule applies to a host for a proxy, as Istio's
/// SidecarScope picks it.
enum DestinationRuleLookup {
    /// Looks in the proxy's namespace first, then the service's, then the
    /// root namespace `istio-system`; in each, rules exported to the proxy's
    /// namespace whose host (resolved in the rule's namespace) covers
    /// `hostname`. A rule with a workloadSelector applies only in the proxy's
    /// namespace and only to workloads it selects, and is preferred there.
    /// The most specific host wins, then the oldest rule, then the name.
    /// Istio merges several rules for one host; meshlab takes the first.
    static func rule(for hostname: String, serviceNamespace: String, scope: ProxyScope,
                     in rules: [DestinationRule]) -> DestinationRule? {
        var namespaces = [scope.namespace]
        for namespace in [serviceNamespace, ProxyScope.rootNamespace] where !namespaces.contains(namespace) {
            namespaces.append(namespace)
        }
        for namespace in namespaces {
            let candidates = rules.filter { rule in
                let owner = rule.metadata.namespace ?? "default"
                guard owner == namespace,
                    owner == scope.namespace || MeshHost.isExported(rule.spec.exportTo, from: owner, to: scope.namespace),
                    MeshHost.matches(pattern: MeshHost.resolve(rule.spec.host, in: owner), host: hostname)
                else { return false }
                guard let selector = rule.spec.workloadSelector?.matchLabels, !selector.isEmpty else { return true }
                return owner == scope.namespace && selector.allSatisfy { scope.labels[$0.key] == $0.value }
            }
            let best = candidates.min { a, b in
                func key(_ rule: DestinationRule) -> (Int, Int, String, String) {
                    let selected = rule.spec.workloadSelector?.matchLabels?.isEmpty == false ? 0 : 1
                    let specificity = MeshHost.specificity(MeshHost.resolve(rule.spec.host, in: rule.metadata.namespace ?? "default"))
                    return (selected, -specificity, rule.metadata.creationTimestamp ?? "", rule.metadata.name ?? "")
                }
                return key(a) < key(b)
            }
            if let best { return best }
        }
        return nil
    }
}

/// An endpoint with the labels that subsets select on.
struct RegistryEndpoint: Sendable {
    var endpoint: Endpoint
    var labels: [String: String]
}

enum OutboundClusters {
    /// `outbound|9080|v1|reviews.default.svc.cluster.local`.
    static func name(port: Int, subset: String?, hostname: String) -> String {
        "outbound|\(port)|\(subset ?? "")|\(hostname)"
    }

    /// Istio's default connect timeout.
    static let defaultConnectTimeoutMs = 10_000

    /// The clusters (and for EDS ones, their endpoints) of every port of
    /// every service the proxy sees: one per port, plus one per subset of
    /// the DestinationRule that applies.
    static func build(scope: ProxyScope, index: SnapshotIndex) -> ([Cluster], [ClusterLoadAssignment]) {
        let snapshot = index.snapshot
        var clusters: [Cluster] = []
        var assignments: [ClusterLoadAssignment] = []
        for service in scope.services {
            let rule = DestinationRuleLookup.rule(
                for: service.hostname, serviceNamespace: service.namespace, scope: scope, in: snapshot.destinationRules)
            let ruleName = rule.map { "\($0.metadata.name ?? "").\($0.metadata.namespace ?? "default")" }
            for port in service.ports {
                let endpoints = RegistryEndpoints.endpoints(of: service, port: port, index: index)
                let base = EffectiveTrafficPolicy(rule?.spec.trafficPolicy, port: port.number)
                var variants: [(subset: DestinationRule.Subset?, policy: EffectiveTrafficPolicy)] = [(nil, base)]
                for subset in rule?.spec.subsets ?? [] {
                    variants.append((subset, base.overridden(by: subset.trafficPolicy, port: port.number)))
                }
                for (subset, policy) in variants {
                    var cluster = makeCluster(
                        name: name(port: port.number, subset: subset?.name, hostname: service.hostname),
                        service: service, policy: policy)
                    cluster.serviceName = service.hostname
                    cluster.port = port.number
                    cluster.subset = subset?.name
                    cluster.destinationRule = ruleName
                    clusters.append(cluster)
                    guard cluster.discovery == .eds else { continue }
                    let selector = subset?.labels ?? [:]
                    let members = endpoints.filter { member in selector.allSatisfy { member.labels[$0.key] == $0.value } }
                    assignments.append(ClusterLoadAssignment(clusterName: cluster.name, endpoints: members.map(\.endpoint)))
                }
            }
        }
        return (clusters, assignments)
    }

    static func makeCluster(name: String, service: RegistryService, policy: EffectiveTrafficPolicy) -> Cluster {
        let loadBalancer: Cluster.LoadBalancer
        switch policy.loadBalancer?.simple {
        case .roundRobin: loadBalancer = .roundRobin
        case .random: loadBalancer = .random
        case .passthrough: loadBalancer = .passthrough
        // LEAST_CONN is deprecated and means LEAST_REQUEST; unset is Istio's default.
        case .leastConn, .leastRequest, .unspecified, nil: loadBalancer = .leastRequest
        }
        // Resolution NONE and the PASSTHROUGH balancer both send to the address the client dialled.
        let passthrough = loadBalancer == .passthrough || service.resolution == ServiceEntry.Resolution.none
        var cluster = Cluster(name: name, direction: .outbound, discovery: passthrough ? .originalDestination : .eds,
                              loadBalancer: passthrough ? .passthrough : loadBalancer)
        let tcp = policy.connectionPool?.tcp
        let http = policy.connectionPool?.http
        cluster.connectTimeoutMs = tcp?.connectTimeout.map(milliseconds) ?? defaultConnectTimeoutMs
        let breakers = CircuitBreakers(
            maxConnections: tcp?.maxConnections.map(Int.init), maxPendingRequests: http?.http1MaxPendingRequests.map(Int.init),
            maxRequests: http?.http2MaxRequests.map(Int.init), maxRetries: http?.maxRetries.map(Int.init))
        if breakers != CircuitBreakers() { cluster.circuitBreakers = breakers }
        if let perConnection = http?.maxRequestsPerConnection, perConnection > 0 {
            cluster.maxRequestsPerConnection = Int(perConnection)
        }
        cluster.idleTimeoutMs = (http?.idleTimeout ?? tcp?.idleTimeout).map(milliseconds)
        if let outlier = policy.outlierDetection { cluster.outlierDetection = outlierDetection(outlier) }
        return cluster
    }

    /// Istio's applyOutlierDetection with Envoy's defaults written out, so the
    /// sidecar and proxy-config need not know them: 5 consecutive 5xx (the
    /// deprecated `consecutiveErrors` when only it is set), interval 10s,
    /// base ejection 30s, at most 10% ejected.
    static func outlierDetection(_ spec: DestinationRule.OutlierDetection) -> OutlierDetection {
        var out = OutlierDetection()
        if let errors = spec.consecutive5xxErrors {
            out.consecutive5xxErrors = Int(errors)
        } else if spec.consecutiveGatewayErrors == nil, let errors = spec.consecutiveErrors, errors > 0 {
            out.consecutive5xxErrors = Int(errors)
        } else if spec.consecutiveGatewayErrors == nil {
            out.consecutive5xxErrors = 5
        }
        out.consecutiveGatewayErrors = spec.consecutiveGatewayErrors.map(Int.init)
        out.intervalMs = spec.interval.map(milliseconds) ?? 10_000
        out.baseEjectionTimeMs = spec.baseEjectionTime.map(milliseconds) ?? 30_000
        out.maxEjectionPercent = spec.maxEjectionPercent.map(Int.init) ?? 10
        return out
    }

    static func milliseconds(_ duration: ProtoDuration) -> Int { Int(duration.nanoseconds / 1_000_000) }
}

/// The endpoints behind one service port.
enum RegistryEndpoints {
    static let tlsModeLabel = "security.istio.io/tlsMode"

    static func endpoints(of service: RegistryService, port: RegistryPort, index: SnapshotIndex) -> [RegistryEndpoint] {
        let found: [RegistryEndpoint]
        switch service.source {
        case .kubernetes(let kubernetes): found = kubernetesEndpoints(kubernetes, port: port, index: index)
        case .serviceEntry(let entry): found = entryEndpoints(entry, hostname: service.hostname, port: port, snapshot: index.snapshot)
        }
        return found.sorted { ($0.endpoint.address, $0.endpoint.port) < ($1.endpoint.address, $1.endpoint.port) }
    }

    /// From the Endpoints object of the same name: ready addresses healthy,
    /// not-ready ones listed unhealthy; the port is the one with the service
    /// port's name.
    static func kubernetesEndpoints(_ service: Service, port: RegistryPort, index: SnapshotIndex) -> [RegistryEndpoint] {
        let namespace = service.metadata.namespace ?? "default"
        guard let name = service.metadata.name, let endpoints = index.endpoints(namespace: namespace, name: name) else { return [] }
        var result: [RegistryEndpoint] = []
        for subset in endpoints.subsets ?? [] {
            guard let target = (subset.ports ?? []).first(where: { ($0.name ?? "") == (port.name ?? "") }) else { continue }
            for (addresses, healthy) in [(subset.addresses ?? [], true), (subset.notReadyAddresses ?? [], false)] {
                for address in addresses {
                    let pod = self.pod(for: address, namespace: namespace, index: index)
                    var endpoint = Endpoint(address: address.ip, port: Int(target.port), healthy: healthy)
                    if let pod { describe(&endpoint, pod: pod, namespace: namespace) }
                    result.append(RegistryEndpoint(endpoint: endpoint, labels: pod?.metadata.labels ?? [:]))
                }
            }
        }
        return result
    }

    /// The pod an address names (its targetRef), or the pod with that IP.
    static func pod(for address: Endpoints.Address, namespace: String, index: SnapshotIndex) -> Pod? {
        if let ref = address.targetRef, ref.kind == nil || ref.kind == "Pod", let name = ref.name,
            let pod = index.pod(namespace: ref.namespace ?? namespace, name: name)
        {
            return pod
        }
        return index.pod(namespace: namespace, ip: address.ip)
    }

    static func describe(_ endpoint: inout Endpoint, pod: Pod, namespace: String) {
        endpoint.podName = "\(pod.metadata.name ?? "").\(pod.metadata.namespace ?? namespace)"
        endpoint.tlsMode = pod.metadata.labels?[tlsModeLabel]
        let account = pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? "default"
        endpoint.serviceAccount = spiffe(namespace: pod.metadata.namespace ?? namespace, account: account)
    }

    static func spiffe(namespace: String, account: String) -> String {
        "spiffe://cluster.local/ns/\(namespace)/sa/\(account)"
    }

    /// ServiceEntry endpoints: the listed WorkloadEntries (STATIC, DNS), the
    /// pods of a workloadSelector, or for DNS without endpoints the host
    /// itself (as Envoy's STRICT_DNS cluster would resolve it). Resolution
    /// NONE has none: it forwards to the original destination.
    static func entryEndpoints(_ entry: ServiceEntry, hostname: String, port: RegistryPort,
                               snapshot: MeshSnapshot) -> [RegistryEndpoint] {
        let namespace = entry.metadata.namespace ?? "default"
        let resolution = entry.spec.resolution ?? ServiceEntry.Resolution.none
        let targetPort = port.targetPort ?? port.number
        if let selector = entry.spec.workloadSelector?.labels {
            return snapshot.pods.compactMap { pod in
                guard (pod.metadata.namespace ?? "default") == namespace, let ip = pod.status?.podIP,
                    selector.allSatisfy({ pod.metadata.labels?[$0.key] == $0.value })
                else { return nil }
                var endpoint = Endpoint(address: ip, port: targetPort, healthy: Self.isReady(pod))
                describe(&endpoint, pod: pod, namespace: namespace)
                return RegistryEndpoint(endpoint: endpoint, labels: pod.metadata.labels ?? [:])
            }
        }
        if let workloads = entry.spec.endpoints, !workloads.isEmpty {
            return workloads.compactMap { workload in
                guard let address = workload.address, !address.hasPrefix("unix://") else { return nil }
                let number = workload.ports?[port.name ?? ""].map(Int.init) ?? targetPort
                var endpoint = Endpoint(address: address, port: number)
                endpoint.serviceAccount = workload.serviceAccount.map { spiffe(namespace: namespace, account: $0) }
                endpoint.tlsMode = workload.labels?[tlsModeLabel]
                return RegistryEndpoint(endpoint: endpoint, labels: workload.labels ?? [:])
            }
        }
        if resolution == .dns || resolution == .dnsRoundRobin, !hostname.hasPrefix("*") {
            return [RegistryEndpoint(endpoint: Endpoint(address: hostname, port: targetPort), labels: [:])]
        }
        return []
    }

    static func isReady(_ pod: Pod) -> Bool {
        pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == .true } ?? false
    }
}
