import MeshModel
import MeshSystem

/// An address that DNS hands out: A or AAAA.
enum HostAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family; nil for anything else ("None", "", a name).
    init?(_ text: String) {
        if let address = IPv4Address(text) {
            self = .v4(address)
        } else if let address = IPv6Address(text) {
            self = .v6(address)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// How CoreDNS names an endpoint without a hostname: `10-44-0-7`, `fd00--7`.
    var dashed: String {
        String(description.map { $0 == "." || $0 == ":" ? "-" : $0 })
    }
}

/// What cluster DNS knows at one moment: the Services, their ready endpoints, the pods
/// behind them and the namespaces, indexed for lookups. Built from typed resources by a
/// pure function, so answers can be tested without a store or a socket.
public struct ClusterDNSSnapshot: Sendable {
    /// The zone's SOA serial: it changes whenever the snapshot does (the store's revision).
    public let serial: UInt32
    /// Lowercased namespace names: those given, and any that holds a service or pod.
    let namespaces: Set<String>
    let services: [ServiceKey: ServiceRecord]
    /// Reverse lookups: a ClusterIP names its service; an endpoint address names the
    /// endpoint under each service it backs (CoreDNS's order: services first).
    let reverse: [HostAddress: [ReverseTarget]]

    struct ServiceKey: Hashable {
        var namespace: String
        var name: String
    }

    struct PortRecord: Hashable {
        /// Lowercased; "" for an unnamed port.
        var name: String
        /// Lowercased: "tcp", "udp", "sctp".
        var proto: String
        var port: UInt16
    }

    struct EndpointRecord: Hashable {
        /// The DNS label: the address's hostname, the pod's hostname when its subdomain
        /// is this service, else the dashed IP. Lowercased.
        var hostname: String
        var address: HostAddress
        var ports: [PortRecord]
    }

    enum ServiceKind: Hashable {
        /// ClusterIP, NodePort, LoadBalancer: the virtual IPs (empty until one is allocated).
        case virtualIP([HostAddress])
        /// clusterIP None: the endpoints' own addresses.
        case headless
        /// A CNAME to another name.
        case externalName(DNSName)
    }

    struct ServiceRecord: Hashable {
        var kind: ServiceKind
        var ports: [PortRecord]
        var endpoints: [EndpointRecord]
    }

    enum ReverseTarget: Hashable {
        case service(ServiceKey)
        case endpoint(ServiceKey, hostname: String)
    }

    /// Nothing at all: every cluster name is NXDOMAIN.
    public static let empty = ClusterDNSSnapshot(services: [], endpoints: [], pods: [], namespaces: [], serial: 0)

    /// Indexes the objects. Endpoints without a Service are ignored (CoreDNS looks services
    /// up first); unparsable IPs are skipped; only ready addresses count, plus not-ready
    /// ones for a service with `publishNotReadyAddresses`.
    public init(services: [MeshModel.Service], endpoints: [Endpoints], pods: [Pod], namespaces: [String] = [],
                serial: UInt32 = 0) {
        self.serial = serial
        var namespaceSet = Set(namespaces.map { $0.lowercased() })

        // A pod's hostname names its endpoint when its subdomain is the service (Kubernetes'
        // endpoints controller does this; done here too in case a controller does not).
        var podsByName: [ServiceKey: Pod] = [:]
        var podsByAddress: [String: [Pod]] = [:]
        for pod in pods {
            let namespace = (pod.metadata.namespace ?? "default").lowercased()
            namespaceSet.insert(namespace)
            podsByName[ServiceKey(namespace: namespace, name: (pod.metadata.name ?? "").lowercased())] = pod
            var ips = (pod.status?.podIPs ?? []).map(\.ip)
            if let primary = pod.status?.podIP, !ips.contains(primary) { ips.insert(primary, at: 0) }
            for ip in ips { podsByAddress[namespace + "/" + ip, default: []].append(pod) }
        }
        var endpointsByService: [ServiceKey: Endpoints] = [:]
        for object in endpoints {
            let key = ServiceKey(namespace: (object.metadata.namespace ?? "default").lowercased(),
                                 name: (object.metadata.name ?? "").lowercased())
            endpointsByService[key] = object
        }

        var records: [ServiceKey: ServiceRecord] = [:]
        var reverse: [HostAddress: [ReverseTarget]] = [:]
        for service in services {
            guard let name = service.metadata.name?.lowercased(), !name.isEmpty else { continue }
            let namespace = (service.metadata.namespace ?? "default").lowercased()
            namespaceSet.insert(namespace)
            let key = ServiceKey(namespace: namespace, name: name)
            let kind: ServiceKind
            if service.spec.type == .externalName {
                guard let target = service.spec.externalName.flatMap(DNSName.init) else { continue }
                kind = .externalName(target)
            } else if service.isHeadless {
                kind = .headless
            } else {
                let ips = service.spec.clusterIPs ?? [service.spec.clusterIP].compactMap { $0 }
                kind = .virtualIP(ips.compactMap(HostAddress.init))
            }
            let ports = (service.spec.ports ?? []).compactMap { port -> PortRecord? in
                guard let number = UInt16(exactly: port.port) else { return nil }
                return PortRecord(name: (port.name ?? "").lowercased(),
                                  proto: (port.protocol?.rawValue ?? "TCP").lowercased(), port: number)
            }
            var endpointRecords: [EndpointRecord] = []
            if case .externalName = kind {} else if let object = endpointsByService[key] {
                for subset in object.subsets ?? [] {
                    let subsetPorts = (subset.ports ?? []).compactMap { port -> PortRecord? in
                        guard let number = UInt16(exactly: port.port) else { return nil }
                        return PortRecord(name: (port.name ?? "").lowercased(),
                                          proto: (port.protocol?.rawValue ?? "TCP").lowercased(), port: number)
                    }
                    var addresses = subset.addresses ?? []
                    if service.spec.publishNotReadyAddresses == true { addresses += subset.notReadyAddresses ?? [] }
                    for address in addresses {
                        guard let ip = HostAddress(address.ip) else { continue }
                        let pod = address.targetRef.flatMap { reference -> Pod? in
                            guard reference.kind == nil || reference.kind == "Pod", let podName = reference.name else { return nil }
                            return podsByName[ServiceKey(namespace: (reference.namespace ?? namespace).lowercased(),
                                                         name: podName.lowercased())]
                        } ?? podsByAddress[namespace + "/" + address.ip]?.first
                        let hostname: String
                        if let given = address.hostname, !given.isEmpty {
                            hostname = given
                        } else if let pod, pod.spec.subdomain?.lowercased() == name,
                            let podHostname = pod.spec.hostname, !podHostname.isEmpty
                        {
                            hostname = podHostname
                        } else {
                            hostname = ip.dashed
                        }
                        endpointRecords.append(EndpointRecord(hostname: hostname.lowercased(), address: ip, ports: subsetPorts))
                    }
                }
            }
            records[key] = ServiceRecord(kind: kind, ports: ports, endpoints: endpointRecords)
            if case .virtualIP(let ips) = kind {
                for ip in ips { reverse[ip, default: []].insert(.service(key), at: 0) }
            }
            for endpoint in endpointRecords {
                let target = ReverseTarget.endpoint(key, hostname: endpoint.hostname)
                if !(reverse[endpoint.address]?.contains(target) ?? false) { reverse[endpoint.address, default: []].append(target) }
            }
        }
        for object in endpoints { namespaceSet.insert((object.metadata.namespace ?? "default").lowercased()) }
        self.namespaces = namespaceSet
        self.services = records
        self.reverse = reverse
    }

    /// How many services it indexes (for logs).
    public var serviceCount: Int { services.count }
}
