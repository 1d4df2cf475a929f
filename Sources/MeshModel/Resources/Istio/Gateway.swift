/// networking.istio.io Gateway: the ports, hosts and TLS an edge proxy
/// (selected by labels) listens with (proto networking/v1alpha3/gateway.proto).
/// A VirtualService binds to it through `gateways: [ns/name]`.
public struct Gateway: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "Gateway",
        plural: "gateways", shortNames: ["gw"])

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: Spec = Spec()) {
        self.metadata = metadata
        self.spec = spec
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(JSONValue.self, forKey: .status)
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { check in
            // Gateway names end up in listener names: no dots.
            if let name = metadata.name, !IstioFormat.isDNS1123Label(name) {
                check.istio(path.appending("metadata").appending("name"), "invalid gateway name: \(IstioFormat.goQuote(name))")
            }
            spec.check(at: path.appending("spec"), &check)
        }
    }

    public struct Spec: Codable, Sendable, Hashable {
        /// Labels of the proxy pods that apply it (e.g. `istio: ingressgateway`).
        public var selector: [String: String]?
        public var servers: [Server]?

        public init(selector: [String: String]? = nil, servers: [Server]? = nil) {
            self.selector = selector
            self.servers = servers
        }
    }

    public struct Server: Codable, Sendable, Hashable {
        public var port: Port
        /// An IP address or `unix://` socket to listen on instead of all addresses.
        public var bind: String?
        /// `namespace/host` (or a bare host): which VirtualServices may bind.
        public var hosts: [String]
        public var tls: Istio.ServerTLSSettings?
        public var defaultEndpoint: String?
        public var name: String?

        public init(port: Port, hosts: [String], tls: Istio.ServerTLSSettings? = nil) {
            self.port = port
            self.hosts = hosts
            self.tls = tls
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var number: UInt32
        /// HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS (any case).
        public var `protocol`: String
        public var name: String
        /// Deprecated and ignored by gateways.
        public var targetPort: UInt32?

        public init(number: UInt32, protocol: String, name: String) {
            self.number = number
            self.protocol = `protocol`
            self.name = name
        }
    }
}

// MARK: - Checks (ValidateGateway and the CRD)

extension Gateway.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let servers = self.servers ?? []
        if servers.isEmpty { check.istio(path.appending("servers"), "gateway must have at least one server") }
        servers.check(at: path.appending("servers"), &check)
        var portNames: Set<String> = []
        for (index, server) in servers.enumerated() {
            let at = path.appending("servers").appending(index: index)
            if !portNames.insert(server.port.name).inserted {
                check.istio(at.appending("port").appending("name"),
                    "port names in servers must be unique: duplicate name \(server.port.name)")
            }
            if IstioFormat.parseProtocol(server.port.protocol)?.isHTTP != true && server.tls?.httpsRedirect == true {
                check.istioWarning(at.appending("tls"), "tls.httpsRedirect should only be used with http servers")
            }
        }
    }
}

extension Gateway.Server: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if hosts.isEmpty { check.istio(path.appending("hosts"), "server config must contain at least one host") }
        for (index, host) in hosts.enumerated() {
            for error in IstioFormat.validateNamespaceSlashWildcardHostname(host, isGateway: true) {
                check.istio(path.appending("hosts").appending(index: index), error)
            }
        }
        let portPath = path.appending("port")
        let bind = self.bind ?? ""
        var portErrors: [(FieldPath, String)] = []
        let parsedProtocol = IstioFormat.parseProtocol(port.protocol)
        if parsedProtocol == nil {
            portErrors.append((portPath.appending("protocol"),
                "invalid protocol \(IstioFormat.goQuote(port.protocol)), supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"))
        }
        if port.number > 0 || !bind.hasPrefix(Sidecar.unixAddressPrefix), let error = IstioFormat.validatePort(Int(port.number)) {
            portErrors.append((portPath.appending("number"), error))
        }
        if (port.targetPort ?? 0) > 0 { portErrors.append((portPath.appending("targetPort"), "targetPort has no impact on Gateways")) }
        if port.name.isEmpty {
            portErrors.append((portPath.appending("name"),
                "port name must be set: number:\(port.number) protocol:\(IstioFormat.goQuote(port.protocol))"))
        }
        portErrors.forEach { check.istio($0.0, $0.1) }

        if bind.hasPrefix(Sidecar.unixAddressPrefix) {
            check.istio(path.appending("bind"), Sidecar.unixAddressError(String(bind.dropFirst(Sidecar.unixAddressPrefix.count))))
            if port.number != 0 { check.istio(portPath.appending("number"), "port number must be 0 for unix domain socket: number:\(port.number)") }
        } else if !bind.isEmpty {
            check.istio(path.appending("bind"), IstioFormat.validateIPAddress(bind))
        }
        tls.check(at: path.appending("tls"), &check)

        guard portErrors.isEmpty, let parsedProtocol else { return }
        if parsedProtocol.isTLS && tls == nil {
            check.istio(path, "server must have TLS settings for HTTPS/TLS protocols")
        } else if !parsedProtocol.isTLS, let tls {
            if parsedProtocol.isHTTP {
                // Only the https redirect makes sense on plain HTTP.
                if !tls.isPassthrough || ![tls.caCertificates, tls.privateKey, tls.serverCertificate].allSatisfy({ ($0 ?? "").isEmpty }) {
                    check.istio(path.appending("tls"), "server cannot have TLS settings for plain text HTTP ports")
                }
            } else {
                check.istio(path.appending("tls"), "server cannot have TLS settings for non HTTPS/TLS ports")
            }
        }
    }
}
