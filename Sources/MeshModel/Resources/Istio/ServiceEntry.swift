/// networking.istio.io ServiceEntry: adds a service (external, or workloads
/// the platform does not know) to the mesh's registry
/// (proto networking/v1alpha3/service_entry.proto).
public struct ServiceEntry: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "ServiceEntry",
        plural: "serviceentries", shortNames: ["se"])

    public var metadata: ObjectMeta
    /// Required by the CRD (unlike the other kinds' specs).
    public var spec: Spec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { spec.check(at: path.appending("spec"), &$0) }
    }

    public struct Spec: Codable, Sendable, Hashable {
        /// DNS names, optionally with a wildcard first label.
        public var hosts: [String]
        /// Virtual IPs or CIDR blocks of the service.
        public var addresses: [String]?
        public var ports: [Port]?
        public var location: Location?
        /// Unset is NONE.
        public var resolution: Resolution?
        public var endpoints: [WorkloadEntry]?
        public var workloadSelector: Istio.WorkloadLabelSelector?
        public var exportTo: [String]?
        public var subjectAltNames: [String]?

        public init(hosts: [String], ports: [Port]? = nil, resolution: Resolution? = nil) {
            self.hosts = hosts
            self.ports = ports
            self.resolution = resolution
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var number: UInt32
        public var `protocol`: String?
        public var name: String
        /// The endpoints' port when it differs from `number`.
        public var targetPort: UInt32?

        public init(number: UInt32, protocol: String? = nil, name: String) {
            self.number = number
            self.protocol = `protocol`
            self.name = name
        }
    }

    public enum Location: String, SchemaEnum {
        case meshExternal = "MESH_EXTERNAL"
        case meshInternal = "MESH_INTERNAL"
    }

    public enum Resolution: String, SchemaEnum {
        /// Connections go to the address the client already resolved.
        case none = "NONE"
        case `static` = "STATIC"
        case dns = "DNS"
        case dnsRoundRobin = "DNS_ROUND_ROBIN"
        case dynamicDNS = "DYNAMIC_DNS"
    }

    /// networking.WorkloadEntry as a ServiceEntry endpoint.
    public struct WorkloadEntry: Codable, Sendable, Hashable {
        /// An IP, a DNS name (DNS resolution) or `unix:///path`.
        public var address: String?
        /// Service port name to the endpoint's port.
        public var ports: [String: UInt32]?
        public var labels: [String: String]?
        public var network: String?
        public var locality: String?
        public var weight: UInt32?
        public var serviceAccount: String?

        public init(address: String? = nil, ports: [String: UInt32]? = nil, labels: [String: String]? = nil) {
            self.address = address
            self.ports = ports
            self.labels = labels
        }
    }
}

// MARK: - Checks (ValidateServiceEntry and the CRD)

