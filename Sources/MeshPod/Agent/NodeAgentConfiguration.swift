#if canImport(Glibc)
import Glibc
#endif
import MeshSystem

/// How the node agent runs pods.
public struct NodeAgentConfiguration: Sendable {
    /// The node's name (`spec.nodeName`, event source).
    public var nodeName: String
    /// The node's address on the lab bridge (`status.hostIP`).
    public var hostIP: String
    /// The binary that runs `meshlab __enter` and built-in images (`meshlab app`).
    public var meshlabExecutable: String
    /// The agent's own files (`<state>/agent`): records of the processes it
    /// started (`processes/`, so the next daemon can kill what a crashed one
    /// left) and container logs (`pods/<namespace>_<name>_<uid>/<container>.log`).
    public var directory: String
    /// Crash-loop back-off (kubelet's: 10 s doubling to 5 min).
    public var backoff: RestartBackoff.Policy = .kubernetes
    /// How long one second of a pod spec lasts (probe timings, grace periods,
    /// `activeDeadlineSeconds`): shorter in tests and fast labs.
    public var second: Duration = .seconds(1)
    /// The least time between two status writes of one pod (changes meanwhile are merged).
    public var statusDelay: Duration = .milliseconds(20)
    /// A container's log is rotated to `.log.1` past this size.
    public var logLimitBytes = 10 << 20
    public var logCheckInterval: Duration = .seconds(10)
    /// How long pods get to stop when the agent stops (`meshlab down`),
    /// at most; a pod's own grace period applies when it is shorter.
    public var shutdownGracePeriod: Duration = .seconds(5)
    /// Who runs a container whose spec names no user.
    public var fallbackUser: ContainerUser = .nobody
    /// Whether containers get their own user (needs root). Without it every
    /// process runs as the daemon's user and an event says so.
    public var switchUser: Bool = CurrentProcess.effectiveUserID == 0
    /// What `resourceFieldRef` reports for limits a container does not set.
    public var node = NodeCapacity(cpuCores: Int(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                                   memoryBytes: Int64(max(1, sysconf(Int32(_SC_PHYS_PAGES)))) * Int64(max(1, sysconf(Int32(_SC_PAGESIZE)))))
    /// How long to wait before listing pods again after the API failed.
    public var relistDelay: Duration = .seconds(1)

    public init(nodeName: String = "meshlab", hostIP: String, meshlabExecutable: String, directory: String) {
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.meshlabExecutable = meshlabExecutable
        self.directory = directory
    }

    /// Where the logs of `pod`'s containers are (`ContainerLogs.path(directory:container:)` in it).
    public func logDirectory(of pod: PodIdentity) -> String {
        ContainerLogs.podDirectory(agentDirectory: directory, pod: pod)
    }

    var lifecycle: PodLifecycleSettings { PodLifecycleSettings(backoff: backoff, second: second, hostIP: hostIP) }
}
