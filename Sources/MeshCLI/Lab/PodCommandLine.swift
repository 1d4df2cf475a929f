import MeshClient
import MeshControlPlane
import MeshModel
import MeshPod
import MeshSystem

/// How a command is started inside a pod's namespaces, as one of its containers
/// (user, environment, working directory): what `meshlab exec` and
/// `meshlab load --from` share.
enum PodCommandLine {
    struct NoSandbox: Error, CustomStringConvertible {
        var description: String
    }

    /// The spawn that runs `command(meshlabExecutable)` in container `container`
    /// (nil: the default one) of the pod `reference` names.
    static func spawn(pod reference: String, namespace: String, container: String?, context: CommandContext,
                      command: (_ meshlabExecutable: String) -> [String]) async throws
        -> (configuration: SpawnConfiguration, pod: String)
    {
        let client = try context.client()
        let state = StateDirectory(context.stateDirectory)
        guard let settings = LabSettings.read(state), settings.runsPods else {
            throw UsageError("this lab runs no pods (mode control-plane)")
        }
        let pod = try await PodLookup.pod(named: reference, namespace: namespace, client: client)
        let name = try PodLookup.containerName(pod, named: container, context: context)
        let podName = pod.metadata.name ?? ""
        guard let sandbox = NetworkSandboxProvider.existingSandbox(
            for: PodLookup.identity(pod), configuration: settings.network, podsDirectory: LabSettings.podsDirectory(state))
        else {
            throw NoSandbox(description: "pod \(podName) has no running sandbox (phase \(pod.status?.phase?.rawValue ?? "unknown"))")
        }
        var configMaps: [String: ConfigMap] = [:]
        for mapName in try PodExec.configMapNames(of: pod, container: name) {
            if let object = try? await client.get(APIClient.path(ConfigMap.descriptor, namespace: namespace, name: mapName)) {
                configMaps[mapName] = try? ResourceCodec.decode(ConfigMap.self, from: object)
            }
        }
        let agent = NodeAgentConfiguration(
            nodeName: APIServerOptions.defaultNodeName, hostIP: settings.network.gatewayAddress,
            meshlabExecutable: try CurrentProcess.executablePath(), directory: LabSettings.agentDirectory(state))
        let (request, environment) = try PodExec.request(
            pod: pod, container: name, command: command(agent.meshlabExecutable), sandbox: sandbox, configuration: agent,
            configMaps: configMaps)
        return (SpawnConfiguration(executable: agent.meshlabExecutable, arguments: request.commandLine,
                                   environment: environment), podName)
    }
}
