/// networking.istio.io Sidecar: narrows what a workload's proxy listens on
/// and which services it can reach (proto networking/v1alpha3/sidecar.proto).
public struct Sidecar: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "Sidecar", plural: "sidecars")

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
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { spec.check(at: path.appending("spec"), &$0) }
    }

    public struct Spec: Codable, Sendable, Hashable {
        /// Absent: every workload in the namespace without a more specific Sidecar.
        public var workloadSelector: Istio.WorkloadLabelSelector?
        public var ingress: [IngressListener]?
        /// Absent: all services the namespace can see.
        public var egress: [EgressListener]?
        public var inboundConnectionPool: Istio.ConnectionPoolSettings?
        public var outboundTrafficPolicy: OutboundTrafficPolicy?

        public init(workloadSelector: Istio.WorkloadLabelSelector? = nil, egress: [EgressListener]? = nil) {
            self.workloadSelector = workloadSelector
            self.egress = egress
        }
    }

    public struct IngressListener: Codable, Sendable, Hashable {
        public var port: Port
        public var bind: String?
        public var captureMode: CaptureMode?
        /// `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT` or `unix://path`.
        public var defaultEndpoint: String?
        public var tls: Istio.ServerTLSSettings?
        public var connectionPool: Istio.ConnectionPoolSettings?
    }

    public struct EgressListener: Codable, Sendable, Hashable {
        /// Absent: the catch-all listener (at most one, and last).
        public var port: Port?
        public var bind: String?
        public var captureMode: CaptureMode?
        /// `namespace/dnsName`; namespace `.` (own), `*` (any) or `~` (none).
        public var hosts: [String]

        public init(port: Port? = nil, hosts: [String]) {
            self.port = port
            self.hosts = hosts
        }
    }

    /// networking.SidecarPort: unlike a Gateway port, every field is optional.
    public struct Port: Codable, Sendable, Hashable {
        public var number: UInt32?
        public var `protocol`: String?
        public var name: String?
        /// Deprecated and ignored by sidecars.
        public var targetPort: UInt32?
    }

    public enum CaptureMode: String, SchemaEnum {
        case `default` = "DEFAULT"
        case iptables = "IPTABLES"
        case none = "NONE"
    }

    public struct OutboundTrafficPolicy: Codable, Sendable, Hashable {
        /// Unset is REGISTRY_ONLY here; MeshConfig's own default is ALLOW_ANY.
        public var mode: Mode?
        public var egressProxy: Istio.Destination?

        public enum Mode: String, SchemaEnum {
            case registryOnly = "REGISTRY_ONLY"
            case allowAny = "ALLOW_ANY"
        }
    }

    static let unixAddressPrefix = "unix://"

    /// ValidateUnixAddress: an absolute file path or an abstract `@name`.
    static func unixAddressError(_ address: String) -> String? {
        if address.isEmpty { return "unix address must not be empty" }
        if address.hasPrefix("@") { return nil }
        return !address.hasPrefix("/") || address.hasSuffix("/") ? "\(address) is not an absolute path to a file" : nil
    }
}

// MARK: - Checks (ValidateSidecar and the CRD)

