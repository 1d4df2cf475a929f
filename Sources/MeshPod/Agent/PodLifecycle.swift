import MeshModel
import MeshSystem

/// Settings of the pod state machine.
public struct PodLifecycleSettings: Sendable, Hashable {
    public var backoff: RestartBackoff.Policy
    /// How long one second of the pod spec lasts (probe timings, grace
    /// periods, `activeDeadlineSeconds`): a real second, or less in tests.
    public var second: Duration
    /// The node's address, for `status.hostIP`.
    public var hostIP: String

    public init(backoff: RestartBackoff.Policy = .kubernetes, second: Duration = .seconds(1), hostIP: String = "") {
        self.backoff = backoff
        self.second = second
        self.hostIP = hostIP
    }
}

/// What happened, as the pod state machine hears it.
public enum PodInput: Sendable, Hashable {
    case sandboxCreated(ip: String)
    case sandboxFailed(String)
    case sandboxDestroyed
    /// `builtInApp`: what the built-in image runs (`app reviews`), for the `Pulled` event.
    case containerStarted(name: String, attempt: Int, processID: Int32, builtInApp: String?)
    case containerStartFailed(name: String, attempt: Int, ContainerStartFailure)
    case containerExited(name: String, attempt: Int, ExitStatus)
    case probed(name: String, attempt: Int, ProbeKind, ProbeOutcome)
    /// Stop the pod: every container within `gracePeriod`, then its sandbox.
    case terminate(gracePeriod: Duration, reason: PodLifecycle.EndReason)
    /// Time passed (a `wake` came due).
    case tick
}

/// What the state machine asks its shell to do.
public enum PodAction: Sendable, Hashable {
    case createSandbox
    case destroySandbox
    /// Plan and spawn the container; answer `containerStarted` or `containerStartFailed`, then `containerExited`.
    case startContainer(name: String, attempt: Int)
    /// Signal the container's process (and its process group).
    case signal(name: String, processID: Int32, Signal)
    /// Run the container's probe of that kind on its schedule, answering `probed`, until stopped.
    case startProbe(name: String, attempt: Int, ProbeKind, containerStartedAt: Moment)
    case stopProbe(name: String, ProbeKind)
    /// Send `tick` at this moment (replaces any earlier wake).
    case wake(at: Moment)
    case event(PodEventRecord)
}

/// One pod's life on the node, decided without processes or clocks
/// (kubelet's SyncPod and computePodActions as a state machine): the
/// sandbox first, then init containers in order (a native sidecar only has
/// to start), then the regular containers; restarts with back-off per the
/// restart policy; probes; and an orderly end (regular containers first,
/// then sidecars in reverse order, SIGKILL at the deadline, then the
/// sandbox goes).
///
/// The shell feeds it `PodInput`s with the time, carries out the returned
/// `PodAction`s, and publishes `status(at:)`.
public struct PodLifecycle: Sendable {
    /// Why the pod is ending.
    public enum EndReason: Sendable, Hashable {
        /// The pod was deleted: stop, remove, write nothing more.
        case deleted
        /// The agent is stopping (meshlab down): the same.
        case agentShutdown
        /// Every regular container has finished and will not restart.
        case completed
        /// An init container failed under `restartPolicy: Never`.
        case initFailed
        /// `activeDeadlineSeconds` passed.
        case deadlineExceeded

        /// Whether the pod's status is still written (it stays, in a final phase).
        public var writesStatus: Bool { self != .deleted && self != .agentShutdown }
    }

    struct Ending: Sendable {
        var reason: EndReason
        /// When every container is killed (a deletion's grace period); nil:
        /// each stop gets the pod's grace period when it is sent.
        var deadline: Moment?
    }

    enum Sandbox: Sendable, Hashable {
        case absent, creating, ready(ip: String), failed(retryAt: Moment), destroying, destroyed
    }

    public let pod: Pod
    public let identity: PodIdentity
    let settings: PodLifecycleSettings
    var containers: [ContainerRecord]
    var sandbox = Sandbox.absent
    var sandboxBackoff: RestartBackoff
    /// The address the pod had (kept in status after the sandbox is gone, as Kubernetes does).
    var podIP: String?
    /// Init containers are done; stays true (a sidecar restarting later does not undo it).
    var initialized: Bool
    var ending: Ending?
    let startTime: String
    /// When `activeDeadlineSeconds` runs out.
    let activeDeadline: Moment?
    /// Each condition's status and when it last changed.
    var conditionSince: [String: (status: ConditionStatus, time: String)] = [:]

