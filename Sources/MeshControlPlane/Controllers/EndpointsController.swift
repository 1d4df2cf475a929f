import MeshModel

/// Keeps the Endpoints of every Service with a selector equal to what
/// `EndpointsReconciler` derives from the pods; deletes them with their
/// Service. Endpoints of Services without a selector are the user's.
struct EndpointsController: Controller {
    let api: LocalAPI
    let log: @Sendable (String) -> Void

    static let services = GroupResource(resource: "services")
    static let pods = GroupResource(resource: "pods")
    static let endpoints = GroupResource(resource: "endpoints")

    var name: String { "endpoints" }
    var watches: [GroupResource] { [Self.services, Self.pods, Self.endpoints] }
    var store: ResourceStore { api.store }

    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey] {
        let metadata = event.object["metadata"]
        let namespace = metadata?["namespace"]?.stringValue ?? ""
        let name = metadata?["name"]?.stringValue ?? ""
        switch resource {
        case Self.services:
            return [ObjectKey(Self.services, namespace: namespace, name: name)]
        case Self.endpoints:
            // Put back Endpoints someone deleted (as the endpoints controller does).
            return event.type == .deleted ? [ObjectKey(Self.services, namespace: namespace, name: name)] : []
        default:
            // A pod's labels may have changed, so every Service of its
            // namespace that selects pods takes a look.
            return store.list(Self.services, namespace: namespace).items.compactMap { service in
                guard service["spec"]?["selector"] != nil, let serviceName = service["metadata"]?["name"]?.stringValue
                else { return nil }
                return ObjectKey(Self.services, namespace: namespace, name: serviceName)
            }
        }
    }

    func sync(_ key: ObjectKey) async throws -> Int? {
        let endpointsKey = ObjectKey(Self.endpoints, namespace: key.namespace, name: key.name)
        let current = try? store.get(endpointsKey)
        guard let object = try? store.get(key) else {
            if current != nil { try await api.delete(Endpoints.descriptor, namespace: key.namespace, name: key.name) }
            return nil
        }
        let service: MeshModel.Service
        do {
            service = try ResourceCodec.decode(MeshModel.Service.self, from: object)
        } catch {
            log("endpoints \(key): cannot read the service: \(error)")
            return nil
        }
        let pods = store.list(Self.pods, namespace: key.namespace).items.compactMap { try? ResourceCodec.decode(Pod.self, from: $0) }
        guard let desired = EndpointsReconciler.endpoints(for: service, pods: pods) else { return nil }
        guard let current else {
            try await api.create(Endpoints.descriptor, ResourceCodec.encode(desired))
            return nil
        }
        if let existing = try? ResourceCodec.decode(Endpoints.self, from: current),
            EndpointsReconciler.isUpToDate(existing, desired)
        {
            return nil
        }
        // Keep the rest of the object (annotations, owners); replace what the controller owns.
        var updated = current
        updated[path: "metadata.labels"] = desired.metadata.labels.map { ValueCodec.encode($0) }
        updated["subsets"] = desired.subsets.map { ValueCodec.encode($0) }
        try await api.update(Endpoints.descriptor, updated)
        return nil
    }
}
