/// How a server treats its connections.
public struct HTTPServerConfiguration: Sendable {
    /// Parser limits: request line (414), header block (431), body (413).
    public var limits: HTTPParserLimits
    /// How long a kept-alive connection may wait for its next request before it is closed.
    public var idleTimeout: Duration
    /// How long a started request may stall (no bytes of its head or body) before 408 / close.
    public var readTimeout: Duration
    /// How long a write may make no progress (a client that stopped reading) before the connection is dropped.
    public var writeTimeout: Duration
    /// Requests served on one connection before it is closed; nil for no limit.
    public var maxRequestsPerConnection: Int?
    /// Request body bytes the server reads and discards when a handler left them unread,
    /// to keep the connection; beyond this it closes instead.
    public var maxDiscardBytes: Int
    /// `Server` header value added to responses that have none; nil for none.
    public var serverName: String?
    /// Whether to add a `Date` header to responses that have none.
    public var sendsDate: Bool

    public init(limits: HTTPParserLimits = HTTPParserLimits(), idleTimeout: Duration = .seconds(75),
                readTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(30),
                maxRequestsPerConnection: Int? = nil, maxDiscardBytes: Int = 256 * 1024,
                serverName: String? = nil, sendsDate: Bool = true) {
        self.limits = limits
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.maxDiscardBytes = maxDiscardBytes
        self.serverName = serverName
        self.sendsDate = sendsDate
    }
}
