/// networking.istio.io DestinationRule: policies for traffic to a host after
/// routing (load balancing, connection pools, outlier detection, TLS) and its
/// named subsets (proto networking/v1alpha3/destination_rule.proto).
public struct DestinationRule: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "DestinationRule",
        plural: "destinationrules", shortNames: ["dr"])

    public var metadata: ObjectMeta
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
        /// The registry host the rule applies to; a short name resolves in the rule's namespace.
        public var host: String
        public var trafficPolicy: TrafficPolicy?
        public var subsets: [Subset]?
        public var exportTo: [String]?
        public var workloadSelector: Istio.WorkloadSelector?

        public init(host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset]? = nil) {
            self.host = host
            self.trafficPolicy = trafficPolicy
            self.subsets = subsets
        }

        /// The subset named `name`, if any.
        public func subset(named name: String) -> Subset? { subsets?.first { $0.name == name } }
    }

    public struct Subset: Codable, Sendable, Hashable {
        public var name: String
        /// Endpoints whose labels include all of these belong to the subset.
        public var labels: [String: String]?
        /// Overrides the top-level policy for this subset.
        public var trafficPolicy: TrafficPolicy?

        public init(name: String, labels: [String: String]? = nil, trafficPolicy: TrafficPolicy? = nil) {
            self.name = name
            self.labels = labels
            self.trafficPolicy = trafficPolicy
        }
    }

    public struct TrafficPolicy: Codable, Sendable, Hashable {
        public var loadBalancer: LoadBalancerSettings?
        public var connectionPool: Istio.ConnectionPoolSettings?
        /// Ejection is off unless this is set.
        public var outlierDetection: OutlierDetection?
        public var tls: ClientTLSSettings?
        public var portLevelSettings: [PortTrafficPolicy]?
        public var tunnel: TunnelSettings?
        public var proxyProtocol: ProxyProtocol?
        public var retryBudget: RetryBudget?

        public init(loadBalancer: LoadBalancerSettings? = nil, connectionPool: Istio.ConnectionPoolSettings? = nil,
                    outlierDetection: OutlierDetection? = nil, tls: ClientTLSSettings? = nil) {
            self.loadBalancer = loadBalancer
            self.connectionPool = connectionPool
            self.outlierDetection = outlierDetection
            self.tls = tls
        }
    }

    public struct PortTrafficPolicy: Codable, Sendable, Hashable {
        public var port: Istio.PortSelector?
        public var loadBalancer: LoadBalancerSettings?
        public var connectionPool: Istio.ConnectionPoolSettings?
        public var outlierDetection: OutlierDetection?
        public var tls: ClientTLSSettings?
    }

    public struct LoadBalancerSettings: Codable, Sendable, Hashable {
        /// Unset means Istio's default, LEAST_REQUEST.
        public var simple: SimpleLB?
        public var consistentHash: ConsistentHashLB?
        public var localityLbSetting: LocalityLoadBalancerSetting?
        /// Deprecated: use `warmup`.
        public var warmupDurationSecs: ProtoDuration?
        public var warmup: WarmupConfiguration?

        public init(simple: SimpleLB? = nil, consistentHash: ConsistentHashLB? = nil) {
            self.simple = simple
            self.consistentHash = consistentHash
        }
    }

    public enum SimpleLB: String, SchemaEnum {
        case unspecified = "UNSPECIFIED"
        /// Deprecated; treated as LEAST_REQUEST.
        case leastConn = "LEAST_CONN"
        case random = "RANDOM"
        /// Forward to the original destination address.
        case passthrough = "PASSTHROUGH"
        case roundRobin = "ROUND_ROBIN"
        case leastRequest = "LEAST_REQUEST"
    }

    public struct ConsistentHashLB: Codable, Sendable, Hashable {
        public var httpHeaderName: String?
        public var httpCookie: HTTPCookie?
        public var useSourceIp: Bool?
        public var httpQueryParameterName: String?
        public var ringHash: RingHash?
        public var maglev: MagLev?
        /// Deprecated: use `ringHash.minimumRingSize`.
        public var minimumRingSize: UInt64?

        public struct HTTPCookie: Codable, Sendable, Hashable {
            public var name: String
            public var path: String?
            /// Lifetime of the cookie Istio generates when the request has
            /// none; `0s` makes it a session cookie (so this is not a
            /// `ProtoDuration`, which is at least 1ms). Absent: no cookie is generated.
            public var ttl: String?
            public var attributes: [Attribute]?
        }

        public struct Attribute: Codable, Sendable, Hashable {
            public var name: String?
            public var value: String?
        }

        public struct RingHash: Codable, Sendable, Hashable {
            public var minimumRingSize: UInt64?
        }

        public struct MagLev: Codable, Sendable, Hashable {
            public var tableSize: UInt64?
        }
    }

    public struct LocalityLoadBalancerSetting: Codable, Sendable, Hashable {
        public var distribute: [Distribute]?
        public var failover: [Failover]?
        public var failoverPriority: [String]?
        public var enabled: Bool?

        public struct Distribute: Codable, Sendable, Hashable {
            /// `region/zone/subzone`, `*` allowed at the end.
            public var from: String?
            /// Locality to weight; weights add up to 100.
            public var to: [String: UInt32]?
        }

        public struct Failover: Codable, Sendable, Hashable {
            public var from: String?
            public var to: String?
        }
    }

    public struct WarmupConfiguration: Codable, Sendable, Hashable {
        public var duration: ProtoDuration
        public var minimumPercent: Double?
        public var aggression: Double?
    }

    public struct OutlierDetection: Codable, Sendable, Hashable {
        /// Deprecated: use consecutive5xxErrors or consecutiveGatewayErrors.
        public var consecutiveErrors: Int32?
        public var splitExternalLocalOriginErrors: Bool?
        public var consecutiveLocalOriginFailures: UInt32?
        /// 502, 503, 504 only; off by default.
        public var consecutiveGatewayErrors: UInt32?
        /// Default 5; 0 disables.
        public var consecutive5xxErrors: UInt32?
        /// Default 10s.
        public var interval: ProtoDuration?
        /// Default 30s, times the number of ejections so far.
        public var baseEjectionTime: ProtoDuration?
        /// Default 10.
        public var maxEjectionPercent: Int32?
        /// Istio's default 0 turns Envoy's panic threshold off.
        public var minHealthPercent: Int32?

        public init(consecutive5xxErrors: UInt32? = nil, interval: ProtoDuration? = nil, baseEjectionTime: ProtoDuration? = nil) {
            self.consecutive5xxErrors = consecutive5xxErrors
            self.interval = interval
            self.baseEjectionTime = baseEjectionTime
        }
    }

    /// networking.ClientTLSSettings: TLS toward the upstream.
    public struct ClientTLSSettings: Codable, Sendable, Hashable {
        public var mode: Mode?
        public var clientCertificate: String?
        public var privateKey: String?
        public var caCertificates: String?
        public var credentialName: String?
        public var subjectAltNames: [String]?
        public var sni: String?
        public var insecureSkipVerify: Bool?
        public var caCrl: String?

        public init(mode: Mode? = nil) { self.mode = mode }

        public enum Mode: String, SchemaEnum {
            case disable = "DISABLE"
            case simple = "SIMPLE"
            case mutual = "MUTUAL"
            /// mTLS with the certificates Istio issues.
            case istioMutual = "ISTIO_MUTUAL"
        }
    }

    public struct TunnelSettings: Codable, Sendable, Hashable {
        /// `CONNECT` (default) or `POST`.
        public var `protocol`: String?
        public var targetHost: String
        public var targetPort: UInt32
    }

    public struct ProxyProtocol: Codable, Sendable, Hashable {
        public var version: Version?

        public enum Version: String, SchemaEnum {
            case v1 = "V1"
            case v2 = "V2"
        }
    }

    public struct RetryBudget: Codable, Sendable, Hashable {
        public var percent: Double?
        public var minRetryConcurrency: UInt32?
    }
}

