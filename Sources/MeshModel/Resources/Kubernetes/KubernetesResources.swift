extension ResourceRegistry {
    /// The Kubernetes kinds meshlab serves (filled in as their types land).
    static let kubernetesResources: [RegisteredResource] = []
}
