// The push stream between meshd and a sidecar: xDS state-of-the-world
// messages (envoy/service/discovery/v3/discovery.proto) as JSON. Each
// resource type is versioned on its own.
//
// - meshd → sidecar: a DiscoveryResponse with all resources of one type, a
//   new `versionInfo` and a fresh `nonce`.
// - sidecar → meshd: ACK = a DiscoveryRequest with that nonce and the new
//   version; NACK = that nonce, the *previous* version and `errorDetail`
//   (the sidecar keeps its previous config). The first request of each type
//   has an empty version and nonce and carries the node.

/// The resource types, by Envoy's type URLs.
public enum ProxyResourceType: String, SchemaEnum {
    case cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    case endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    case listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    case route = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    case secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

    /// istioctl's short names: CDS, EDS, LDS, RDS, SDS.
    public var shortName: String {
        switch self {
        case .cluster: "CDS"
        case .endpoint: "EDS"
        case .listener: "LDS"
        case .route: "RDS"
        case .secret: "SDS"
        }
    }

    /// Envoy's order for pushes that change several types: clusters before
    /// the endpoints and listeners that use them, routes last.
    public static let pushOrder: [ProxyResourceType] = [.cluster, .endpoint, .listener, .route]
}

/// google.rpc.Status, as NACKs carry it.
public struct ErrorDetail: Codable, Sendable, Hashable {
    public var code: Int
    public var message: String

    public init(code: Int = 3, message: String) {  // 3: INVALID_ARGUMENT
        self.code = code
        self.message = message
    }
}

public struct DiscoveryRequest: Codable, Sendable, Hashable {
    /// The version the sidecar runs now ("" before the first ACK).
    public var versionInfo: String
    /// Sent at least with the stream's first request.
    public var node: ProxyNode?
    public var resourceNames: [String]?
    public var typeURL: String
    /// The nonce of the response this ACKs or NACKs ("" on a first request).
    public var responseNonce: String
    /// Set on a NACK.
    public var errorDetail: ErrorDetail?

    public init(versionInfo: String = "", node: ProxyNode? = nil, resourceNames: [String]? = nil,
                type: ProxyResourceType, responseNonce: String = "", errorDetail: ErrorDetail? = nil) {
        self.versionInfo = versionInfo
        self.node = node
        self.resourceNames = resourceNames
        self.typeURL = type.rawValue
        self.responseNonce = responseNonce
        self.errorDetail = errorDetail
    }

    enum CodingKeys: String, CodingKey {
        case versionInfo = "version_info", node, resourceNames = "resource_names", typeURL = "type_url"
        case responseNonce = "response_nonce", errorDetail = "error_detail"
    }
}

public struct DiscoveryResponse: Codable, Sendable, Hashable {
    public var versionInfo: String
    /// The resources, each the JSON of a Listener, RouteConfiguration,
    /// Cluster or ClusterLoadAssignment (Envoy's `Any`): a sidecar decodes
    /// them itself, so a resource it cannot accept becomes a NACK, not a
    /// broken stream.
    public var resources: [JSONValue]
    public var typeURL: String
    public var nonce: String
    /// Who sent it (`meshd` and its version).
    public var controlPlane: String?

    public init(versionInfo: String, resources: [JSONValue], type: ProxyResourceType, nonce: String,
                controlPlane: String? = nil) {
        self.versionInfo = versionInfo
        self.resources = resources
        self.typeURL = type.rawValue
        self.nonce = nonce
        self.controlPlane = controlPlane
    }

    enum CodingKeys: String, CodingKey {
        case versionInfo = "version_info", resources, typeURL = "type_url", nonce, controlPlane = "control_plane"
    }
}