extension ServiceEntry.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        checkSchema(at: path, &check)

        // Go returns at once when the selector is invalid.
        let before = check.webhook.count
        workloadSelector?.check(at: path.appending("workloadSelector"), kind: "service entry", &check)
        if check.webhook[before...].contains(where: { $0.severity == .error }) { return }

        if workloadSelector != nil && endpoints != nil {
            check.istio(path, "only one of WorkloadSelector or Endpoints is allowed in Service Entry")
        }
        if hosts.isEmpty { check.istio(path.appending("hosts"), "service entry must have at least one host") }
        for (index, host) in hosts.enumerated() {
            let at = path.appending("hosts").appending(index: index)
            if host == "*" {
                check.istio(at, "invalid host \(host)")
            } else {
                check.istio(at, IstioFormat.validateWildcardDomain(host))
                if let warning = IstioFormat.validatePartialWildcard(host) { check.istioWarning(at, warning) }
            }
        }
        let resolution = self.resolution ?? .none
        var sawCIDR = false
        for (index, address) in (addresses ?? []).enumerated() {
            sawCIDR = sawCIDR || address.contains("/")
            check.istio(path.appending("addresses").appending(index: index), IstioFormat.validateIPSubnet(address))
        }
        if sawCIDR && resolution != .none && resolution != .static {
            check.istio(path.appending("addresses"), "CIDR addresses are allowed only for NONE/STATIC resolution types")
        }

        var portNames: Set<String> = []
        var portNumbers: Set<UInt32> = []
        for (index, port) in (ports ?? []).enumerated() {
            let at = path.appending("ports").appending(index: index)
            if !portNames.insert(port.name).inserted {
                check.istio(at.appending("name"), "service entry port name \(IstioFormat.goQuote(port.name)) already defined")
            }
            if !portNumbers.insert(port.number).inserted {
                check.istio(at.appending("number"), "service entry port \(port.number) already defined")
            }
            if let targetPort = port.targetPort, targetPort != 0 {
                check.istio(at.appending("targetPort"), IstioFormat.validatePort(Int(targetPort)))
                if resolution == .none { check.istioWarning(at.appending("targetPort"), "targetPort has no effect when resolution mode is NONE") }
            }
            check.istio(at.appending("name"), IstioFormat.validatePortName(port.name))
            check.istio(at.appending("protocol"), IstioFormat.validateProtocol(port.protocol))
            check.istio(at.appending("number"), IstioFormat.validatePort(Int(port.number)))
        }

        let endpoints = self.endpoints ?? []
        switch resolution {
        case .none:
            if !endpoints.isEmpty { check.istio(path.appending("endpoints"), "no endpoints should be provided for resolution type none") }
            if workloadSelector != nil { check.istioWarning(path.appending("workloadSelector"), "workloadSelector should not be set when resolution mode is NONE") }
        case .static:
            for (index, endpoint) in endpoints.enumerated() {
                endpoint.checkStatic(at: path.appending("endpoints").appending(index: index), servicePorts: portNames, &check)
            }
        case .dns, .dnsRoundRobin:
            if endpoints.isEmpty {
                for (index, host) in hosts.enumerated() where IstioFormat.validateFQDN(host) != nil {
                    check.istio(path.appending("hosts").appending(index: index),
                        "hosts must be FQDN if no endpoints are provided for resolution mode \(resolution.rawValue)")
                }
            }
            if resolution == .dnsRoundRobin && endpoints.count > 1 {
                check.istio(path.appending("endpoints"), "there must only be 0 or 1 endpoint for resolution mode \(resolution.rawValue)")
            }
            for (index, endpoint) in endpoints.enumerated() {
                let at = path.appending("endpoints").appending(index: index)
                let address = endpoint.address ?? ""
                if !IstioFormat.isIPAddress(address) && IstioFormat.validateFQDN(address) != nil {
                    check.istio(at.appending("address"), "endpoint address \(IstioFormat.goQuote(address)) is not a valid FQDN or an IP address")
                }
                check.labels(at.appending("labels"), endpoint.labels)
                endpoint.checkPorts(at: at, servicePorts: portNames, &check)
            }
            if workloadSelector != nil {
                check.istioWarning(path.appending("workloadSelector"), "workloadSelector should not be set when resolution mode is \(resolution.rawValue)")
            }
            if !(addresses ?? []).isEmpty && hosts.count > 1
                && (ports ?? []).contains(where: { IstioFormat.parseProtocol($0.protocol ?? "")?.isTCP == true })
            {
                check.istioWarning(path, "service entry can not have more than one host specified simultaneously with address and tcp port")
            }
        case .dynamicDNS:
            break
        }

        // Plain TCP cannot tell several hosts apart (the address is all it sees).
        if resolution != .none && hosts.count > 1,
            let index = (ports ?? []).firstIndex(where: {
                let parsed = IstioFormat.parseProtocol($0.protocol ?? "")
                return parsed?.isHTTP != true && parsed?.isTLS != true
            })
        {
            check.istio(path.appending("ports").appending(index: index), "multiple hosts provided with non-HTTP, non-TLS ports")
        }
        for error in IstioFormat.validateExportTo(namespace: check.namespace, exportTo, isServiceEntry: true,
                                                  isDestinationRuleWithSelector: false) {
            check.istio(path.appending("exportTo"), error)
        }
    }

    /// The CRD: list limits, per-item rules, the port list keyed by name, and
    /// the CEL rules on the spec.
    private func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        check.minItems(path.appending("hosts"), count: hosts.count, 1)
        check.maxItems(path.appending("hosts"), count: hosts.count, 256)
        for (index, host) in hosts.enumerated() where host == "*" {
            check.cel(path.appending("hosts").appending(index: index), type: "string", "hostname cannot be wildcard")
        }
        if let addresses {
            check.maxItems(path.appending("addresses"), count: addresses.count, 256)
            for (index, address) in addresses.enumerated() {
                check.maxLength(path.appending("addresses").appending(index: index), address, 64)
            }
        }
        if let ports {
            let at = path.appending("ports")
            check.maxItems(at, count: ports.count, 256)
            var names: Set<String> = []
            for (index, port) in ports.enumerated() {
                let portPath = at.appending(index: index)
                if !names.insert(port.name).inserted {
                    check.crd(.duplicate(portPath, value: ["name": .string(port.name)]))
                }
                check.maxLength(portPath.appending("name"), port.name, 256)
                check.maxLength(portPath.appending("protocol"), port.protocol ?? "", 256)
                if !(1...65535).contains(port.number) {
                    check.cel(portPath.appending("number"), type: "integer", "port must be between 1-65535")
                }
                if let targetPort = port.targetPort, !(1...65535).contains(targetPort) {
                    check.cel(portPath.appending("targetPort"), type: "integer", "port must be between 1-65535")
                }
            }
            if Set(ports.map(\.number)).count != ports.count {
                check.cel(at, type: "array", "port number cannot be duplicated")
            }
        }
        if let endpoints {
            check.maxItems(path.appending("endpoints"), count: endpoints.count, 4096)
            for (index, endpoint) in endpoints.enumerated() {
                endpoint.checkSchema(at: path.appending("endpoints").appending(index: index), &check)
            }
        }
        if workloadSelector != nil && endpoints != nil {
            check.cel(path, type: "object", "only one of WorkloadSelector or Endpoints can be set")
        }
        let resolution = self.resolution ?? .none
        if (addresses ?? []).contains(where: { $0.contains("/") }) && resolution != .static && resolution != .none {
            check.cel(path, type: "object", "CIDR addresses are allowed only for NONE/STATIC resolution types")
        }
        if resolution == .none && endpoints != nil { check.cel(path, type: "object", "NONE mode cannot set endpoints") }
        if resolution == .dnsRoundRobin && (endpoints ?? []).count > 1 {
            check.cel(path, type: "object", "DNS_ROUND_ROBIN mode cannot have multiple endpoints")
        }
    }
}

