import MeshModel

/// Every namespace has a `default` ServiceAccount (the service account
/// controller's one rule). The API creates it with the namespace; this puts
/// it in namespaces made otherwise and puts it back when deleted.
struct ServiceAccountController: Controller {
    let api: LocalAPI

    static let namespaces = GroupResource.namespaces
    static let serviceAccounts = GroupResource(resource: "serviceaccounts")

    var name: String { "serviceaccount" }
    var watches: [GroupResource] { [Self.namespaces, Self.serviceAccounts] }
    var store: ResourceStore { api.store }

    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey] {
        let metadata = event.object["metadata"]
        if resource == Self.namespaces {
            guard event.type != .deleted, let name = metadata?["name"]?.stringValue else { return [] }
            return [ObjectKey(Self.namespaces, name: name)]
        }
        guard event.type == .deleted, metadata?["name"]?.stringValue == "default",
            let namespace = metadata?["namespace"]?.stringValue
        else { return [] }
        return [ObjectKey(Self.namespaces, name: namespace)]
    }

    func sync(_ key: ObjectKey) async throws -> Int? {
        let namespace = try? store.get(key)
        let account = ObjectKey(Self.serviceAccounts, namespace: key.name, name: "default")
        guard let missing = Self.missingDefault(namespace: namespace, accountExists: (try? store.get(account)) != nil)
        else { return nil }
        do throws(StatusObject) {
            try await api.create(ServiceAccount.descriptor, missing)
        } catch {
            // Made meanwhile, or the namespace went away: nothing to do.
            if error.reason != .alreadyExists && error.code != 404 { throw error }
        }
        return nil
    }

    /// The `default` ServiceAccount a namespace lacks, if any: none for a
    /// namespace that is gone or terminating.
    static func missingDefault(namespace: JSONValue?, accountExists: Bool) -> JSONValue? {
        guard let namespace, !accountExists, namespace["status"]?["phase"]?.stringValue != "Terminating",
            let name = namespace["metadata"]?["name"]?.stringValue
        else { return nil }
        return NamespaceStrategy.defaultServiceAccount(namespace: name)
    }
}