extension Sidecar.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        // ValidateSidecar rejects at once on a bad selector or an empty spec.
        let before = check.webhook.count
        workloadSelector?.check(at: path.appending("workloadSelector"), kind: "sidecar", &check)
        if check.webhook[before...].contains(where: { $0.severity == .error }) { return }
        if (egress ?? []).isEmpty && (ingress ?? []).isEmpty && outboundTrafficPolicy == nil && inboundConnectionPool == nil {
            check.istio(path, "sidecar: empty configuration provided")
            return
        }

        var ports: Set<UInt32> = []
        for (index, listener) in (ingress ?? []).enumerated() {
            let at = path.appending("ingress").appending(index: index)
            listener.check(at: at, &check)
            if !ports.insert(listener.port.number ?? 0).inserted {
                check.istio(at.appending("port"), "sidecar: ports on IP bound listeners must be unique")
            }
        }
        inboundConnectionPool.check(at: path.appending("inboundConnectionPool"), &check)

        ports = []
        var sockets: Set<String> = []
        var sawCatchAll = false
        let egress = self.egress ?? []
        for (index, listener) in egress.enumerated() {
            let at = path.appending("egress").appending(index: index)
            if let port = listener.port {
                if (port.targetPort ?? 0) > 0 { check.istio(at.appending("port").appending("targetPort"), "targetPort has no impact on Sidecars") }
                Self.checkEgressPort(port, bind: listener.bind ?? "", captureMode: listener.captureMode ?? .default, at: at, &check)
                if (port.number ?? 0) == 0 {
                    if !sockets.insert(listener.bind ?? "").inserted {
                        check.istio(at.appending("bind"), "sidecar: unix domain socket values for listeners must be unique")
                    }
                } else if !ports.insert(port.number!).inserted {
                    check.istio(at.appending("port"), "sidecar: ports on IP bound listeners must be unique")
                }
            } else if sawCatchAll {
                check.istio(at, "sidecar: egress can have only one listener with empty port")
                continue
            } else if index == egress.count - 1 {
                sawCatchAll = true
            } else {
                check.istio(at, "sidecar: the egress listener with empty port should be the last listener in the list")
            }
            Self.checkEgressHosts(listener.hosts, at: at.appending("hosts"), namespace: check.namespace, &check)
        }
        outboundTrafficPolicy?.check(at: path.appending("outboundTrafficPolicy"), &check)
    }

    /// validateSidecarEgressPortBindAndCaptureMode.
    static func checkEgressPort(_ port: Sidecar.Port, bind: String, captureMode: Sidecar.CaptureMode, at path: FieldPath,
                                _ check: inout IstioCheck) {
        let portPath = path.appending("port")
        if let name = port.name, !name.isEmpty { check.istio(portPath.appending("name"), IstioFormat.validatePortName(name)) }
        check.istio(portPath.appending("protocol"), IstioFormat.validateProtocol(port.protocol))
        if (port.number ?? 0) == 0 {
            if !bind.hasPrefix(Sidecar.unixAddressPrefix) {
                check.istio(path.appending("bind"), "sidecar: ports with 0 value must have a unix domain socket bind address")
            } else {
                check.istio(path.appending("bind"), Sidecar.unixAddressError(String(bind.dropFirst(Sidecar.unixAddressPrefix.count))))
            }
            if captureMode != .default && captureMode != .none {
                check.istio(path.appending("captureMode"), "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners")
            }
        } else {
            check.istio(portPath.appending("number"), IstioFormat.validatePort(Int(port.number!)))
            if !bind.isEmpty { check.istio(path.appending("bind"), IstioFormat.validateIPAddress(bind)) }
        }
    }

    /// `ns/host` entries, with Istio's warnings about duplicates.
    static func checkEgressHosts(_ hosts: [String], at path: FieldPath, namespace: String?, _ check: inout IstioCheck) {
        if hosts.isEmpty {
            check.istio(path, "sidecar: egress listener must contain at least one host")
            return
        }
        var byNamespace: [String: Set<String>] = [:]
        for (index, host) in hosts.enumerated() {
            let at = path.appending(index: index)
            let parts = host.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 {
                let ns = parts[0] == "." ? (namespace ?? "default") : parts[0]
                let services = byNamespace[ns, default: []]
                let duplicate = parts[1] != "*" ? services.contains(parts[1]) || services.contains("*") : !services.isEmpty
                if duplicate { check.istioWarning(at, "duplicated egress host: \(host)") }
                byNamespace[ns, default: []].insert(parts[1])
            }
            for error in IstioFormat.validateNamespaceSlashWildcardHostname(host, isGateway: false) { check.istio(at, error) }
        }
        if byNamespace["*"]?.contains("*") == true && byNamespace.count != 1 {
            check.istioWarning(path, "`*/*` host select all resources, no other hosts can be added")
        }
    }
}

