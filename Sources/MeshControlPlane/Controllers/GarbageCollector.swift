import MeshModel
import Synchronization

/// Deletes objects whose owners are gone (the pods of a deleted
/// Deployment), per `GarbageCollection.decide`. It watches every kind that
/// can own or be owned and keeps an index from owner uid to dependents, so
/// that an owner's deletion finds its dependents without a scan.
final class GarbageCollector: Controller {
    let api: LocalAPI
    let watches: [GroupResource]
    private let index = Mutex(OwnerIndex())

    /// Dependents by the uid of each of their owners.
    private struct OwnerIndex {
        var dependents: [String: Set<ObjectKey>] = [:]
        var owners: [ObjectKey: [String]] = [:]

        mutating func set(_ key: ObjectKey, owners uids: [String]) {
            for uid in owners[key] ?? [] { dependents[uid]?.remove(key) }
            owners[key] = uids.isEmpty ? nil : uids
            for uid in uids { dependents[uid, default: []].insert(key) }
        }
    }

    init(api: LocalAPI, resources: [ResourceDescriptor]) {
        self.api = api
        // Events neither own nor belong to anything.
        watches = resources.filter { $0.kind != "Event" }.map { GroupResource(group: $0.group, resource: $0.plural) }
    }

    var name: String { "garbagecollector" }
    var store: ResourceStore { api.store }

    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey] {
        let metadata = event.object["metadata"]
        let key = ObjectKey(resource, namespace: metadata?["namespace"]?.stringValue ?? "",
                            name: metadata?["name"]?.stringValue ?? "")
        let owners = GarbageCollection.owners(of: event.object).map(\.uid)
        return index.withLock { index in
            if event.type == .deleted {
                index.set(key, owners: [])
                guard let uid = metadata?["uid"]?.stringValue else { return [] }
                return Array(index.dependents[uid] ?? [])
            }
            index.set(key, owners: owners)
            return owners.isEmpty ? [] : [key]
        }
    }

    func sync(_ key: ObjectKey) async throws -> Int? {
        guard let object = try? store.get(key),
            let descriptor = ResourceRegistry.resource(group: key.resource.group, plural: key.resource.resource)?.descriptor
        else { return nil }
        let owners = GarbageCollection.owners(of: object)
        switch GarbageCollection.decide(owners, exists: { exists($0, namespace: key.namespace) }) {
        case .keep:
            break
        case .delete:
            try await api.delete(descriptor, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name,
                                 uid: object["metadata"]?["uid"]?.stringValue)
        case .dropOwners(let uids):
            var updated = object
            updated[path: "metadata.ownerReferences"] = .array(
                (object[path: "metadata.ownerReferences"]?.arrayValue ?? []).filter {
                    !uids.contains($0["uid"]?.stringValue ?? "")
                })
            try await api.update(descriptor, updated)
        }
        return nil
    }

    /// Whether the owner `reference` names is there with its uid; nil for a kind this server does not serve.
    private func exists(_ reference: OwnerReference, namespace: String) -> Bool? {
        guard let owner = ResourceRegistry.resource(apiVersion: reference.apiVersion, kind: reference.kind)?.descriptor
        else { return nil }
        let key = ObjectKey(GroupResource(group: owner.group, resource: owner.plural),
                            namespace: owner.namespaced ? namespace : "", name: reference.name)
        guard let found = try? store.get(key) else { return false }
        return found["metadata"]?["uid"]?.stringValue == reference.uid
    }
}

/// Deletes Events an hour (`ttl`) after they last happened.
struct EventExpiryController: Controller {
    let api: LocalAPI
    let ttl: Int
    let now: @Sendable () -> Int

    static let events = GroupResource(resource: "events")

    var name: String { "event-ttl" }
    var watches: [GroupResource] { [Self.events] }

    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey] {
        guard event.type != .deleted else { return [] }
        let metadata = event.object["metadata"]
        return [ObjectKey(Self.events, namespace: metadata?["namespace"]?.stringValue ?? "",
                          name: metadata?["name"]?.stringValue ?? "")]
    }

    func sync(_ key: ObjectKey) async throws -> Int? {
        guard let event = try? api.store.get(key) else { return nil }
        let left = EventExpiry.secondsLeft(event, now: now(), ttl: ttl)
        if left > 0 { return left }
        try await api.delete(Event.descriptor, namespace: key.namespace, name: key.name,
                             uid: event["metadata"]?["uid"]?.stringValue)
        return nil
    }
}
