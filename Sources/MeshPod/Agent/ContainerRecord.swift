import MeshModel
import MeshSystem

/// Where a container sits in the pod.
public enum ContainerKind: Sendable, Hashable {
    /// An init container that runs to completion before the next starts.
    case initContainer
    /// A native sidecar: an init container with `restartPolicy: Always`. It
    /// starts in init order, the next init container starts once it has
    /// started (its startup probe passed), and it keeps running beside the
    /// regular containers (Istio's injected istio-proxy is one).
    case sidecar
    /// One of `spec.containers`.
    case regular

    /// How events name a container (`spec.containers{web}`).
    public func fieldPath(_ name: String) -> String {
        self == .regular ? "spec.containers{\(name)}" : "spec.initContainers{\(name)}"
    }
}

/// A finished run of a container: `terminated` in its status.
public struct ContainerExit: Sendable, Hashable {
    public var exitCode: Int32
    public var signal: Int32?
    /// `Completed` (exit 0), `Error`, or `StartError` (the process never ran).
    public var reason: String
    public var message: String?
    public var startedAt: Moment?
    public var finishedAt: Moment
    public var processID: Int32?

    public init(exitCode: Int32, signal: Int32? = nil, reason: String, message: String? = nil, startedAt: Moment?,
                finishedAt: Moment, processID: Int32?) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.processID = processID
    }

    /// A process's exit as the container runtime reports it: a signal `n` is exit code 128+n.
    public init(_ status: ExitStatus, startedAt: Moment?, finishedAt: Moment, processID: Int32?) {
        let code: Int32
        switch status {
        case .exited(let exitCode): code = exitCode
        case .signaled(let signal): code = 128 + signal.rawValue
        }
        self.init(exitCode: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt,
                  finishedAt: finishedAt, processID: processID)
    }
}

/// What the agent knows of one container of a pod.
struct ContainerRecord: Sendable {
    enum State: Sendable, Hashable {
        /// Never started yet: waiting `PodInitializing` or `ContainerCreating`.
        case waiting
        /// A start is under way (planning, spawning).
        case starting
        case running(processID: Int32, since: Moment)
        /// Waiting to start again: `CrashLoopBackOff` after an exit, or a
        /// configuration error being retried.
        case backingOff(until: Moment, reason: String, message: String)
        /// Cannot start until the spec changes (`ErrImagePull`).
        case blocked(reason: String, message: String)
        /// Ended for good: a completed init container, a container its
        /// restart policy does not restart, or one stopped with the pod.
        case exited(ContainerExit)
    }

    /// A stop the agent asked for: SIGTERM sent, SIGKILL due at `deadline`.
    struct StopOrder: Sendable, Hashable {
        var deadline: Moment
        var killed = false
    }

    let spec: Container
    let kind: ContainerKind
    var state: State = .waiting
    /// Counts start requests; results of an earlier attempt (a late exit, a probe) are ignored.
    var attempt = 0
    var restartCount: Int32 = 0
    /// Whether an instance of this container has run (the next start is then a restart).
    var hasRun = false
    /// The previous instance's end (`lastState`).
    var lastExit: ContainerExit?
    /// Startup probe passed (or there is none) in the current instance.
    var started = false
    var ready = false
    var backoff: RestartBackoff
    var stopOrder: StopOrder?
    var probes: [ProbeKind: ProbeTracker] = [:]

    init(spec: Container, kind: ContainerKind, backoff: RestartBackoff.Policy) {
        self.spec = spec
        self.kind = kind
        self.backoff = RestartBackoff(policy: backoff)
    }

    var name: String { spec.name }
    var fieldPath: String { kind.fieldPath(spec.name) }

    /// Running, or about to: a pod is not done while any container is active.
    var isActive: Bool {
        switch state {
        case .running, .starting: true
        default: false
        }
    }

    var processID: Int32? {
        if case .running(let pid, _) = state { return pid }
        return nil
    }

    var runningSince: Moment? {
        if case .running(_, let since) = state { return since }
        return nil
    }

    /// An init container that finished successfully.
    var completed: Bool {
        if case .exited(let exit) = state { return exit.exitCode == 0 }
        return false
    }

    func probe(_ kind: ProbeKind) -> Probe? {
        switch kind {
        case .startup: spec.startupProbe
        case .liveness: spec.livenessProbe
        case .readiness: spec.readinessProbe
        }
    }
}
