/// Endpoints (core/v1): the addresses behind a Service, kept by the
/// Service controller from the ready and unready pods its selector picks.
public struct Endpoints: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "Endpoints", plural: "endpoints", shortNames: ["ep"], hasStatus: false)

    public var metadata: ObjectMeta
    public var subsets: [Subset]?

    public init(metadata: ObjectMeta, subsets: [Subset]? = nil) {
        self.metadata = metadata
        self.subsets = subsets
    }

    public struct Subset: Codable, Sendable, Hashable {
        public var addresses: [Address]?
        public var notReadyAddresses: [Address]?
        public var ports: [Port]?

        public init(addresses: [Address]? = nil, notReadyAddresses: [Address]? = nil, ports: [Port]? = nil) {
            self.addresses = addresses
            self.notReadyAddresses = notReadyAddresses
            self.ports = ports
        }
    }

    public struct Address: Codable, Sendable, Hashable {
        public var ip: String
        public var hostname: String?
        public var nodeName: String?
        public var targetRef: ObjectReference?

        public init(ip: String, hostname: String? = nil, nodeName: String? = nil, targetRef: ObjectReference? = nil) {
            self.ip = ip
            self.hostname = hostname
            self.nodeName = nodeName
            self.targetRef = targetRef
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var port: Int32
        public var `protocol`: PortProtocol?
        public var appProtocol: String?

        public init(name: String? = nil, port: Int32, protocol: PortProtocol? = nil) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }

    public mutating func applyDefaults() {
        guard subsets != nil else { return }
        for i in subsets!.indices where subsets![i].ports != nil {
            for j in subsets![i].ports!.indices where subsets![i].ports![j].protocol == nil {
                subsets![i].ports![j].protocol = .tcp
            }
        }
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        for (i, subset) in (subsets ?? []).enumerated() {
            let subsetPath = path.appending("subsets").appending(index: i)
            for field in ["addresses", "notReadyAddresses"] {
                let addresses = (field == "addresses" ? subset.addresses : subset.notReadyAddresses) ?? []
                for (j, address) in addresses.enumerated() {
                    let addressPath = subsetPath.appending(field).appending(index: j)
                    if !KubernetesNames.isIP(address.ip) {
                        validation.add(.invalid(addressPath.appending("ip"), value: .string(address.ip),
                                                KubernetesNames.ipAddressError))
                    }
                    if let hostname = address.hostname, !hostname.isEmpty {
                        validation.invalid(addressPath.appending("hostname"), hostname, KubernetesNames.dns1123LabelErrors(hostname))
                    }
                    if let nodeName = address.nodeName, !nodeName.isEmpty {
                        validation.invalid(addressPath.appending("nodeName"), nodeName,
                                           KubernetesNames.dns1123SubdomainErrors(nodeName))
                    }
                }
            }
            let ports = subset.ports ?? []
            var names: Set<String> = []
            for (j, port) in ports.enumerated() {
                let portPath = subsetPath.appending("ports").appending(index: j)
                let name = port.name ?? ""
                if name.isEmpty {
                    if ports.count > 1 { validation.add(.required(portPath.appending("name"))) }
                } else {
                    validation.invalid(portPath.appending("name"), name, KubernetesNames.dns1123LabelErrors(name))
                    if !names.insert(name).inserted { validation.add(.duplicate(portPath.appending("name"), value: .string(name))) }
                }
                validation.port(port.port, at: portPath.appending("port"))
            }
        }
    }
}