// MARK: - Checks (ValidateDestinationRule and the CRD)

extension DestinationRule.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        check.istio(path.appending("host"), IstioFormat.validateWildcardDomain(host))
        trafficPolicy.check(at: path.appending("trafficPolicy"), &check)
        var names: Set<String> = []
        for (index, subset) in (subsets ?? []).enumerated() {
            let at = path.appending("subsets").appending(index: index)
            if !names.insert(subset.name).inserted {
                check.istio(at.appending("name"), "duplicate subset names: \(subset.name)")
            }
            check.istio(at.appending("name"), Istio.Destination.subsetNameError(subset.name))
            check.labels(at.appending("labels"), subset.labels)
            subset.trafficPolicy.check(at: at.appending("trafficPolicy"), &check)
        }
        for error in IstioFormat.validateExportTo(namespace: check.namespace, exportTo, isServiceEntry: false,
                                                  isDestinationRuleWithSelector: workloadSelector != nil) {
            check.istio(path.appending("exportTo"), error)
        }
        workloadSelector.check(at: path.appending("workloadSelector"), &check)
    }
}

extension DestinationRule.TrafficPolicy: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if let portLevelSettings {
            check.maxItems(path.appending("portLevelSettings"), count: portLevelSettings.count, 4096)
        }
        if let retryBudget {
            let at = path.appending("retryBudget")
            if let percent = retryBudget.percent {
                check.minimum(at.appending("percent"), percent, 0)
                check.maximum(at.appending("percent"), percent, 100)
            }
        }

        if outlierDetection == nil && connectionPool == nil && loadBalancer == nil && tls == nil && portLevelSettings == nil
            && tunnel == nil && proxyProtocol == nil && retryBudget == nil
        {
            check.istio(path, "traffic policy must have at least one field")
            return
        }
        if tunnel != nil && proxyProtocol != nil {
            check.istio(path, "tunnel and proxyProtocol must not be set together")
            return
        }
        outlierDetection.check(at: path.appending("outlierDetection"), &check)
        connectionPool.check(at: path.appending("connectionPool"), &check)
        loadBalancer?.check(at: path.appending("loadBalancer"), outlierDetection: outlierDetection, &check)
        tls.check(at: path.appending("tls"), &check)
        for (index, policy) in (portLevelSettings ?? []).enumerated() {
            policy.check(at: path.appending("portLevelSettings").appending(index: index), &check)
        }
        tunnel.check(at: path.appending("tunnel"), &check)
    }
}

