import MeshModel

/// The objects a fresh cluster has before anyone applies anything.
enum Bootstrap {
    /// Kubernetes' own namespaces, and istio-system: the lab is a cluster
    /// with Istio installed, so Istio's root namespace exists (mesh-wide
    /// PeerAuthentication lives there).
    static let namespaces = ["default", "kube-system", "kube-public", "kube-node-lease", "istio-system"]

    /// Creates what is missing (the namespaces, and every namespace's
    /// `default` ServiceAccount); returns how many objects it created.
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
        // Every namespace's `default` ServiceAccount, before the API serves:
        // a pod applied the moment the lab is up must not wait for the controller.
        let accounts = GroupResource(resource: "serviceaccounts")
        for namespace in store.list(.namespaces).items.compactMap({ $0["metadata"]?["name"]?.stringValue }) {
            guard (try? store.get(ObjectKey(accounts, namespace: namespace, name: "default"))) == nil else { continue }
            try store.create(accounts, NamespaceStrategy.defaultServiceAccount(namespace: namespace))
            created += 1
        }
        return created
    }
}
