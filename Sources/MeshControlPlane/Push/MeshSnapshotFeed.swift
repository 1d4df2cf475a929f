import MeshModel
import Synchronization

/// Keeps a `MeshSnapshot` of the store current for the push server: the ten
/// kinds translation reads, listed once when made and then watched (in
/// process, as `ClusterDNSFeed` does: no HTTP round trip, no re-encoding).
///
/// Every change bumps `generation` and signals `changes` (coalesced: one
/// pending signal stands for any number of changes); the snapshot itself is
/// built on demand, once per push rather than once per event.
final class MeshSnapshotFeed: Sendable {
    /// The kinds watched, with how each is decoded into the snapshot.
    enum Kind: CaseIterable {
        case services, endpoints, pods, namespaces, virtualServices, destinationRules, serviceEntries, sidecars
        case peerAuthentications, authorizationPolicies

        var resource: GroupResource {
            let descriptor: ResourceDescriptor =
                switch self {
                case .services: MeshModel.Service.descriptor
                case .endpoints: Endpoints.descriptor
                case .pods: Pod.descriptor
                case .namespaces: Namespace.descriptor
                case .virtualServices: VirtualService.descriptor
                case .destinationRules: DestinationRule.descriptor
                case .serviceEntries: ServiceEntry.descriptor
                case .sidecars: Sidecar.descriptor
                case .peerAuthentications: PeerAuthentication.descriptor
                case .authorizationPolicies: AuthorizationPolicy.descriptor
                }
            return GroupResource(group: descriptor.group, resource: descriptor.plural)
        }
    }

    /// The raw objects by kind and `namespace/name`; decoded when a snapshot is built.
    private struct State {
        var objects: [Kind: [String: JSONValue]] = [:]
        var generation: UInt64 = 0
        var snapshot: (MeshSnapshot, UInt64)?
    }

    private let store: ResourceStore
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let listedAt: [Kind: String]
    private let signal = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    init(store: ResourceStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
        let lists = Kind.allCases.map { ($0, store.list($0.resource)) }
        listedAt = Dictionary(uniqueKeysWithValues: lists.map { ($0.0, $0.1.resourceVersion) })
        for (kind, list) in lists { load(list, kind) }
    }

    /// One element per burst of changes (the stream holds at most one).
    var changes: AsyncStream<Void> { signal.stream }

    /// Bumped by every change seen.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// The current snapshot and the generation it reflects.
    func snapshot() -> (snapshot: MeshSnapshot, generation: UInt64) {
        let (objects, generation, cached) = state.withLock { ($0.objects, $0.generation, $0.snapshot) }
        if let cached, cached.1 == generation { return cached }
        var snapshot = MeshSnapshot()
        func decoded<T: Resource>(_ kind: Kind, as type: T.Type) -> [T] {
            (objects[kind] ?? [:]).sorted { $0.key < $1.key }.compactMap { key, object in
                do {
                    return try ResourceCodec.decode(type, from: object)
                } catch {
                    log("push: ignoring \(kind.resource) \(key): \(error)")
                    return nil
                }
            }
        }
        snapshot.services = decoded(.services, as: MeshModel.Service.self)
        snapshot.endpoints = decoded(.endpoints, as: Endpoints.self)
        snapshot.pods = decoded(.pods, as: Pod.self)
        snapshot.namespaces = decoded(.namespaces, as: Namespace.self)
        snapshot.virtualServices = decoded(.virtualServices, as: VirtualService.self)
        snapshot.destinationRules = decoded(.destinationRules, as: DestinationRule.self)
        snapshot.serviceEntries = decoded(.serviceEntries, as: ServiceEntry.self)
        snapshot.sidecars = decoded(.sidecars, as: Sidecar.self)
        snapshot.peerAuthentications = decoded(.peerAuthentications, as: PeerAuthentication.self)
        snapshot.authorizationPolicies = decoded(.authorizationPolicies, as: AuthorizationPolicy.self)
        state.withLock { if $0.generation == generation { $0.snapshot = (snapshot, generation) } }
        return (snapshot, generation)
    }

    /// Whether the pod `namespace/name` exists now.
    func podExists(namespace: String, name: String) -> Bool {
        state.withLock { $0.objects[.pods]?[namespace + "/" + name] != nil }
    }

    /// Follows the store until the task is cancelled or the store closes.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for kind in Kind.allCases {
                let start = listedAt[kind] ?? ""
                group.addTask { await self.follow(kind, from: start) }
            }
        }
        signal.continuation.finish()
    }

    private func follow(_ kind: Kind, from start: String) async {
        var version = start
        while !Task.isCancelled {
            do throws(StoreError) {
                let watch = try store.watch(kind.resource, resourceVersion: version)
                for try await event in watch {
                    apply(event, kind)
                    if !event.resourceVersion.isEmpty { version = event.resourceVersion }
                }
                return  // cancelled, or the store closed
            } catch .expired, .watchOverflow {
                log("push: the \(kind.resource) watch fell behind; listing again")
                let list = store.list(kind.resource)
                load(list, kind)
                version = list.resourceVersion
            } catch {
                log("push: cannot watch \(kind.resource): \(error)")
                return
            }
        }
    }

    private func load(_ list: StoreList, _ kind: Kind) {
        var objects: [String: JSONValue] = [:]
        for object in list.items { objects[Self.key(object)] = object }
        state.withLock {
            $0.objects[kind] = objects
            $0.generation += 1
        }
        signal.continuation.yield()
    }

    private func apply(_ event: WatchEvent, _ kind: Kind) {
        let key = Self.key(event.object)
        state.withLock {
            // Not `= nil`: JSONValue is nil-expressible, so that would store `.null`.
            if event.type == .deleted {
                $0.objects[kind]?.removeValue(forKey: key)
            } else {
                $0.objects[kind, default: [:]][key] = event.object
            }
            $0.generation += 1
        }
        signal.continuation.yield()
    }

    private static func key(_ object: JSONValue) -> String {
        let metadata = object["metadata"]
        return (metadata?["namespace"]?.stringValue ?? "") + "/" + (metadata?["name"]?.stringValue ?? "")
    }
}
