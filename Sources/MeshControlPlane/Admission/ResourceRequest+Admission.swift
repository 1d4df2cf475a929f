import MeshModel

/// The API server's hook into the admission webhooks: what a create or an
/// update sends them, and re-admission of what mutating webhooks changed.
extension ResourceRequest {
    func admissionAttributes(_ operation: AdmissionAttributes.Operation, _ object: JSONValue, old: JSONValue?,
                             _ registered: RegisteredResource) -> AdmissionAttributes {
        let descriptor = registered.descriptor
        let metadata = object["metadata"]
        return AdmissionAttributes(
            operation: operation, group: descriptor.group, version: path.version, resource: descriptor.plural,
            subresource: path.subresource, kind: descriptor.kind,
            namespace: descriptor.namespaced ? (path.namespace ?? metadata?["namespace"]?.stringValue ?? "") : "",
            name: metadata?["name"]?.stringValue ?? "", namespaced: descriptor.namespaced,
            object: present(object, descriptor), oldObject: old.map { present($0, descriptor) }, dryRun: isDryRun)
    }

    /// Mutating webhooks on an admitted object; what they changed is decoded,
    /// defaulted and validated again, as the apiserver validates after mutation.
    func mutateThroughWebhooks(_ object: JSONValue, old: JSONValue?, _ registered: RegisteredResource)
        async throws(StatusObject) -> (JSONValue, [String])
    {
        let attributes = admissionAttributes(old == nil ? .create : .update, object, old: old, registered)
        let (mutated, warnings) = try await server.admissionWebhooks.mutate(attributes)
        guard mutated != attributes.object else { return (object, warnings) }
        let (admitted, more) = try admit(prepare(mutated, registered.descriptor), registered)
        return (admitted, warnings + more)
    }

    func validateThroughWebhooks(_ object: JSONValue, old: JSONValue?, _ registered: RegisteredResource)
        async throws(StatusObject) -> [String]
    {
        try await server.admissionWebhooks.validate(admissionAttributes(old == nil ? .create : .update, object, old: old, registered))
    }
}
