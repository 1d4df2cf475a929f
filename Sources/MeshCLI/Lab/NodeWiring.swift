import MeshClient
import MeshControlPlane
import MeshModel
import MeshPod
import MeshSystem

/// Puts the node (pod sandboxes, the service proxy, the node agent) into the
/// daemon: MeshControlPlane and MeshPod do not know each other, so this is
/// where they meet, as kubelet and kube-proxy meet the apiserver only
/// through its API (here in process, without a socket).
enum NodeWiring {
    static func startNode(settings: LabSettings, state: StateDirectory, log: @escaping @Sendable (String) -> Void)
        -> @Sendable (APIServer, @Sendable (String, String) -> Void) async throws -> [NamedService]
    {
        { api, step in
            let client = APIClient(transport: InProcessTransport(handler: api))
            let network = settings.network
            let sandboxes = NetworkSandboxProvider(configuration: network, podsDirectory: LabSettings.podsDirectory(state))
            let proxy = ServiceProxy(client: client)
            await sandboxes.addObserver(proxy)

            // After a restart: keep the sandboxes of pods still in the store, remove the rest.
            var known: [PodIdentity: String] = [:]
            let pods = try await client.get("/api/v1/pods")
            for pod in pods["items"]?.arrayValue ?? [] {
                guard let metadata = pod["metadata"], let name = metadata["name"]?.stringValue,
                    let namespace = metadata["namespace"]?.stringValue, let uid = metadata["uid"]?.stringValue
                else { continue }
                known[PodIdentity(namespace: namespace, name: name, uid: uid)] = pod["status"]?["podIP"]?.stringValue ?? ""
            }
            let recovery = await sandboxes.recover(pods: known)
            for error in recovery.errors { log("sandbox recovery: \(error)") }
            step("sandboxes", "\(known.count) pods in the store, \(recovery.adopted.count) sandboxes kept, "
                + "\(recovery.removed.count) removed")

            var configuration = NodeAgentConfiguration(
                nodeName: APIServerOptions.defaultNodeName, hostIP: network.gatewayAddress,
                meshlabExecutable: try CurrentProcess.executablePath(), directory: LabSettings.agentDirectory(state))
            configuration.backoff = .kubernetes
            let agent = try NodeAgent(client: client, sandboxes: sandboxes, configuration: configuration, log: log)
            step("node", "pods on \(network.podCIDR), DNS \(network.nameserver), node netns \(network.nodeNamespacePath)")
            return [NamedService("service-proxy", proxy), NamedService("node-agent", agent)]
        }
    }
}
