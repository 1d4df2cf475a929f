import MeshModel

/// The per-kind part of a write, as the apiserver's registry strategies
/// (`PrepareForCreate`, `ValidateUpdate`, the Service REST's allocation
/// hooks) hold it: what a kind fills in, refuses or allocates beyond the
/// generic decode-default-validate that `ResourceRequest.admit` does.
///
/// A request calls, in order:
/// - create: admit → mutating webhooks → `beforeCreate` → validating
///   webhooks → store → `afterCreate(stored:)`;
/// - update (PUT, PATCH, `/status`, `/scale`): `beforeUpdate` → admit →
///   mutating webhooks → `validateUpdate` → validating webhooks → store →
///   `afterUpdate(stored:)`;
/// - delete: store → `afterDelete`.
///
/// `after...(stored: false)` runs when the write did not happen (dry run, a
/// store error, a conflict to retry) so that anything `before...` took (an
/// address) is given back. Every method has a default that does nothing.
protocol ResourceStrategy: Sendable {
    /// Fills in or refuses an admitted (defaulted, valid) new object.
    func beforeCreate(_ object: inout JSONValue) throws(StatusObject)
    func afterCreate(_ object: JSONValue, stored: Bool)
    /// Fixes up the requested object before it is admitted: keeps what the
    /// server allocated when the client left it out (a Service's clusterIP).
    func beforeUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject)
    /// Checks an admitted update against the stored object (immutable fields).
    func validateUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject)
    func afterUpdate(_ object: JSONValue, old: JSONValue, stored: Bool)
    func afterDelete(_ object: JSONValue)
}

extension ResourceStrategy {
    func beforeCreate(_ object: inout JSONValue) throws(StatusObject) {}
    func afterCreate(_ object: JSONValue, stored: Bool) {}
    func beforeUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {}
    func validateUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {}
    func afterUpdate(_ object: JSONValue, old: JSONValue, stored: Bool) {}
    func afterDelete(_ object: JSONValue) {}
}

/// Kinds without special rules.
struct DefaultStrategy: ResourceStrategy {}

/// The strategies the API server uses, by group and kind.
struct ResourceStrategies: Sendable {
    private let byKind: [String: any ResourceStrategy]

    init(store: ResourceStore, options: APIServerOptions) {
        let clusterIPs = ClusterIPAllocator(cidr: options.serviceCIDR, store: store)
        byKind = [
            "/Service": ServiceStrategy(allocator: clusterIPs),
            "/Pod": PodStrategy(store: store, nodeName: options.nodeName),
            "apps/Deployment": DeploymentStrategy(),
            "/Namespace": NamespaceStrategy(store: store, clusterIPs: clusterIPs),
        ]
    }

    subscript(descriptor: ResourceDescriptor) -> any ResourceStrategy {
        byKind["\(descriptor.group)/\(descriptor.kind)"] ?? DefaultStrategy()
    }
}

/// Decodes a stored or admitted object as its type for a strategy's checks.
/// Both have passed admission, so failure means a bug: it becomes a 500.
func typed<T: Resource>(_ type: T.Type, _ object: JSONValue) throws(StatusObject) -> T {
    do {
        return try ResourceCodec.decode(T.self, from: object)
    } catch {
        throw StatusObject.internalError("cannot read \(T.descriptor.kind): \(error.description)")
    }
}
