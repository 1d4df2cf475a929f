import MeshModel

/// The objects a fresh cluster has before anyone applies anything.
enum Bootstrap {
    /// Kubernetes' own namespaces, and istio-system: the lab is a cluster
    /// with Istio installed, so Istio's root namespace exists (mesh-wide
    /// PeerAuthentication lives there).
    static let namespaces = ["default", "kube-system", "kube-public", "kube-node-lease", "istio-system"]

    /// Creates what is missing; returns how many objects it created.
    @discardableResult
    static func seed(_ store: ResourceStore) throws -> Int {
        var created = 0
        for name in namespaces where !store.namespaceExists(name) {
            let object: JSONValue = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": ["name": .string(name), "labels": ["kubernetes.io/metadata.name": .string(name)]],
                "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
            ]
            try store.create(.namespaces, object)
            created += 1
        }
        return created
    }
}
