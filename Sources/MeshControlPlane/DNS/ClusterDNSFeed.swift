import MeshModel
import Synchronization

/// Keeps cluster DNS's view of the store current: Services, Endpoints, Pods and
/// Namespaces, listed once when made and then watched.
///
/// It reads the `ResourceStore` directly rather than through the API (MeshClient):
/// the DNS server lives in the daemon beside the store, MeshControlPlane does not
/// depend on MeshClient, and a watch on the store skips an HTTP round trip and a JSON
/// re-encoding per event. Events only update the object tables; the index is rebuilt
/// on the next lookup after a change, so a burst of changes (a deployment scaling up)
/// costs one rebuild, not one per event.
public final class ClusterDNSFeed: Sendable {
    static let services = GroupResource(resource: "services")
    static let endpoints = GroupResource(resource: "endpoints")
    static let pods = GroupResource(resource: "pods")
    static let watched: [GroupResource] = [services, endpoints, pods, .namespaces]

    private struct State {
        /// Per resource, the decoded objects by `namespace/name`.
        var services: [String: MeshModel.Service] = [:]
        var endpoints: [String: Endpoints] = [:]
        var pods: [String: Pod] = [:]
        var namespaces: Set<String> = []
        var revision: UInt64 = 0
        /// Nil after a change until the next lookup rebuilds it.
        var snapshot: ClusterDNSSnapshot?
        var rebuilds = 0
    }

    private let store: ResourceStore
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    /// The list's resourceVersion per resource: where each watch starts.
    private let listedAt: [GroupResource: String]

    /// Lists the four resources now, so the first lookup already sees the store.
    public init(store: ResourceStore, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.log = log
        let lists = Self.watched.map { ($0, store.list($0)) }
        listedAt = Dictionary(uniqueKeysWithValues: lists.map { ($0.0, $0.1.resourceVersion) })
        for (resource, list) in lists { load(list, resource) }
    }

    /// The current snapshot (rebuilt here if the store changed since the last call).
    public var snapshot: ClusterDNSSnapshot {
        state.withLock { state in
            if let snapshot = state.snapshot { return snapshot }
            let built = ClusterDNSSnapshot(
                services: state.services.sorted { $0.key < $1.key }.map(\.value),
                endpoints: state.endpoints.sorted { $0.key < $1.key }.map(\.value),
                pods: state.pods.sorted { $0.key < $1.key }.map(\.value),
                namespaces: state.namespaces.sorted(), serial: UInt32(truncatingIfNeeded: state.revision))
            state.snapshot = built
            state.rebuilds += 1
            return built
        }
    }

    /// How often the index was rebuilt (tests check that events coalesce).
    var rebuildCount: Int { state.withLock { $0.rebuilds } }

    /// Follows the store until the task is cancelled or the store closes. A watch that
    /// falls behind or outlives the store's history lists again and carries on.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for resource in Self.watched {
                let start = listedAt[resource] ?? ""
                group.addTask { await self.follow(resource, from: start) }
            }
        }
    }

    private func follow(_ resource: GroupResource, from start: String) async {
        var version = start
        while !Task.isCancelled {
            do throws(StoreError) {
                let watch = try store.watch(resource, resourceVersion: version)
                for try await event in watch {
                    apply(event, resource)
                    if !event.resourceVersion.isEmpty { version = event.resourceVersion }
                }
                return  // cancelled, or the store closed
            } catch .expired, .watchOverflow {
                log("dns: the \(resource) watch fell behind; listing again")
                version = relist(resource)
            } catch {
                log("dns: cannot watch \(resource): \(error)")
                return
            }
        }
    }

    /// Replaces what is known of `resource` with a fresh list; returns its resourceVersion.
    private func relist(_ resource: GroupResource) -> String {
        let list = store.list(resource)
        load(list, resource)
        return list.resourceVersion
    }

    private func load(_ list: StoreList, _ resource: GroupResource) {
        state.withLock { state in
            switch resource {
            case Self.services: state.services = [:]
            case Self.endpoints: state.endpoints = [:]
            case Self.pods: state.pods = [:]
            default: state.namespaces = []
            }
        }
        for object in list.items { apply(WatchEvent(.added, object), resource) }
        state.withLock { state in
            state.revision = max(state.revision, UInt64(list.resourceVersion) ?? 0)
            state.snapshot = nil
        }
    }

    private func apply(_ event: WatchEvent, _ resource: GroupResource) {
        let metadata = event.object["metadata"]
        let name = metadata?["name"]?.stringValue ?? ""
        let key = (metadata?["namespace"]?.stringValue ?? "") + "/" + name
        let present = event.type != .deleted
        // Decode outside the lock; an object that does not decode is dropped (and said so).
        var service: MeshModel.Service?
        var endpoints: Endpoints?
        var pod: Pod?
        do {
            if present {
                switch resource {
                case Self.services: service = try ResourceCodec.decode(MeshModel.Service.self, from: event.object)
                case Self.endpoints: endpoints = try ResourceCodec.decode(Endpoints.self, from: event.object)
                case Self.pods: pod = try ResourceCodec.decode(Pod.self, from: event.object)
                default: break
                }
            }
        } catch {
            log("dns: ignoring \(resource) \(key): \(error)")
        }
        state.withLock { state in
            switch resource {
            case Self.services: state.services[key] = service
            case Self.endpoints: state.endpoints[key] = endpoints
            case Self.pods: state.pods[key] = pod
            default:
                if present { state.namespaces.insert(name) } else { state.namespaces.remove(name) }
            }
            if let revision = UInt64(event.resourceVersion) { state.revision = max(state.revision, revision) }
            state.snapshot = nil
        }
    }
}