extension DestinationRule.PortTrafficPolicy: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if port == nil { check.istio(path, "portTrafficPolicy must have valid port") }
        if outlierDetection == nil && connectionPool == nil && loadBalancer == nil && tls == nil {
            check.istio(path, "port traffic policy must have at least one field")
            return
        }
        outlierDetection.check(at: path.appending("outlierDetection"), &check)
        connectionPool.check(at: path.appending("connectionPool"), &check)
        loadBalancer?.check(at: path.appending("loadBalancer"), outlierDetection: outlierDetection, &check)
        tls.check(at: path.appending("tls"), &check)
    }
}

extension DestinationRule.LoadBalancerSettings {
    func check(at path: FieldPath, outlierDetection: DestinationRule.OutlierDetection?, _ check: inout IstioCheck) {
        check.oneOf(path, [simple.map { _ in "simple" }, consistentHash.map { _ in "consistentHash" }].compactMap { $0 })
        if let warmup {
            let at = path.appending("warmup")
            if let minimumPercent = warmup.minimumPercent {
                check.minimum(at.appending("minimumPercent"), minimumPercent, 0)
                check.maximum(at.appending("minimumPercent"), minimumPercent, 100)
            }
            if let aggression = warmup.aggression { check.minimum(at.appending("aggression"), aggression, 1) }
        }

        if let hash = consistentHash {
            let at = path.appending("consistentHash")
            check.oneOf(at, [hash.httpHeaderName.map { _ in "httpHeaderName" }, hash.httpCookie.map { _ in "httpCookie" },
                             hash.useSourceIp.map { _ in "useSourceIp" }, hash.httpQueryParameterName.map { _ in "httpQueryParameterName" }]
                .compactMap { $0 })
            check.oneOf(at, [hash.ringHash.map { _ in "ringHash" }, hash.maglev.map { _ in "maglev" }].compactMap { $0 })

            if let cookie = hash.httpCookie {
                if cookie.name.isEmpty { check.istio(at.appending("httpCookie").appending("name"), "name required for HttpCookie") }
                if let ttl = cookie.ttl, ProtoDuration(parsing: ttl) == nil {
                    check.istio(at.appending("httpCookie").appending("ttl"), "invalid duration \(IstioFormat.goQuote(ttl))")
                }
            }
            let minimumRingSize = hash.minimumRingSize ?? 0
            if minimumRingSize != 0 {
                check.istioWarning(at.appending("minimumRingSize"),
                    "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead")
                if hash.ringHash != nil || hash.maglev != nil {
                    check.istio(at, "only one of MinimumRingSize or Maglev/Ringhash can be specified")
                }
            }
            if let maglev = hash.maglev {
                let tableSize = Int(clamping: maglev.tableSize ?? 0)
                let tablePath = at.appending("maglev").appending("tableSize")
                if tableSize == 0 { check.istio(tablePath, "tableSize must be set for maglev") }
                if tableSize >= 5_000_011 { check.istio(tablePath, "tableSize must be less than 5000011 for maglev") }
                if !Self.isPrime(tableSize) { check.istio(tablePath, "tableSize must be a prime number for maglev") }
            }
        }
        localityLbSetting?.check(at: path.appending("localityLbSetting"), outlierDetection: outlierDetection, &check)
        check.istio(path.appending("warmupDurationSecs"), warmupDurationSecs?.istioError)
    }

