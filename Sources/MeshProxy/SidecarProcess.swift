import MeshIO
import MeshModel
import MeshSystem

/// What Istio's injected sidecar container tells its proxy through the environment:
/// POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT, PROXY_CONFIG (JSON mesh
/// proxy config: `discoveryAddress`) and ISTIO_META_WORKLOAD_NAME.
public struct ProxyEnvironment: Sendable, Equatable {
    public var node: ProxyNode
    /// `istiod.istio-system.svc:15012` style; nil when PROXY_CONFIG names none.
    public var discoveryAddress: String?
    public var workloadName: String

    public init(_ environment: [String: String]) throws(ProxyConfigError) {
        let pod = environment["POD_NAME"] ?? environment["HOSTNAME"] ?? "unknown"
        let namespace = environment["POD_NAMESPACE"] ?? "default"
        node = ProxyNode(podName: pod, namespace: namespace, podIP: environment["INSTANCE_IP"] ?? "127.0.0.1",
                         serviceAccount: environment["SERVICE_ACCOUNT"] ?? "default")
        workloadName = environment["ISTIO_META_WORKLOAD_NAME"] ?? SidecarProxy.workloadName(fromPod: pod)
        discoveryAddress = nil
        if let text = environment["PROXY_CONFIG"], !text.isEmpty {
            let value: JSONValue
            do {
                value = try JSONValue(parsing: text)
            } catch {
                throw ProxyConfigError(problems: ["PROXY_CONFIG: not JSON: \(error)"])
            }
            if case .string(let address)? = value["discoveryAddress"] { discoveryAddress = address }
        }
    }

    public var workload: ProxyStats.Workload {
        ProxyStats.Workload(name: workloadName, namespace: node.namespace, app: "unknown")
    }
}

/// The `meshlab proxy` process: binds Istio's ports, serves until SIGTERM or
/// SIGINT, then drains.
public enum SidecarProcess {
    /// Runs a sidecar. `discovery`, when given, runs beside it (the push client,
    /// applying what meshd sends into `store`); it may return or throw without
    /// stopping the proxy, which keeps serving its last good configuration.
    public static func run(options: SidecarOptions, store: ProxyConfigStore, threads: Int = 2,
                           log: @escaping @Sendable (String) -> Void,
                           discovery: (@Sendable (ProxyConfigStore) async throws -> Void)? = nil) async throws {
        try Signals.ignoreBrokenPipe()
        let signals = try Signals.stream([.terminate, .interrupt])
        let group = try EventLoopGroup(threads: max(1, threads), name: "proxy")
        let sidecar = SidecarProxy(options: options, store: store, group: group)
        let bound = try sidecar.bind()
        log("meshlab proxy: outbound \(bound.outbound.localAddress), inbound \(bound.inbound.map { "\($0.localAddress)" } ?? "-"), "
            + "admin \(bound.admin.map { "\($0.localAddress)" } ?? "-"), ready \(store.isReady ? "yes" : "after the first push")")
        // The proxy ends only by a signal; a push client that gives up leaves it serving.
        await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try? await sidecar.run()
                return true
            }
            if let discovery {
                tasks.addTask {
                    do {
                        try await discovery(store)
                    } catch {
                        log("meshlab proxy: config push stopped: \(error)")
                    }
                    return false
                }
            }
            tasks.addTask {
                for await signal in signals {
                    log("meshlab proxy received \(signal): draining")
                    break
                }
                await sidecar.shutdown()
                return false
            }
            while let proxyEnded = await tasks.next() {
                if proxyEnded { break }
            }
            tasks.cancelAll()
        }
        await sidecar.shutdown()
        group.shutdown()
        log("meshlab proxy stopped")
    }
}
