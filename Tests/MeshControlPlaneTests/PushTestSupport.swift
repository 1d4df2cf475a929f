@testable import MeshControlPlane
import MeshIO
import MeshModel
@testable import MeshProxy
import MeshSystem
import Synchronization
import Testing

/// Translation for the push tests, independent of the real one: clusters from
/// Services, endpoints from Endpoints, one listener per proxy, routes from
/// VirtualServices. So a new Service changes CDS only, a VirtualService RDS only.
let pushTestGenerate: @Sendable (ProxyNode, MeshSnapshot) -> ProxyConfig = { node, snapshot in
    ProxyConfig(
        listeners: [Listener(name: "virtualInbound-\(node.podName)", address: "0.0.0.0", port: 15006, direction: .inbound,
                             filterChains: [])],
        routes: snapshot.virtualServices.map { RouteConfiguration(name: $0.metadata.name ?? "", virtualHosts: []) },
        clusters: snapshot.services.map {
            Cluster(name: "outbound|80||\($0.metadata.name ?? "").\($0.metadata.namespace ?? "default").svc.cluster.local",
                    direction: .outbound, discovery: .eds)
        },
        endpoints: snapshot.endpoints.map { ClusterLoadAssignment(clusterName: $0.metadata.name ?? "", endpoints: []) })
}

/// A data plane stand-in: records what it is handed; refuses the types in `refusing`.
final class RecordingSink: ProxyConfigSink {
    struct Applied: Equatable {
        var type: ProxyResourceType
        var version: String
        var count: Int
    }

    private let state = Mutex<(applied: [Applied], refusing: Set<ProxyResourceType>)>(([], []))

    func apply(_ type: ProxyResourceType, resources: [JSONValue], version: String) async throws {
        try state.withLock { state in
            if state.refusing.contains(type) { throw DiscoveryError("\(type.shortName) refused by the test sink") }
            state.applied.append(Applied(type: type, version: version, count: resources.count))
        }
    }

    func refuse(_ types: Set<ProxyResourceType>) { state.withLock { $0.refusing = types } }
    var applied: [Applied] { state.withLock { $0.applied } }
    func applied(_ type: ProxyResourceType) -> [Applied] { applied.filter { $0.type == type } }
}

/// Waits (at most `seconds`) for `condition`; records a failure naming `what` when it never holds.
func eventually(_ what: String, seconds: Int = 20, sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () async throws -> Bool) async rethrows {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try? await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
}

/// A push server on a free loopback port (or `port`) over `store`, running for `body`, stopped after it.
func withPushServer<T>(
    store: ResourceStore, port: UInt16 = 0, options: PushServerOptions = PushServerOptions(generate: pushTestGenerate),
    _ body: (PushServer) async throws -> T
) async throws -> T {
    let listener = try SocketListener.bind(.loopback(port: port), group: .shared)
    let server = PushServer(store: store, listener: listener, options: options)
    let running = Task { await server.runUntilCancelled() }
    do {
        let result = try await body(server)
        running.cancel()
        await running.value
        return result
    } catch {
        running.cancel()
        await running.value
        throw error
    }
}

/// A sidecar's push client to `server`, running for `body`, stopped after it.
func withDiscoveryClient<T>(
    to address: SocketAddress, pod: String = "web-1", namespace: String = "default", sink: any ProxyConfigSink,
    _ body: (DiscoveryClient) async throws -> T
) async throws -> T {
    let node = ProxyNode(podName: pod, namespace: namespace, podIP: "10.44.0.9", serviceAccount: "default")
    let client = DiscoveryClient(
        options: DiscoveryClientOptions(address: DiscoveryAddress(host: "127.0.0.1", port: Int(address.port ?? 0)),
                                        node: node, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50),
                                        seed: 7),
        sink: sink)
    let running = Task { await client.runUntilCancelled() }
    do {
        let result = try await body(client)
        running.cancel()
        await running.value
        return result
    } catch {
        running.cancel()
        await running.value
        throw error
    }
}

/// Store objects for the tests (decoded by the feed, so only what decoding needs).
enum PushFixture {
    static func service(_ name: String, namespace: String = "default") -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "spec": ["ports": [["port": 80]]]]
    }

    static func virtualService(_ name: String, namespace: String = "default") -> JSONValue {
        ["apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "spec": ["hosts": [.string(name)], "http": [["route": [["destination": ["host": .string(name)]]]]]]]
    }

    static func pod(_ name: String, namespace: String = "default") -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "spec": ["containers": [["name": "app", "image": "meshlab/app"]]]]
    }

    static let services = GroupResource(resource: "services")
    static let pods = GroupResource(resource: "pods")
    static let virtualServices = GroupResource(group: "networking.istio.io", resource: "virtualservices")
}

extension PushServer {
    /// The sync record of `type` for the proxy `name` (`pod.namespace`).
    func record(_ name: String, _ type: ProxyResourceType) -> TypeSyncRecord? {
        proxyStates().first { $0.state.node.proxyName == name }?.state.records[type]
    }

    func status(_ name: String, _ type: ProxyResourceType) -> ProxySyncStatus? {
        record(name, type)?.status
    }

    func allSynced(_ name: String) -> Bool {
        ProxyResourceType.pushOrder.allSatisfy { status(name, $0) == .synced }
    }
}
