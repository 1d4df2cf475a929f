import MeshModel

/// A Pod's create and update rules: there is no scheduler, so a new pod is
/// bound to the lab's one node at once; its service account must exist
/// (the ServiceAccount admission plugin); its spec is then immutable but
/// for images and a few fields.
struct PodStrategy: ResourceStrategy {
    let store: ResourceStore
    /// What `spec.nodeName` says on every pod: the node agent runs them all.
    let nodeName: String

    func beforeCreate(_ object: inout JSONValue) throws(StatusObject) {
        if (object[path: "spec.nodeName"]?.stringValue ?? "").isEmpty {
            object[path: "spec.nodeName"] = .string(nodeName)
        }
        // Admission runs before a generated name is made: the message names the pod by its prefix.
        let metadata = object["metadata"]
        let name = metadata?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? metadata?["generateName"]?.stringValue ?? ""
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        // Defaulting has set serviceAccountName ("default" when none was given).
        let account = object[path: "spec.serviceAccountName"]?.stringValue ?? "default"
        let key = ObjectKey(GroupResource(resource: "serviceaccounts"), namespace: namespace, name: account)
        do {
            _ = try store.get(key)
        } catch .notFound {
            throw StatusObject(
                code: 403, reason: .forbidden,
                message: "pods \"\(name)\" is forbidden: error looking up service account \(namespace)/\(account): serviceaccount \"\(account)\" not found",
                kind: "pods", name: name)
        } catch {
            throw StatusObject(error, descriptor: Pod.descriptor)
        }
    }

    func validateUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {
        let errors = try typed(Pod.self, object).validateUpdate(from: try typed(Pod.self, old))
        if !errors.isEmpty {
            throw StatusObject.invalid(Pod.descriptor, name: object["metadata"]?["name"]?.stringValue ?? "", errors: errors)
        }
    }
}

/// apps/v1 Deployments: the selector cannot change after creation.
struct DeploymentStrategy: ResourceStrategy {
    func validateUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {
        let errors = try typed(Deployment.self, object).validateUpdate(from: try typed(Deployment.self, old))
        if !errors.isEmpty {
            throw StatusObject.invalid(Deployment.descriptor, name: object["metadata"]?["name"]?.stringValue ?? "",
                                       errors: errors)
        }
    }
}

/// A new namespace gets its `default` ServiceAccount at once, in the same
/// request, rather than a moment later from the ServiceAccount controller
/// as in Kubernetes: a manifest that creates a namespace and then pods in
/// it (which need that account) works without retries. The controller
/// still covers namespaces made otherwise (the daemon's bootstrap) and a
/// deleted `default`. Deleting a namespace deletes its services in the
/// store, so the ClusterIP pool is re-read afterwards.
struct NamespaceStrategy: ResourceStrategy {
    let store: ResourceStore
    let clusterIPs: ClusterIPAllocator

    func afterCreate(_ object: JSONValue, stored: Bool) {
        guard stored, let name = object["metadata"]?["name"]?.stringValue else { return }
        _ = try? store.create(GroupResource(resource: "serviceaccounts"), Self.defaultServiceAccount(namespace: name))
    }

    func afterDelete(_ object: JSONValue) {
        clusterIPs.resync()
    }

    /// The `default` ServiceAccount of `namespace`.
    static func defaultServiceAccount(namespace: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default", "namespace": .string(namespace)]]
    }
}
