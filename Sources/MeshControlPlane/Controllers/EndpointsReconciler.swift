import MeshModel

/// The Endpoints controller's decision for one Service, as a pure function
/// of the Service and the pods of its namespace (pkg/controller/endpoint).
enum EndpointsReconciler {
    /// The label the controller puts on the Endpoints of a headless Service.
    static let headlessLabel = "service.kubernetes.io/headless"

    /// The Endpoints `service` should have, or nil when the controller
    /// leaves them alone (no selector: the user manages them).
    ///
    /// Every pod the selector picks that has an IP and has not finished
    /// is an address, ready when its Ready condition is True (or always,
    /// with `publishNotReadyAddresses`). Its ports are the Service's ports
    /// with `targetPort` names resolved against the pod's container ports
    /// (a port the pod does not name is left out for that pod). Then, as
    /// `RepackSubsets` does, ports offered by the same addresses share a
    /// subset: one subset per distinct set of addresses, listing the ports
    /// they all offer.
    static func endpoints(for service: MeshModel.Service, pods: [Pod]) -> Endpoints? {
        guard let selector = service.spec.selector else { return nil }
        let tolerateUnready = service.spec.publishNotReadyAddresses ?? false
        // A headless Service without ports still lists its pods, under no port.
        let noPort = Endpoints.Port(port: -1)
        var addressesByPort: [Endpoints.Port: [(address: Endpoints.Address, ready: Bool)]] = [:]
        for pod in pods where matches(selector, pod) && shouldBeInEndpoints(pod, includeTerminating: tolerateUnready) {
            guard let address = address(of: pod, for: service) else { continue }
            let ready = tolerateUnready || DeploymentReconciler.isReady(pod)
            let ports: [Endpoints.Port]
            if let servicePorts = service.spec.ports, !servicePorts.isEmpty {
                ports = servicePorts.compactMap { port in
                    guard let number = targetPort(port, in: pod) else { return nil }
                    var endpointPort = Endpoints.Port(name: port.name, port: number, protocol: port.protocol ?? .tcp)
                    endpointPort.appProtocol = port.appProtocol
                    return endpointPort
                }
            } else if service.isHeadless {
                ports = [noPort]
            } else {
                ports = []
            }
            for port in ports { addressesByPort[port, default: []].append((address, ready)) }
        }
        var subsetsByAddresses: [String: Endpoints.Subset] = [:]
        for (port, entries) in addressesByPort {
            let sorted = entries.sorted { addressOrder($0.address, $1.address) }
            let key = sorted.map { "\($0.address.ip)/\($0.address.targetRef?.uid ?? "")/\($0.ready)" }.joined(separator: ",")
            var subset = subsetsByAddresses[key] ?? Endpoints.Subset(
                addresses: sorted.filter(\.ready).map(\.address).nilIfEmpty,
                notReadyAddresses: sorted.filter { !$0.ready }.map(\.address).nilIfEmpty)
            if port != noPort { subset.ports = ((subset.ports ?? []) + [port]).sorted(by: portOrder) }
            subsetsByAddresses[key] = subset
        }
        let subsets = subsetsByAddresses.values.sorted { subsetKey($0) < subsetKey($1) }

        var labels = service.metadata.labels ?? [:]
        labels[headlessLabel] = service.isHeadless ? "" : nil
        let metadata = ObjectMeta(name: service.metadata.name, namespace: service.metadata.namespace,
                                  labels: labels.isEmpty ? nil : labels)
        return Endpoints(metadata: metadata, subsets: subsets.isEmpty ? nil : subsets)
    }

    /// Whether `current` already says what `desired` does (subsets and labels).
    static func isUpToDate(_ current: Endpoints, _ desired: Endpoints) -> Bool {
        var normalized = current
        normalized.applyDefaults()
        var wanted = desired
        wanted.applyDefaults()
        return (normalized.subsets ?? []) == (wanted.subsets ?? [])
            && (current.metadata.labels ?? [:]) == (desired.metadata.labels ?? [:])
    }

    static func matches(_ selector: [String: String], _ pod: Pod) -> Bool {
        let labels = pod.metadata.labels ?? [:]
        return selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// ShouldPodBeInEndpoints: not finished, has an IP, and (unless
    /// terminating pods are wanted) not being deleted.
    static func shouldBeInEndpoints(_ pod: Pod, includeTerminating: Bool) -> Bool {
        let phase = pod.status?.phase
        if phase == .succeeded || phase == .failed { return false }
        if (pod.status?.podIP ?? "").isEmpty && (pod.status?.podIPs ?? []).isEmpty { return false }
        return includeTerminating || pod.metadata.deletionTimestamp == nil
    }

    /// The pod's IPv4 address with its node and a reference back to it;
    /// the hostname when the pod names this Service as its subdomain.
    static func address(of pod: Pod, for service: MeshModel.Service) -> Endpoints.Address? {
        let candidates = [pod.status?.podIP].compactMap { $0 } + (pod.status?.podIPs ?? []).map(\.ip)
        guard let ip = candidates.first(where: { IPv4CIDR.parseAddress($0) != nil }) else { return nil }
        let reference = ObjectReference(kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name,
                                        uid: pod.metadata.uid)
        var address = Endpoints.Address(ip: ip, nodeName: (pod.spec.nodeName ?? "").isEmpty ? nil : pod.spec.nodeName,
                                        targetRef: reference)
        if let hostname = pod.spec.hostname, !hostname.isEmpty, pod.spec.subdomain == service.metadata.name,
            pod.metadata.namespace == service.metadata.namespace
        {
            address.hostname = hostname
        }
        return address
    }

    /// podutil.FindPort: a number as is; a name looked up among the
    /// containers' ports (and native sidecars') with the same protocol.
    static func targetPort(_ port: MeshModel.Service.Port, in pod: Pod) -> Int32? {
        let target = port.targetPort ?? .int(port.port)
        switch target {
        case .int(let number):
            return number
        case .string(let name):
            let sidecars = (pod.spec.initContainers ?? []).filter { $0.restartPolicy == .always }
            for container in pod.spec.containers + sidecars {
                for containerPort in container.ports ?? []
                where containerPort.name == name && (containerPort.protocol ?? .tcp) == (port.protocol ?? .tcp) {
                    return containerPort.containerPort
                }
            }
            return nil
        }
    }

    /// LessEndpointAddress: by IP as text, then by the pod's uid.
    static func addressOrder(_ a: Endpoints.Address, _ b: Endpoints.Address) -> Bool {
        if a.ip != b.ip { return Array(a.ip.utf8).lexicographicallyPrecedes(Array(b.ip.utf8)) }
        return (a.targetRef?.uid ?? "") < (b.targetRef?.uid ?? "")
    }

    /// Ports by name, then number (Kubernetes orders them by a hash).
    static func portOrder(_ a: Endpoints.Port, _ b: Endpoints.Port) -> Bool {
        (a.name ?? "", a.port) < (b.name ?? "", b.port)
    }

    /// A stable order for subsets (Kubernetes orders them by a hash).
    static func subsetKey(_ subset: Endpoints.Subset) -> String {
        (subset.ports ?? []).map { "\($0.name ?? ""):\($0.port)" }.joined(separator: ",") + "|"
            + ((subset.addresses ?? []) + (subset.notReadyAddresses ?? [])).map(\.ip).joined(separator: ",")
    }
}

extension Array {
    /// nil for an empty array: how optional lists are left out of objects.
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