extension ServiceEntry.WorkloadEntry {
    /// The CRD's rules for an endpoint (shared with WorkloadEntry).
    func checkSchema(at path: FieldPath, _ check: inout IstioCheck) {
        if let address {
            check.maxLength(path.appending("address"), address, 256)
            if address.hasPrefix(Sidecar.unixAddressPrefix) {
                let rest = address.dropFirst(Sidecar.unixAddressPrefix.count)
                if !(rest.hasPrefix("/") || rest.hasPrefix("@")) {
                    check.cel(path.appending("address"), type: "string", "UDS must be an absolute path or abstract socket")
                }
                if address.hasSuffix("/") { check.cel(path.appending("address"), type: "string", "UDS may not be a dir") }
            }
        }
        check.maxLength(path.appending("locality"), locality ?? "", 2048)
        check.maxLength(path.appending("network"), network ?? "", 2048)
        check.maxLength(path.appending("serviceAccount"), serviceAccount ?? "", 253)
        for (name, port) in (ports ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = path.appending("ports").appending(key: name)
            if !(1...65535).contains(port) { check.cel(at, type: "integer", "port must be between 1-65535") }
        }
        if (ports ?? [:]).keys.contains(where: { $0.utf8.count >= 63 || !IstioFormat.isDNS1123Label($0) }) {
            check.cel(path.appending("ports"), type: "object", "port name must be valid")
        }
        if address == nil && network == nil { check.cel(path, type: "object", "Address is required") }
        if (address ?? "").hasPrefix(Sidecar.unixAddressPrefix) && ports != nil {
            check.cel(path, type: "object", "UDS may not include ports")
        }
    }

    /// validateWorkloadEntry for a STATIC ServiceEntry (IP addresses only).
    func checkStatic(at path: FieldPath, servicePorts: Set<String>, _ check: inout IstioCheck) {
        let address = self.address ?? ""
        if address.isEmpty {
            if (network ?? "").isEmpty {
                check.istio(path.appending("address"), "address is required")
                return
            }
            check.istioWarning(path.appending("address"), "address is unset with network \(IstioFormat.goQuote(network!))")
        }
        let isUnix = address.hasPrefix(Sidecar.unixAddressPrefix)
        if isUnix {
            check.istio(path.appending("address"), Sidecar.unixAddressError(String(address.dropFirst(Sidecar.unixAddressPrefix.count))))
            if !(ports ?? [:]).isEmpty { check.istio(path.appending("ports"), "unix endpoint \(address) must not include ports") }
        } else if !address.isEmpty && !IstioFormat.isIPAddress(address) {
            check.istio(path.appending("address"), "endpoint address \(IstioFormat.goQuote(address)) is not a valid IP address")
        }
        checkPorts(at: path, servicePorts: servicePorts, &check)
        check.labels(path.appending("labels"), labels)
        if isUnix && servicePorts.count != 1 { check.istio(path, "exactly 1 service port required for unix endpoints") }
    }

    func checkPorts(at path: FieldPath, servicePorts: Set<String>, _ check: inout IstioCheck) {
        for (name, port) in (ports ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = path.appending("ports").appending(key: name)
            if !servicePorts.contains(name) { check.istio(at, "endpoint port \(port) is not defined by the service entry") }
            check.istio(at, IstioFormat.validatePortName(name))
            check.istio(at, IstioFormat.validatePort(Int(port)))
        }
    }
}
