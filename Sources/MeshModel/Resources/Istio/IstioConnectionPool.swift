extension Istio {
    /// networking.ConnectionPoolSettings: circuit-breaker limits, used by
    /// DestinationRule traffic policies and Sidecar ingress listeners.
    public struct ConnectionPoolSettings: Codable, Sendable, Hashable {
        public var tcp: TCPSettings?
        public var http: HTTPSettings?

        public init(tcp: TCPSettings? = nil, http: HTTPSettings? = nil) {
            self.tcp = tcp
            self.http = http
        }

        public struct TCPSettings: Codable, Sendable, Hashable {
            /// Istio's default is 2^32-1 (effectively unlimited).
            public var maxConnections: Int32?
            /// Default 10s.
            public var connectTimeout: ProtoDuration?
            public var tcpKeepalive: TCPKeepalive?
            public var maxConnectionDuration: ProtoDuration?
            public var idleTimeout: ProtoDuration?

            public init(maxConnections: Int32? = nil, connectTimeout: ProtoDuration? = nil) {
                self.maxConnections = maxConnections
                self.connectTimeout = connectTimeout
            }
        }

        public struct TCPKeepalive: Codable, Sendable, Hashable {
            public var probes: UInt32?
            public var time: ProtoDuration?
            public var interval: ProtoDuration?
        }

        public struct HTTPSettings: Codable, Sendable, Hashable {
            public var http1MaxPendingRequests: Int32?
            public var http2MaxRequests: Int32?
            /// 0 means unlimited; 1 turns keep-alive off.
            public var maxRequestsPerConnection: Int32?
            public var maxRetries: Int32?
            /// Default 1h.
            public var idleTimeout: ProtoDuration?
            public var h2UpgradePolicy: H2UpgradePolicy?
            public var useClientProtocol: Bool?
            public var maxConcurrentStreams: Int32?
            public var http2KeepAlive: HTTP2KeepAlive?

            public init(http1MaxPendingRequests: Int32? = nil, http2MaxRequests: Int32? = nil,
                        maxRequestsPerConnection: Int32? = nil, maxRetries: Int32? = nil) {
                self.http1MaxPendingRequests = http1MaxPendingRequests
                self.http2MaxRequests = http2MaxRequests
                self.maxRequestsPerConnection = maxRequestsPerConnection
                self.maxRetries = maxRetries
            }
        }

        public enum H2UpgradePolicy: String, SchemaEnum {
            case `default` = "DEFAULT"
            case doNotUpgrade = "DO_NOT_UPGRADE"
            case upgrade = "UPGRADE"
        }

        /// HTTP/2 PING keep-alive toward upstream connections.
        public struct HTTP2KeepAlive: Codable, Sendable, Hashable {
            public var interval: ProtoDuration?
            public var timeout: ProtoDuration?
        }
    }
}

extension Istio.ConnectionPoolSettings: IstioCheckable {
    /// The CRD's duration rules, then validateConnectionPool.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let tcpPath = path.appending("tcp")
        let httpPath = path.appending("http")
        if tcp == nil && http == nil {
            check.istio(path, "connection pool must have at least one field")
            return
        }
        if let http {
            let nonNegative: [(String, Int32?, String)] = [
                ("http1MaxPendingRequests", http.http1MaxPendingRequests, "http1 max pending requests must be non-negative"),
                ("http2MaxRequests", http.http2MaxRequests, "http2 max requests must be non-negative"),
                ("maxRequestsPerConnection", http.maxRequestsPerConnection, "max requests per connection must be non-negative"),
                ("maxRetries", http.maxRetries, "max retries must be non-negative"),
                ("maxConcurrentStreams", http.maxConcurrentStreams, "max concurrent streams must be non-negative"),
            ]
            for (name, value, message) in nonNegative where (value ?? 0) < 0 { check.istio(httpPath.appending(name), message) }
            check.istio(httpPath.appending("idleTimeout"), http.idleTimeout?.istioError)
            if http.h2UpgradePolicy == .upgrade && http.useClientProtocol == true {
                check.istio(httpPath, "use client protocol must not be true when H2UpgradePolicy is UPGRADE")
            }
        }
        if let tcp {
            if (tcp.maxConnections ?? 0) < 0 { check.istio(tcpPath.appending("maxConnections"), "max connections must be non-negative") }
            check.istio(tcpPath.appending("connectTimeout"), tcp.connectTimeout?.istioError)
            check.istio(tcpPath.appending("maxConnectionDuration"), tcp.maxConnectionDuration?.istioError)
            check.istio(tcpPath.appending("idleTimeout"), tcp.idleTimeout?.istioError)
            check.istio(tcpPath.appending("tcpKeepalive").appending("time"), tcp.tcpKeepalive?.time?.istioError)
            check.istio(tcpPath.appending("tcpKeepalive").appending("interval"), tcp.tcpKeepalive?.interval?.istioError)
        }
    }
}