    /// Envoy's primality test, which Istio copies so both agree.
    static func isPrime(_ x: Int) -> Bool {
        if x > 0 && x < 4 { return true }
        if x & 1 == 0 { return false }
        var factor = 3
        while factor * factor <= x {
            if x % factor == 0 { return false }
            factor += 2
        }
        return true
    }
}

extension DestinationRule.LocalityLoadBalancerSetting {
    /// agent.ValidateLocalityLbSetting.
    func check(at path: FieldPath, outlierDetection: DestinationRule.OutlierDetection?, _ check: inout IstioCheck) {
        let distribute = self.distribute ?? []
        let failover = self.failover ?? []
        let failoverPriority = self.failoverPriority ?? []
        if !distribute.isEmpty && !failover.isEmpty {
            check.istio(path, "can not simultaneously specify 'distribute' and 'failover'")
            return
        }
        if !failover.isEmpty {
            let topology = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"]
            if let label = failoverPriority.first(where: topology.contains) {
                check.istio(path.appending("failoverPriority"),
                    "can not simultaneously set 'failover' and topology label '\(label)' in 'failover_priority'")
                return
            }
        }
        for (index, entry) in distribute.enumerated() {
            let at = path.appending("distribute").appending(index: index)
            var total: UInt32 = 0
            for weight in (entry.to ?? [:]).values {
                if weight <= 0 || weight > 100 {
                    check.istio(at.appending("to"), "locality weight must be in range [1, 100]")
                    return
                }
                total &+= weight
            }
            if total != 100 {
                check.istio(at.appending("to"), "total locality weight \(total) != 100")
                return
            }
            check.istio(at.appending("to"), Self.localitiesError((entry.to ?? [:]).keys.sorted()))
        }
        check.istio(path.appending("distribute"), Self.localitiesError(distribute.map { $0.from ?? "" }))
        if (!failover.isEmpty || !failoverPriority.isEmpty) && outlierDetection == nil {
            check.istioWarning(path, "outlier detection policy must be provided for failover")
        }
        for (index, entry) in failover.enumerated() {
            let at = path.appending("failover").appending(index: index)
            let from = entry.from ?? ""
            let to = entry.to ?? ""
            if from == to { check.istio(at, "locality lb failover settings must specify different regions") }
            if from.contains("/") || to.contains("/") { check.istio(at, "locality lb failover only specify region") }
            if from.contains("*") || to.contains("*") { check.istio(at, "locality lb failover region should not contain '*' wildcard") }
        }
    }

