import MeshModel

/// What one proxy can see (Istio's SidecarScope): its pod, the Sidecar
/// resource that applies to it, the services it may call, its outbound
/// traffic policy.
struct ProxyScope: Sendable {
    static let rootNamespace = "istio-system"

    var proxy: ProxyNode
    var namespace: String { proxy.namespace }
    /// The proxy's pod in the snapshot, when it is there.
    var pod: Pod?
    /// The pod's labels (the node's when the pod is not in the snapshot).
    var labels: [String: String]
    var sidecar: Sidecar?
    /// Every service this proxy may call, sorted by host then namespace.
    var services: [RegistryService]
    private var servicesByHost: [String: RegistryService]
    /// REGISTRY_ONLY: unknown destinations are refused instead of passed through.
    var registryOnly: Bool

    init(proxy: ProxyNode, index: SnapshotIndex, registry: [RegistryService]) {
        let snapshot = index.snapshot
        self.proxy = proxy
        pod = index.pod(namespace: proxy.namespace, name: proxy.podName)
        labels = pod?.metadata.labels ?? proxy.labels
        sidecar = Self.sidecar(for: proxy.namespace, labels: labels, in: snapshot.sidecars)
        let egressHosts = (sidecar?.spec.egress ?? []).flatMap(\.hosts)
        let namespace = proxy.namespace
        let visible = registry.filter { service in
            MeshHost.isExported(service.exportTo, from: service.namespace, to: namespace)
                && (egressHosts.isEmpty || egressHosts.contains { Self.egressHost($0, admits: service, from: namespace) })
        }
        // One service per host (ServiceEntries in two namespaces may name the
        // same one): the proxy's own namespace first, then the first by namespace.
        var chosen: [String: String] = [:]
        for service in visible where chosen[service.hostname] == nil || service.namespace == namespace {
            chosen[service.hostname] = service.namespace
        }
        services = visible.filter { chosen[$0.hostname] == $0.namespace }
        servicesByHost = Dictionary(services.map { ($0.hostname, $0) }, uniquingKeysWith: { first, _ in first })
        if let policy = sidecar?.spec.outboundTrafficPolicy {
            // The proto's zero value: a policy block without a mode is REGISTRY_ONLY.
            registryOnly = (policy.mode ?? .registryOnly) == .registryOnly
        } else {
            registryOnly = false  // MeshConfig's default, ALLOW_ANY
        }
    }

    /// Istio's choice: a Sidecar of the proxy's namespace whose selector
    /// matches the workload, else that namespace's Sidecar without selector,
    /// else the root namespace's Sidecar without selector. Ties go to the
    /// oldest, then by name.
    static func sidecar(for namespace: String, labels: [String: String], in sidecars: [Sidecar]) -> Sidecar? {
        let ordered = sidecars.sorted {
            ($0.metadata.creationTimestamp ?? "", $0.metadata.name ?? "") < ($1.metadata.creationTimestamp ?? "", $1.metadata.name ?? "")
        }
        let local = ordered.filter { ($0.metadata.namespace ?? "default") == namespace }
        if let selected = local.first(where: { sidecar in
            guard let selector = sidecar.spec.workloadSelector?.labels, !selector.isEmpty else { return false }
            return selector.allSatisfy { labels[$0.key] == $0.value }
        }) { return selected }
        let namespaceWide = { (sidecar: Sidecar) in (sidecar.spec.workloadSelector?.labels ?? [:]).isEmpty }
        return local.first(where: namespaceWide)
            ?? ordered.first { ($0.metadata.namespace ?? "default") == rootNamespace && namespaceWide($0) }
    }

    /// A Sidecar egress host `namespace/dnsName`: namespace `*` any, `.` the
    /// proxy's own, `~` none; dnsName `*`, `*.suffix` or exact.
    static func egressHost(_ entry: String, admits service: RegistryService, from proxyNamespace: String) -> Bool {
        let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return false }
        let namespaceOK: Bool
        switch parts[0] {
        case "*": namespaceOK = true
        case ".": namespaceOK = service.namespace == proxyNamespace
        case "~": namespaceOK = false
        default: namespaceOK = service.namespace == parts[0]
        }
        return namespaceOK && MeshHost.matches(pattern: parts[1], host: service.hostname)
    }

    /// The service with this host, if the proxy sees it.
    func service(hostname: String) -> RegistryService? {
        servicesByHost[hostname]
    }
}
