import MeshModel

/// What translation reads: the store's objects that shape proxy config, taken
/// at one moment (Istio's PushContext). A value, so translation is a pure
/// function of it and tests build one by hand.
public struct MeshSnapshot: Sendable {
    public var services: [Service] = []
    public var endpoints: [Endpoints] = []
    public var pods: [Pod] = []
    public var namespaces: [Namespace] = []
    public var virtualServices: [VirtualService] = []
    public var destinationRules: [DestinationRule] = []
    public var serviceEntries: [ServiceEntry] = []
    public var sidecars: [Sidecar] = []
    public var peerAuthentications: [PeerAuthentication] = []
    public var authorizationPolicies: [AuthorizationPolicy] = []

    public init() {}
}

/// Translation: store objects → one sidecar's config (Istio's ConfigGenerator).
public enum ProxyConfigGenerator {
    /// The whole config for `proxy`; deterministic (sorted) so equal inputs give equal pushes.
    public static func config(for proxy: ProxyNode, snapshot: MeshSnapshot) -> ProxyConfig {
        // Filled in by the translation work of issue 4.
        ProxyConfig()
    }
}