    /// - Parameters:
    ///   - pod: the pod as the API has it; a status it carries (from an agent
    ///     that ran it before) keeps its start time, restart counts and
    ///     condition times.
    public init(pod: Pod, settings: PodLifecycleSettings, now: Moment) {
        var pod = pod
        pod.applyDefaults()
        self.pod = pod
        self.settings = settings
        identity = PodIdentity(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "",
                               uid: pod.metadata.uid ?? "")
        let initContainers = (pod.spec.initContainers ?? []).map {
            ContainerRecord(spec: $0, kind: $0.restartPolicy == .always ? .sidecar : .initContainer,
                            backoff: settings.backoff)
        }
        let regular = pod.spec.containers.map { ContainerRecord(spec: $0, kind: .regular, backoff: settings.backoff) }
        containers = initContainers + regular
        initialized = initContainers.isEmpty
        sandboxBackoff = RestartBackoff(policy: settings.backoff)

        let stored = pod.status
        startTime = stored?.startTime ?? now.timestamp
        if let seconds = pod.spec.activeDeadlineSeconds, seconds > 0 {
            let alreadyActive = max(0, now.epochSeconds - (Timestamp.parse(stored?.startTime ?? "") ?? now.epochSeconds))
            activeDeadline = now + (settings.second * Int(min(seconds, 1 << 40)) - .seconds(alreadyActive))
        } else {
            activeDeadline = nil
        }
        for index in containers.indices {
            let previous = containers[index].kind == .regular ? stored?.containerStatuses : stored?.initContainerStatuses
            let name = containers[index].name
            guard let status = previous?.first(where: { $0.name == name }) else { continue }
            containers[index].restartCount = status.restartCount
            containers[index].hasRun = status.state?.running != nil || status.state?.terminated != nil
                || status.lastState?.terminated != nil
        }
        for condition in stored?.conditions ?? [] {
            if let time = condition.lastTransitionTime { conditionSince[condition.type] = (condition.status, time) }
        }
    }

    var restartPolicy: RestartPolicy { pod.spec.restartPolicy ?? .always }
    var gracePeriod: Duration {
        settings.second * Int(max(0, min(pod.spec.terminationGracePeriodSeconds ?? 30, 1 << 40)))
    }

    /// The pod is gone from the node: nothing runs, the sandbox is removed.
    public var isFinished: Bool {
        ending != nil && !containers.contains(where: \.isActive) && sandbox == .destroyed
    }

    /// Why the pod is ending, once it is.
    public var endReason: EndReason? { ending?.reason }

    /// Whether the shell should keep writing `status(at:)`.
    public var publishesStatus: Bool { ending?.reason.writesStatus ?? true }

    /// The container's process, while it runs.
    public func processID(of container: String) -> Int32? {
        containers.first { $0.name == container }?.processID
    }

    /// The container spec and where it sits.
    public func container(named name: String) -> (spec: Container, kind: ContainerKind)? {
        containers.first { $0.name == name }.map { ($0.spec, $0.kind) }
    }

    // MARK: Inputs

    /// The first decisions, before any input.
    public mutating func start(now: Moment) -> [PodAction] {
        defer { noteTransitions(now: now) }
        return reconcile(now: now)
    }

