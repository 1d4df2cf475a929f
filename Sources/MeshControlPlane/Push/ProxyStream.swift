import MeshModel

/// How one resource type stands with one proxy, as istioctl proxy-status
/// shows it (pilot/pkg/xds/debug.go `debugSyncStatus`, istioctl's `xdsStatus`).
public enum ProxySyncStatus: String, Sendable, CaseIterable {
    /// The proxy ACKed the last response meshd sent.
    case synced = "SYNCED"
    /// meshd sent a response the proxy has not answered yet.
    case stale = "STALE"
    /// meshd never sent this type (the proxy has not asked for it, or just connected).
    case notSent = "NOT SENT"
    /// The proxy refused (NACKed) the last response; it runs its previous config.
    case error = "ERROR"

    /// Istio's rules, in its order: nothing sent, then a NACK of the last
    /// response, then whether the ACKed nonce is the last one sent.
    public static func of(_ record: TypeSyncRecord) -> ProxySyncStatus {
        guard let sent = record.sentNonce else { return .notSent }
        if record.errorNonce == sent { return .error }
        return record.ackedNonce == sent ? .synced : .stale
    }
}

/// What meshd recorded for one proxy and one resource type.
public struct TypeSyncRecord: Sendable, Equatable {
    /// The proxy asked for this type on its current stream.
    public var subscribed = false
    public var sentVersion: String?
    public var sentNonce: String?
    /// Seconds since the epoch.
    public var sentAt: Int?
    public var resourceCount = 0
    /// The version and nonce of the last ACK (the config the proxy runs).
    public var ackedVersion: String?
    public var ackedNonce: String?
    public var ackedAt: Int?
    /// The last NACK: its error_detail message, the nonce it refused, when.
    public var lastError: String?
    public var errorNonce: String?
    public var errorAt: Int?

    public init() {}

    public var status: ProxySyncStatus { .of(self) }
}

/// The xDS state-of-the-world rules for one proxy's stream, as a pure state
/// machine: requests and new config in, responses to send out. No I/O, no
/// clock (times are passed in), so every rule is tested directly.
///
/// - A request with an empty `response_nonce` subscribes to its type (first
///   request, or again after a reconnect): meshd answers with the current
///   resources, whatever version the proxy says it has.
/// - A request whose nonce is not the last one sent for its type is stale
///   (it answers a response that was superseded): ignored, as Envoy's
///   servers do.
/// - The last nonce without `error_detail` is an ACK: recorded as the version
///   the proxy runs.
/// - The last nonce with `error_detail` is a NACK: the error is recorded and
///   nothing is resent; the proxy keeps its previous config until the config
///   for that type changes again (so a bad config is not retried in a loop).
/// - New config sends, in `ProxyResourceType.pushOrder`, only the subscribed
///   types whose version differs from the last one sent.
/// `resource_names` is not used: every response carries all resources of the
/// type (the sidecar wants them all; Envoy's EDS/RDS name filtering is an
/// optimisation meshlab does without).
public struct ProxyStream: Sendable {
    public let node: ProxyNode
    public private(set) var current: ProxyResources
    public private(set) var records: [ProxyResourceType: TypeSyncRecord] = [:]
    /// The resources each sent nonce carried, until it is answered or superseded
    /// (what an ACK makes the proxy's running config).
    private var sentResources: [ProxyResourceType: [JSONValue]] = [:]
    /// What the proxy runs by its last ACK, per type, for config_dump.
    public private(set) var ackedResources: [ProxyResourceType: [JSONValue]] = [:]
    private let noncePrefix: String
    private var nonceCounter = 0
    let controlPlane: String

    public init(node: ProxyNode, current: ProxyResources, noncePrefix: String, controlPlane: String) {
        self.node = node
        self.current = current
        self.noncePrefix = noncePrefix
        self.controlPlane = controlPlane
    }

    /// What a request from the proxy calls for. `now`: seconds since the epoch.
    public mutating func receive(_ request: DiscoveryRequest, now: Int) -> [DiscoveryResponse] {
        guard let type = ProxyResourceType(rawValue: request.typeURL), type != .secret else { return [] }
        var record = records[type] ?? TypeSyncRecord()
        defer { records[type] = record }
        if request.responseNonce.isEmpty {
            record.subscribed = true
            return [respond(type, &record, now: now)]
        }
        guard request.responseNonce == record.sentNonce else { return [] }  // stale
        if let error = request.errorDetail {
            record.lastError = error.message
            record.errorNonce = request.responseNonce
            record.errorAt = now
        } else {
            record.ackedVersion = request.versionInfo
            record.ackedNonce = request.responseNonce
            record.ackedAt = now
            ackedResources[type] = sentResources[type]
        }
        return []
    }

    /// Takes new config; returns the responses for the types that changed.
    public mutating func update(to resources: ProxyResources, now: Int) -> [DiscoveryResponse] {
        current = resources
        var responses: [DiscoveryResponse] = []
        for type in ProxyResourceType.pushOrder {
            guard var record = records[type], record.subscribed, record.sentVersion != resources[type].version else {
                continue
            }
            responses.append(respond(type, &record, now: now))
            records[type] = record
        }
        return responses
    }

    /// The stream ended: the proxy no longer subscribes to anything (its records stay).
    public mutating func disconnected() {
        for type in records.keys { records[type]?.subscribed = false }
    }

    private mutating func respond(_ type: ProxyResourceType, _ record: inout TypeSyncRecord, now: Int) -> DiscoveryResponse {
        nonceCounter += 1
        let nonce = "\(noncePrefix)-\(nonceCounter)"
        let entry = current[type]
        record.sentVersion = entry.version
        record.sentNonce = nonce
        record.sentAt = now
        record.resourceCount = entry.resources.count
        sentResources[type] = entry.resources
        return DiscoveryResponse(versionInfo: entry.version, resources: entry.resources, type: type, nonce: nonce,
                                 controlPlane: controlPlane)
    }
}