extension Sidecar.IngressListener {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let portPath = path.appending("port")
        if (port.targetPort ?? 0) > 0 { check.istio(portPath.appending("targetPort"), "targetPort has no impact on Sidecars") }
        if let name = port.name, !name.isEmpty { check.istio(portPath.appending("name"), IstioFormat.validatePortName(name)) }
        check.istio(portPath.appending("protocol"), IstioFormat.validateProtocol(port.protocol))
        check.istio(portPath.appending("number"), IstioFormat.validatePort(Int(port.number ?? 0)))
        if let bind, !bind.isEmpty { check.istio(path.appending("bind"), IstioFormat.validateIPAddress(bind)) }

        if let endpoint = defaultEndpoint, !endpoint.isEmpty {
            let at = path.appending("defaultEndpoint")
            if endpoint.hasPrefix(Sidecar.unixAddressPrefix) {
                check.istio(at, Sidecar.unixAddressError(String(endpoint.dropFirst(Sidecar.unixAddressPrefix.count))))
            } else if let (host, portText) = Self.splitHostPort(endpoint) {
                if !host.isEmpty && !["127.0.0.1", "0.0.0.0", "::1", "::"].contains(host) {
                    check.istio(at, "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset")
                }
                if let number = Int(portText) {
                    check.istio(at, IstioFormat.validatePort(number))
                } else {
                    check.istio(at, "sidecar: defaultEndpoint port (\(portText)) is not a number: strconv.Atoi: parsing \(IstioFormat.goQuote(portText)): invalid syntax")
                }
            } else {
                check.istio(at, "address \(endpoint): missing port in address")
            }
        }

        if let tls {
            let at = path.appending("tls")
            if !(tls.subjectAltNames ?? []).isEmpty { check.istio(at, "sidecar: subjectAltNames is not supported in ingress tls") }
            if tls.httpsRedirect == true { check.istio(at, "sidecar: httpsRedirect is not supported") }
            if !(tls.credentialName ?? "").isEmpty { check.istio(at, "sidecar: credentialName is not currently supported") }
            if tls.mode == .istioMutual || tls.mode == .autoPassthrough {
                check.istio(at, "configuration is invalid: cannot set mode to \(tls.mode!.rawValue) in sidecar ingress tls")
            }
            tls.check(at: at, &check)
        }
        connectionPool.check(at: path.appending("connectionPool"), &check)
        if connectionPool?.http != nil && IstioFormat.parseProtocol(port.protocol ?? "")?.isHTTP != true {
            check.istioWarning(path.appending("connectionPool"),
                "sidecar: HTTP connection pool settings are configured for port \(port.number ?? 0) (\(IstioFormat.goQuote(port.name ?? ""))) but its protocol is not HTTP (\(port.protocol ?? "")); only TCP settings will apply")
        }
    }

    /// net.SplitHostPort for `host:port` and `[v6]:port`.
    static func splitHostPort(_ text: String) -> (String, String)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            return (String(text[text.index(after: text.startIndex)..<close]), String(text[text.index(close, offsetBy: 2)...]))
        }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}

extension Sidecar.OutboundTrafficPolicy {
    /// validateSidecarOutboundTrafficPolicy.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        guard let egressProxy else { return }
        let at = path.appending("egressProxy")
        if (mode ?? .registryOnly) != .allowAny {
            check.istio(at, "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode")
            return
        }
        check.istio(at.appending("host"), IstioFormat.validateFQDN(egressProxy.host))
        if egressProxy.port == nil {
            check.istio(at.appending("port"), "sidecar: egress_proxy port must be non-nil")
            return
        }
        egressProxy.check(at: at, &check)
    }
}
