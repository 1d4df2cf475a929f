import MeshModel

/// The garbage collector's decision for one object with owners (its
/// attemptToDeleteItem, background propagation): an object whose owners
/// are all gone is deleted; one that lost only some of them forgets those.
enum GarbageCollection {
    enum Decision: Equatable, Sendable {
        case keep
        case delete
        /// Keep the object, without the references to these owner uids.
        case dropOwners([String])
    }

    /// `exists` answers whether an owner (by uid) is still there; nil when
    /// it cannot tell (a kind this server does not serve), which counts as
    /// there, as the garbage collector leaves unresolvable owners alone.
    static func decide(_ owners: [OwnerReference], exists: (OwnerReference) -> Bool?) -> Decision {
        guard !owners.isEmpty else { return .keep }
        let missing = owners.filter { exists($0) == false }
        if missing.isEmpty { return .keep }
        if missing.count == owners.count { return .delete }
        return .dropOwners(missing.map(\.uid))
    }

    /// The owner references of a stored object (empty when it has none or they do not decode).
    static func owners(of object: JSONValue) -> [OwnerReference] {
        guard let value = object["metadata"]?["ownerReferences"] else { return [] }
        return ValueCodec.decode([OwnerReference].self, from: value).value ?? []
    }
}

/// Events expire an hour after they last happened (the apiserver's
/// `--event-ttl`, which etcd enforces with a lease).
enum EventExpiry {
    static let defaultTTL = 3600

    /// Seconds until `event` expires; zero or less when it has.
    static func secondsLeft(_ event: JSONValue, now: Int, ttl: Int) -> Int {
        let seen = [event["lastTimestamp"], event["eventTime"], event["firstTimestamp"], event["metadata"]?["creationTimestamp"]]
            .lazy.compactMap { $0?.stringValue.flatMap(Timestamp.parse) }.first
        guard let seen else { return 0 }
        return seen + ttl - now
    }
}
