extension ResourceRegistry {
    /// The Istio kinds meshlab serves.
    static let istioResources: [RegisteredResource] = [
        RegisteredResource(VirtualService.self),
        RegisteredResource(DestinationRule.self),
        RegisteredResource(Gateway.self),
        RegisteredResource(ServiceEntry.self),
        RegisteredResource(Sidecar.self),
        RegisteredResource(PeerAuthentication.self),
        RegisteredResource(AuthorizationPolicy.self),
        RegisteredResource(RequestAuthentication.self),
    ]
}