    public mutating func handle(_ input: PodInput, now: Moment) -> [PodAction] {
        defer { noteTransitions(now: now) }
        var actions: [PodAction] = []
        switch input {
        case .sandboxCreated(let ip):
            if sandbox == .creating {
                sandbox = .ready(ip: ip)
                podIP = ip
            }
        case .sandboxFailed(let message):
            if sandbox == .creating {
                sandbox = .failed(retryAt: now + sandboxBackoff.delay(afterFailedStartAt: now))
                actions.append(.event(PodEventRecord(.warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(message)")))
            }
        case .sandboxDestroyed:
            sandbox = .destroyed
        case .containerStarted(let name, let attempt, let pid, let app):
            guard let i = current(name, attempt), containers[i].state == .starting else {
                // Nobody waits for this process any more: do not leave it behind.
                return [.signal(name: name, processID: pid, .kill)] + reconcile(now: now)
            }
            actions += started(i, processID: pid, builtInApp: app, now: now)
        case .containerStartFailed(let name, let attempt, let failure):
            guard let i = current(name, attempt), containers[i].state == .starting else { break }
            actions += startFailed(i, failure, now: now)
        case .containerExited(let name, let attempt, let status):
            guard let i = current(name, attempt), case .running(let pid, let since) = containers[i].state else { break }
            actions += stopProbes(i)
            actions += exited(i, ContainerExit(status, startedAt: since, finishedAt: now, processID: pid), now: now)
        case .probed(let name, let attempt, let kind, let outcome):
            guard let i = current(name, attempt), containers[i].processID != nil, containers[i].stopOrder == nil,
                ending == nil, containers[i].probes[kind] != nil
            else { break }
            actions += probed(i, kind, outcome, now: now)
        case .terminate(let grace, let reason):
            actions += terminate(reason: reason, deadline: now + grace)
        case .tick:
            break
        }
        return actions + reconcile(now: now)
    }

    /// The index of the container if `attempt` is its current one.
    private func current(_ name: String, _ attempt: Int) -> Int? {
        guard let i = containers.firstIndex(where: { $0.name == name }), containers[i].attempt == attempt else { return nil }
        return i
    }

    private mutating func started(_ i: Int, processID: Int32, builtInApp: String?, now: Moment) -> [PodAction] {
        var actions: [PodAction] = []
        let fieldPath = containers[i].fieldPath
        let name = containers[i].name
        if let app = builtInApp, let image = containers[i].spec.image {
            actions.append(.event(PodEventRecord(.normal, "Pulled", "Container image \"\(image)\" is built into meshlab: meshlab \(app)", fieldPath: fieldPath)))
        }
        actions.append(.event(PodEventRecord(.normal, "Created", "Created container: \(name)", fieldPath: fieldPath)))
        actions.append(.event(PodEventRecord(.normal, "Started", "Started container \(name)", fieldPath: fieldPath)))
        if containers[i].hasRun { containers[i].restartCount += 1 }
        containers[i].hasRun = true
        containers[i].state = .running(processID: processID, since: now)
        containers[i].probes = [:]
        if let probe = containers[i].spec.startupProbe {
            containers[i].started = false
            containers[i].ready = false
            containers[i].probes[.startup] = ProbeTracker(kind: .startup, probe: probe)
            actions.append(.startProbe(name: name, attempt: containers[i].attempt, .startup, containerStartedAt: now))
        } else {
            actions += containerHasStarted(i)
        }
        return actions
    }

    /// Started (no startup probe, or it passed): liveness and readiness take over.
    private mutating func containerHasStarted(_ i: Int) -> [PodAction] {
        var actions: [PodAction] = []
        containers[i].started = true
        // An init container is ready once it has completed, not while it runs.
        containers[i].ready = containers[i].kind != .initContainer && containers[i].spec.readinessProbe == nil
        guard let since = containers[i].runningSince else { return [] }
        for kind in [ProbeKind.liveness, .readiness] {
            guard let probe = containers[i].probe(kind) else { continue }
            containers[i].probes[kind] = ProbeTracker(kind: kind, probe: probe)
            actions.append(.startProbe(name: containers[i].name, attempt: containers[i].attempt, kind, containerStartedAt: since))
        }
        return actions
    }

    private mutating func startFailed(_ i: Int, _ failure: ContainerStartFailure, now: Moment) -> [PodAction] {
        let message = failure.kind == .image ? failure.message : "Error: \(failure.message)"
        var actions: [PodAction] = [.event(PodEventRecord(.warning, "Failed", message, fieldPath: containers[i].fieldPath))]
        switch failure.kind {
        case .image:
            containers[i].state = .blocked(reason: failure.reason, message: failure.message)
        case .configuration:
            let delay = containers[i].backoff.delay(afterFailedStartAt: now)
            containers[i].state = .backingOff(until: now + delay, reason: failure.reason, message: failure.message)
        case .launch:
            // As a container runtime reports a process that never ran.
            let exit = ContainerExit(exitCode: 128, reason: "StartError", message: failure.message, startedAt: nil,
                                     finishedAt: now, processID: nil)
            actions += exited(i, exit, now: now)
        }
        return actions
    }

    private mutating func exited(_ i: Int, _ exit: ContainerExit, now: Moment) -> [PodAction] {
        containers[i].started = false
        containers[i].ready = false
        containers[i].stopOrder = nil
        containers[i].probes = [:]
        let restart: Bool
        if ending != nil {
            restart = false
        } else {
            switch containers[i].kind {
            case .initContainer: restart = exit.exitCode != 0 && restartPolicy != .never
            case .sidecar: restart = true
            case .regular: restart = restartPolicy == .always || (restartPolicy == .onFailure && exit.exitCode != 0)
            }
        }
        guard restart else {
            containers[i].state = .exited(exit)
            return []
        }
        containers[i].lastExit = exit
        let delay = containers[i].backoff.delay(afterExitAt: now)
        let name = containers[i].name
        let pod = "\(identity.name)_\(identity.namespace)(\(identity.uid))"
        containers[i].state = .backingOff(
            until: now + delay, reason: "CrashLoopBackOff",
            message: "back-off \(delay.goDescription) restarting failed container=\(name) pod=\(pod)")
        guard delay > .zero else { return [] }
        return [.event(PodEventRecord(.warning, "BackOff", "Back-off restarting failed container \(name) in pod \(pod)",
                                      fieldPath: containers[i].fieldPath))]
    }

    private mutating func probed(_ i: Int, _ kind: ProbeKind, _ outcome: ProbeOutcome, now: Moment) -> [PodAction] {
        var actions: [PodAction] = []
        if case .failure(let message) = outcome {
            actions.append(.event(PodEventRecord(.warning, "Unhealthy", "\(kind) probe failed: \(message)",
                                                 fieldPath: containers[i].fieldPath)))
        }
        guard let verdict = containers[i].probes[kind]?.record(outcome.succeeded) else { return actions }
        let name = containers[i].name
        switch kind {
        case .startup where verdict:
            actions.append(.stopProbe(name: name, .startup))
            containers[i].probes[.startup] = nil
            actions += containerHasStarted(i)
        case .startup, .liveness:
            guard !verdict else { break }
            let probe = containers[i].probe(kind)
            let grace = probe?.terminationGracePeriodSeconds.map { settings.second * Int(max(0, min($0, 1 << 40))) }
            actions += stop(i, message: "Container \(name) failed \(kind.rawValue.lowercased()) probe, will be restarted",
                            deadline: now + (grace ?? gracePeriod))
        case .readiness:
            containers[i].ready = verdict
        }
        return actions
    }

    private mutating func terminate(reason: EndReason, deadline: Moment) -> [PodAction] {
        if var ending, ending.reason == reason || !ending.reason.writesStatus {
            // Asked again (a second delete, shutdown during a delete): the earlier deadline holds.
            ending.deadline = min(ending.deadline ?? deadline, deadline)
            self.ending = ending
        } else {
            ending = Ending(reason: reason, deadline: deadline)
        }
        var actions: [PodAction] = []
        for i in containers.indices {
            if containers[i].stopOrder != nil { containers[i].stopOrder!.deadline = min(containers[i].stopOrder!.deadline, deadline) }
            actions += stopProbes(i)
            containers[i].probes = [:]
        }
        return actions
    }

    /// SIGTERM now, SIGKILL at `deadline`.
    private mutating func stop(_ i: Int, message: String, deadline: Moment) -> [PodAction] {
        guard let pid = containers[i].processID, containers[i].stopOrder == nil else { return [] }
        containers[i].stopOrder = ContainerRecord.StopOrder(deadline: deadline)
        let name = containers[i].name
        // Probes end with the stop order (kubelet holds a failed liveness probe until the restart).
        let probes = stopProbes(i)
        containers[i].probes = [:]
        return [.event(PodEventRecord(.normal, "Killing", message, fieldPath: containers[i].fieldPath))]
            + probes + [.signal(name: name, processID: pid, .terminate)]
    }

    private func stopProbes(_ i: Int) -> [PodAction] {
        containers[i].probes.keys.sorted { $0.rawValue < $1.rawValue }.map { .stopProbe(name: containers[i].name, $0) }
    }

    // MARK: Decisions

    /// Level-triggered: looks at everything and does what is due.
    mutating func reconcile(now: Moment) -> [PodAction] {
        var actions: [PodAction] = []
        for i in containers.indices {
            guard let pid = containers[i].processID, let order = containers[i].stopOrder, !order.killed,
                now >= order.deadline
            else { continue }
            containers[i].stopOrder!.killed = true
            actions.append(.signal(name: containers[i].name, processID: pid, .kill))
        }
        if ending == nil, let activeDeadline, now >= activeDeadline {
            ending = Ending(reason: .deadlineExceeded, deadline: nil)
            actions.append(.event(PodEventRecord(.warning, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")))
        }
        if ending == nil { actions += advance(now: now) }
        if ending != nil { actions += wind(now: now) }
        if let wake = nextWake() { actions.append(.wake(at: wake)) }
        return actions
    }

    /// The pod's way forward: sandbox, init sequence, containers, completion.
    private mutating func advance(now: Moment) -> [PodAction] {
        switch sandbox {
        case .absent:
            sandbox = .creating
            return [.createSandbox]
        case .failed(let retryAt) where now >= retryAt:
            sandbox = .creating
            return [.createSandbox]
        case .ready:
            break
        default:
            return []
        }
        var actions: [PodAction] = []
        if !initialized {
            var blocked = false
            for i in containers.indices where containers[i].kind != .regular {
                if containers[i].kind == .sidecar ? containers[i].started : containers[i].completed { continue }
                if containers[i].kind == .initContainer, case .exited = containers[i].state {
                    // Failed and not restarted: restartPolicy Never.
                    ending = Ending(reason: .initFailed, deadline: nil)
                    return actions
                }
                actions += ensureStarted(i, now: now)
                blocked = true
                break
            }
            initialized = !blocked
        }
        guard initialized else { return actions }
        for i in containers.indices where containers[i].kind != .initContainer {
            actions += ensureStarted(i, now: now)
        }
        let regular = containers.filter { $0.kind == .regular }
        if regular.allSatisfy({ if case .exited = $0.state { true } else { false } }) {
            ending = Ending(reason: .completed, deadline: nil)
        }
        return actions
    }

    private mutating func ensureStarted(_ i: Int, now: Moment) -> [PodAction] {
        switch containers[i].state {
        case .waiting: break
        case .backingOff(let until, _, _) where until <= now: break
        default: return []
        }
        containers[i].attempt += 1
        containers[i].state = .starting
        return [.startContainer(name: containers[i].name, attempt: containers[i].attempt)]
    }

    /// The pod's way out: regular and init containers first, then sidecars
    /// last-first, then the sandbox.
    private mutating func wind(now: Moment) -> [PodAction] {
        guard let ending else { return [] }
        let deadline = ending.deadline ?? now + gracePeriod
        var actions: [PodAction] = []
        let others = containers.indices.filter { containers[$0].kind != .sidecar && containers[$0].isActive }
        for i in others where containers[i].stopOrder == nil {
            actions += stop(i, message: "Stopping container \(containers[i].name)", deadline: deadline)
        }
        if others.isEmpty {
            let sidecars = containers.indices.filter { containers[$0].kind == .sidecar && containers[$0].isActive }
            if !sidecars.contains(where: { containers[$0].stopOrder != nil }), let last = sidecars.last {
                actions += stop(last, message: "Stopping container \(containers[last].name)", deadline: deadline)
            }
        }
        guard !containers.contains(where: \.isActive) else { return actions }
        switch sandbox {
        case .ready, .failed:
            sandbox = .destroying
            actions.append(.destroySandbox)
        case .absent:
            sandbox = .destroyed
        case .creating, .destroying, .destroyed:
            break
        }
        return actions
    }

    /// The earliest moment something becomes due.
    private func nextWake() -> Moment? {
        var moments: [Moment] = []
        for record in containers {
            if let order = record.stopOrder, !order.killed, record.processID != nil { moments.append(order.deadline) }
            if ending == nil, case .backingOff(let until, _, _) = record.state { moments.append(until) }
        }
        if ending == nil {
            if case .failed(let retryAt) = sandbox { moments.append(retryAt) }
            if let activeDeadline { moments.append(activeDeadline) }
        }
        return moments.min()
    }
}
