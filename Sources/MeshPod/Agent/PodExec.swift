import MeshModel
import MeshSystem

/// What `meshlab exec POD [-c C] -- CMD ARGS` runs: the command inside the
/// pod's sandbox, with the container's environment, user and working
/// directory, as `kubectl exec` does. The CLI spawns
/// `EnterLauncher.configuration(meshlabExecutable:request:environment:)`
/// with its own terminal streams.
public enum PodExec {
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The container exec runs in: the one named, else the pod's
    /// `kubectl.kubernetes.io/default-container`, else its first container.
    public static func container(of pod: Pod, named name: String?) throws(Failure) -> Container {
        let podName = pod.metadata.name ?? ""
        let wanted = name ?? pod.metadata.annotations?["kubectl.kubernetes.io/default-container"]
        guard let wanted else {
            guard let first = pod.spec.containers.first else { throw Failure(message: "pod \(podName) has no containers") }
            return first
        }
        let all = pod.spec.containers + (pod.spec.initContainers ?? [])
        guard let container = all.first(where: { $0.name == wanted }) else {
            throw Failure(message: "container \(wanted) is not valid for pod \(podName): choose one of: [\(all.map(\.name).joined(separator: " "))]")
        }
        return container
    }

    /// The ConfigMaps whose values the container's environment needs (fetch them for `request`).
    public static func configMapNames(of pod: Pod, container: String?) throws(Failure) -> Set<String> {
        ContainerEnvironment.configMapNames(try self.container(of: pod, named: container))
    }

    /// The `__enter` request and the environment for `command` in the pod.
    /// - Parameters:
    ///   - sandbox: the pod's sandbox (from the sandbox provider).
    ///   - configMaps: the ConfigMaps `configMapNames` named, as the API has them.
    ///   - switchUser: whether to become the container's user (the caller is root).
    public static func request(pod: Pod, container name: String?, command: [String], sandbox: PodSandbox,
                               configuration: NodeAgentConfiguration, configMaps: [String: ConfigMap] = [:],
                               switchUser: Bool = CurrentProcess.effectiveUserID == 0)
        throws(Failure) -> (request: EnterRequest, environment: [String: String])
    {
        guard !command.isEmpty else { throw Failure(message: "you must specify at least one command for the container") }
        let container = try self.container(of: pod, named: name)
        let sources = PodEnvironmentSources(podIP: pod.status?.podIP ?? sandbox.ip, hostIP: configuration.hostIP,
                                            nodeName: configuration.nodeName, configMaps: configMaps, node: configuration.node)
        var exec = container
        // The command replaces what the container runs, so an image meshlab cannot run is no obstacle.
        exec.command = ["/bin/true"]
        exec.args = nil
        do {
            let plan = try ContainerPlan.make(exec, pod: pod, sources: sources, meshlabExecutable: configuration.meshlabExecutable,
                                              fallbackUser: configuration.fallbackUser).running(command, expand: false)
            return (plan.enterRequest(in: sandbox, switchUser: switchUser), plan.environment)
        } catch {
            throw Failure(message: error.message)
        }
    }
}