    /// validateLocalities: `region/zone/subzone` patterns that neither repeat
    /// nor contain one another.
    static func localitiesError(_ localities: [String]) -> String? {
        var seen: [String: [String: Set<String>]] = [:]
        for locality in localities {
            let stars = locality.filter { $0 == "*" }.count
            if stars > 1 || (stars == 1 && !locality.hasSuffix("*")) {
                return "locality \(locality) wildcard '*' number can not exceed 1 and must be in the end"
            }
            if seen["*"] != nil { return "locality \(locality) overlap with previous specified ones" }
            let items = locality.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if items.contains(where: \.isEmpty) { return "locality \(locality) must not contain empty region/zone/subzone info" }
            let overlap = "locality \(locality) overlap with previous specified ones"
            let region = items[0]
            switch items.count {
            case 1:
                if seen[region] != nil { return overlap }
                seen[region] = ["*": ["*"]]
            case 2:
                if let zones = seen[region] {
                    if zones["*"] != nil || zones[items[1]] != nil { return overlap }
                    seen[region]![items[1]] = ["*"]
                } else {
                    seen[region] = [items[1]: ["*"]]
                }
            default:
                if let zones = seen[region] {
                    if zones["*"] != nil { return overlap }
                    if let subzones = zones[items[1]] {
                        if subzones.contains("*") || subzones.contains(items[2]) { return overlap }
                        seen[region]![items[1]]!.insert(items[2])
                    } else {
                        seen[region]![items[1]] = [items[2]]
                    }
                } else {
                    seen[region] = [items[1]: [items[2]]]
                }
            }
        }
        return nil
    }
}

extension DestinationRule.OutlierDetection: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        check.istio(path.appending("baseEjectionTime"), baseEjectionTime?.istioError)
        if (consecutiveErrors ?? 0) != 0 {
            check.istioWarning(path.appending("consecutiveErrors"),
                "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead")
        }
        if splitExternalLocalOriginErrors != true && (consecutiveLocalOriginFailures ?? 0) > 0 {
            check.istio(path.appending("consecutiveLocalOriginFailures"),
                "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false")
        }
        check.istio(path.appending("interval"), interval?.istioError)
        for (field, value) in [("maxEjectionPercent", maxEjectionPercent), ("minHealthPercent", minHealthPercent)] {
            if let value, value < 0 || value > 100 { check.istio(path.appending(field), "percentage \(value) is not in range 0..100") }
        }
    }
}

extension DestinationRule.ClientTLSSettings: IstioCheckable {
    /// agent.ValidateTLS.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let empty: (String?) -> Bool = { ($0 ?? "").isEmpty }
        if insecureSkipVerify == true {
            if mode == .simple && (!empty(caCertificates) || !empty(credentialName) || subjectAltNames != nil) {
                check.istio(path, "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true")
            }
            if mode == .mutual && (!empty(caCertificates) || subjectAltNames != nil) {
                check.istio(path, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true")
            }
        }
        if (mode == .simple || mode == .mutual) && !empty(credentialName) {
            if !empty(clientCertificate) || !empty(caCertificates) || !empty(privateKey) || !empty(caCrl) {
                check.istio(path, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set")
            }
            return
        }
        if mode == .mutual {
            if empty(clientCertificate) { check.istio(path, "client certificate required for mutual tls") }
            if empty(privateKey) { check.istio(path, "private key required for mutual tls") }
        }
    }
}

extension DestinationRule.TunnelSettings: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if let `protocol`, !`protocol`.isEmpty, `protocol` != "CONNECT", `protocol` != "POST" {
            check.istio(path.appending("protocol"), #"tunnel protocol must be "CONNECT" or "POST""#)
        }
        if let fqdnError = IstioFormat.validateFQDN(targetHost), let ipError = IstioFormat.validateIPAddress(targetHost) {
            check.istio(path.appending("targetHost"), "tunnel target host must be valid FQDN or IP address: \(fqdnError); \(ipError)")
        }
        if let error = IstioFormat.validatePort(Int(targetPort)) {
            check.istio(path.appending("targetPort"), "tunnel target port is invalid: \(error)")
        }
    }
}
