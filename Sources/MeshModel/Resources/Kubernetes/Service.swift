/// A Service (core/v1): a stable virtual IP and DNS name in front of the
/// pods its selector picks.
public struct Service: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "Service", plural: "services", shortNames: ["svc"])
    public static var nameRule: NameRule { .dns1035Label }

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var ports: [Port]?
        public var selector: [String: String]?
        public var clusterIP: String?
        public var clusterIPs: [String]?
        public var type: ServiceType?
        public var externalIPs: [String]?
        public var sessionAffinity: SessionAffinity?
        public var loadBalancerIP: String?
        public var loadBalancerSourceRanges: [String]?
        public var externalName: String?
        public var externalTrafficPolicy: TrafficPolicy?
        public var healthCheckNodePort: Int32?
        public var publishNotReadyAddresses: Bool?
        public var sessionAffinityConfig: SessionAffinityConfig?
        public var ipFamilies: [IPFamily]?
        public var ipFamilyPolicy: IPFamilyPolicy?
        public var allocateLoadBalancerNodePorts: Bool?
        public var loadBalancerClass: String?
        public var internalTrafficPolicy: TrafficPolicy?
        public var trafficDistribution: String?

        public init(ports: [Port]? = nil, selector: [String: String]? = nil, type: ServiceType? = nil) {
            self.ports = ports
            self.selector = selector
            self.type = type
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var `protocol`: PortProtocol?
        public var appProtocol: String?
        public var port: Int32
        public var targetPort: IntOrString?
        public var nodePort: Int32?

        public init(name: String? = nil, port: Int32, targetPort: IntOrString? = nil, protocol: PortProtocol? = nil) {
            self.name = name
            self.port = port
            self.targetPort = targetPort
            self.protocol = `protocol`
        }
    }

    public enum ServiceType: String, SchemaEnum {
        case clusterIP = "ClusterIP"
        case externalName = "ExternalName"
        case loadBalancer = "LoadBalancer"
        case nodePort = "NodePort"
    }

    public enum SessionAffinity: String, SchemaEnum {
        case clientIP = "ClientIP"
        case none = "None"
    }

    public enum TrafficPolicy: String, SchemaEnum {
        case cluster = "Cluster"
        case local = "Local"
    }

    public enum IPFamily: String, SchemaEnum {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
    }

    public enum IPFamilyPolicy: String, SchemaEnum {
        case singleStack = "SingleStack"
        case preferDualStack = "PreferDualStack"
        case requireDualStack = "RequireDualStack"
    }

    public struct SessionAffinityConfig: Codable, Sendable, Hashable {
        public var clientIP: ClientIPConfig?
    }

    public struct ClientIPConfig: Codable, Sendable, Hashable {
        public var timeoutSeconds: Int32?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var loadBalancer: LoadBalancerStatus?
        public var conditions: [JSONValue]?
        public init() {}
    }

    public struct LoadBalancerStatus: Codable, Sendable, Hashable {
        public var ingress: [LoadBalancerIngress]?
    }

    public struct LoadBalancerIngress: Codable, Sendable, Hashable {
        public var ip: String?
        public var hostname: String?
        public var ipMode: String?
        public var ports: [JSONValue]?
    }

    /// The headless form: no virtual IP, DNS answers with the pods' IPs.
    public var isHeadless: Bool { spec.clusterIP == "None" }

    /// core/v1 SetDefaults_Service.
    public mutating func applyDefaults() {
        if spec.type == nil { spec.type = .clusterIP }
        if spec.sessionAffinity == nil { spec.sessionAffinity = Service.SessionAffinity.none }
        if spec.sessionAffinity == .clientIP && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == nil {
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 10800))
        }
        if spec.ports != nil {
            for i in spec.ports!.indices {
                if spec.ports![i].protocol == nil { spec.ports![i].protocol = .tcp }
                if spec.ports![i].targetPort == nil || spec.ports![i].targetPort == .int(0) || spec.ports![i].targetPort == .string("") {
                    spec.ports![i].targetPort = .int(spec.ports![i].port)
                }
            }
        }
        if spec.type != .externalName && spec.internalTrafficPolicy == nil { spec.internalTrafficPolicy = .cluster }
        if (spec.type == .nodePort || spec.type == .loadBalancer) && spec.externalTrafficPolicy == nil {
            spec.externalTrafficPolicy = .cluster
        }
        if spec.type == .loadBalancer && spec.allocateLoadBalancerNodePorts == nil { spec.allocateLoadBalancerNodePorts = true }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        let specPath = path.appending("spec")
        let ports = spec.ports ?? []
        let type = spec.type ?? .clusterIP
        if type == .externalName {
            let namePath = specPath.appending("externalName")
            if let name = spec.externalName, !name.isEmpty {
                let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
                validation.invalid(namePath, name, KubernetesNames.dns1123SubdomainErrors(trimmed))
            } else {
                validation.add(.required(namePath))
            }
        } else if ports.isEmpty && !isHeadless {
            validation.add(.required(specPath.appending("ports")))
        }
        var names: Set<String> = []
        var portKeys: Set<String> = []
        for (i, port) in ports.enumerated() {
            let portPath = specPath.appending("ports").appending(index: i)
            let name = port.name ?? ""
            if name.isEmpty {
                if ports.count > 1 { validation.add(.required(portPath.appending("name"))) }
            } else {
                validation.invalid(portPath.appending("name"), name, KubernetesNames.dns1123LabelErrors(name))
                if !names.insert(name).inserted { validation.add(.duplicate(portPath.appending("name"), value: .string(name))) }
            }
            validation.port(port.port, at: portPath.appending("port"))
            if let target = port.targetPort { validation.portNumberOrName(target, at: portPath.appending("targetPort")) }
            if let nodePort = port.nodePort, nodePort != 0 {
                if type == .clusterIP || type == .externalName {
                    validation.add(.forbidden(portPath.appending("nodePort"), "may not be used when `type` is '\(type.rawValue)'"))
                } else {
                    validation.port(nodePort, at: portPath.appending("nodePort"))
                }
            }
            if let appProtocol = port.appProtocol, !appProtocol.isEmpty {
                validation.invalid(portPath.appending("appProtocol"), appProtocol, KubernetesNames.qualifiedNameErrors(appProtocol))
            }
            let key = "\(port.port)/\((port.protocol ?? .tcp).rawValue)"
            if !portKeys.insert(key).inserted { validation.add(.duplicate(portPath, value: .string(key))) }
        }
        ObjectMeta.validateLabels(spec.selector ?? [:], at: specPath.appending("selector"), &validation)
        validateClusterIPs(at: specPath, &validation)
        for (i, ip) in (spec.externalIPs ?? []).enumerated() where !KubernetesNames.isIP(ip) {
            validation.add(.invalid(specPath.appending("externalIPs").appending(index: i), value: .string(ip),
                                    KubernetesNames.ipAddressError))
        }
        if let timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds, timeout <= 0 || timeout > 86400 {
            validation.add(.invalid(specPath.appending("sessionAffinityConfig").appending("clientIP").appending("timeoutSeconds"),
                                    value: .int(Int(timeout)), "must be greater than 0 and less than 86400"))
        }
    }

    private func validateClusterIPs(at specPath: FieldPath, _ validation: inout Validation) {
        var ips = spec.clusterIPs ?? []
        if let clusterIP = spec.clusterIP, !clusterIP.isEmpty {
            if ips.isEmpty {
                ips = [clusterIP]
            } else if ips[0] != clusterIP {
                validation.add(.invalid(specPath.appending("clusterIPs"), rendered: GoLiteral.stringSlice(ips),
                                        "first value must match `clusterIP`"))
            }
        }
        if (spec.type ?? .clusterIP) == .externalName {
            if !ips.isEmpty {
                validation.add(.forbidden(specPath.appending("clusterIPs"), "may not be set for ExternalName services"))
            }
            return
        }
        for (i, ip) in ips.enumerated() where ip != "None" && !ip.isEmpty && !KubernetesNames.isIP(ip) {
            validation.add(.invalid(specPath.appending("clusterIPs").appending(index: i), value: .string(ip),
                                    KubernetesNames.ipAddressError))
        }
    }
}
