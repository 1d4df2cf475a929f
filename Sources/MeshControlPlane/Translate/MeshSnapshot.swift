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
///
/// What is modelled, and what is left out, is written at each part:
/// `OutboundListeners` (listeners, routes, protocol), `HTTPRouteBuilder`
/// (VirtualService http rules), `RetryPolicies`, `OutboundClusters`
/// (DestinationRule policy, subsets, endpoints), `InboundConfig`,
/// `ProxyScope` (Sidecar resource, exportTo).
public enum ProxyConfigGenerator {
    /// The whole config for `proxy`; deterministic (sorted) so equal inputs give equal pushes.
    public static func config(for proxy: ProxyNode, snapshot: MeshSnapshot) -> ProxyConfig {
        let index = SnapshotIndex(snapshot)
        let scope = ProxyScope(proxy: proxy, index: index, registry: RegistryService.all(in: snapshot))
        let outbound = OutboundListeners.build(scope: scope, snapshot: snapshot)
        let (clusters, endpoints) = OutboundClusters.build(scope: scope, index: index)
        let inbound = InboundConfig.build(scope: scope, snapshot: snapshot)
        return ProxyConfig(
            listeners: (outbound.listeners + [inbound.listener]).sorted { $0.name < $1.name },
            routes: outbound.routes.sorted { $0.name < $1.name },
            clusters: (clusters + inbound.clusters + OutboundListeners.fixedClusters).sorted { $0.name < $1.name },
            endpoints: endpoints.sorted { $0.clusterName < $1.clusterName })
    }
}
