extension ResourceRegistry {
    /// The Istio kinds meshlab serves (filled in as their types land).
    static let istioResources: [RegisteredResource] = []
}
