import MeshClient
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// What every pod worker uses.
final class AgentContext: Sendable {
    let client: APIClient
    let sandboxes: any PodSandboxProvider
    let launcher: any ContainerLauncher
    let records: ProcessRecords
    let prober: Prober
    let events: any PodEventSink
    let statuses: PodStatusWriter
    let clock: AgentClock
    let configuration: NodeAgentConfiguration
    let log: @Sendable (String) -> Void
    /// The log files of running containers, by pod uid, for rotation.
    let logFiles = Mutex<[String: Set<String>]>([:])

    init(client: APIClient, sandboxes: any PodSandboxProvider, launcher: any ContainerLauncher, records: ProcessRecords,
         events: any PodEventSink, clock: AgentClock, configuration: NodeAgentConfiguration,
         log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.sandboxes = sandboxes
        self.launcher = launcher
        self.records = records
        self.prober = Prober(launcher: launcher, records: records, clock: clock, switchUser: configuration.switchUser)
        self.events = events
        self.statuses = PodStatusWriter(client: client, delay: configuration.statusDelay, clock: clock, log: log)
        self.clock = clock
        self.configuration = configuration
        self.log = log
    }
}

/// The shell around one pod's `PodLifecycle`: it turns what happens
/// (sandbox made, process started or exited, probe result, timer, delete)
/// into inputs, one at a time, and carries out the actions that come back.
/// Everything that decides is in the lifecycle; this only does.
final class PodWorker: Sendable {
    let identity: PodIdentity
    private let context: AgentContext
    private let latest: Mutex<Pod>
    private let inbox = AsyncStream<Message>.makeStream()

    /// What reaches the worker: the lifecycle's inputs, with what the shell keeps of them.
    enum Message: Sendable {
        case sandboxCreated(PodSandbox)
        case started(name: String, attempt: Int, process: ChildProcess, plan: ContainerPlan)
        case input(PodInput)
    }

    /// Where the pod's container logs and exec probe output go.
    private let logDirectory: String

    init(pod: Pod, identity: PodIdentity, context: AgentContext) {
        self.identity = identity
        self.context = context
        self.latest = Mutex(pod)
        self.logDirectory = context.configuration.logDirectory(of: identity)
    }

    /// A newer version of the pod object (labels for `fieldRef`, the deletion mark).
    func update(_ pod: Pod) { latest.withLock { $0 = pod } }

    func terminate(gracePeriod: Duration, reason: PodLifecycle.EndReason) {
        inbox.continuation.yield(.input(.terminate(gracePeriod: gracePeriod, reason: reason)))
    }

    private func send(_ input: PodInput) { inbox.continuation.yield(.input(input)) }

    /// The worker's own state, touched by its loop only.
    private struct Runtime {
        var sandbox: PodSandbox?
        var plans: [String: ContainerPlan] = [:]
        var probes: [String: Task<Void, Never>] = [:]
        var timer: Task<Void, Never>?
        var wakeAt: Moment?
        var forgotten = false
    }

    /// Runs the pod until it is gone from the node; returns whether it ended
    /// on its own (completed or failed: its final status stays in the API).
    func run() async -> Bool {
        let clock = context.clock
        var lifecycle = PodLifecycle(pod: latest.withLock { $0 }, settings: context.configuration.lifecycle, now: clock.now())
        var runtime = Runtime()
        perform(lifecycle.start(now: clock.now()), &runtime, lifecycle)
        publish(&lifecycle, &runtime)
        for await message in inbox.stream {
            let input: PodInput
            switch message {
            case .sandboxCreated(let sandbox):
                runtime.sandbox = sandbox
                input = .sandboxCreated(ip: sandbox.ip)
            case .started(let name, let attempt, let process, let plan):
                runtime.plans[name] = plan
                input = .containerStarted(name: name, attempt: attempt, processID: process.pid, builtInApp: plan.builtIn?.summary)
            case .input(let other):
                input = other
            }
            let actions = lifecycle.handle(input, now: clock.now())
            perform(actions, &runtime, lifecycle)
            publish(&lifecycle, &runtime)
            if lifecycle.isFinished { break }
        }
        inbox.continuation.finish()  // late messages (a probe that was running) are dropped
        runtime.timer?.cancel()
        for task in runtime.probes.values { task.cancel() }
        _ = context.logFiles.withLock { $0.removeValue(forKey: identity.uid) }
        // A deleted pod's logs go with it; others stay for `logs` (a failed pod, a restarted lab).
        if lifecycle.endReason == .deleted { try? Files.removeTree(logDirectory) }
        return lifecycle.publishesStatus
    }

    private func publish(_ lifecycle: inout PodLifecycle, _ runtime: inout Runtime) {
        if lifecycle.publishesStatus {
            context.statuses.publish(lifecycle.status(at: context.clock.now()), for: identity)
        } else if !runtime.forgotten {
            runtime.forgotten = true
            context.statuses.forget(identity.uid)
        }
    }

    // MARK: Actions

    private func perform(_ actions: [PodAction], _ runtime: inout Runtime, _ lifecycle: PodLifecycle) {
        let context = self.context
        let identity = self.identity
        for action in actions {
            switch action {
            case .createSandbox:
                Task {
                    do {
                        let sandbox = try await context.sandboxes.create(for: identity)
                        self.inbox.continuation.yield(.sandboxCreated(sandbox))
                    } catch {
                        self.send(.sandboxFailed("\(error)"))
                    }
                }
            case .destroySandbox:
                Task {
                    do {
                        try await context.sandboxes.destroy(identity)
                    } catch {
                        context.log("node agent: removing the sandbox of pod \(identity) failed: \(error)")
                    }
                    self.send(.sandboxDestroyed)
                }
            case .startContainer(let name, let attempt):
                guard let sandbox = runtime.sandbox, let (spec, kind) = lifecycle.container(named: name) else {
                    send(.containerStartFailed(name: name, attempt: attempt, ContainerStartFailure(.launch, "the pod has no sandbox")))
                    continue
                }
                let pod = latest.withLock { $0 }
                Task { await self.start(spec, kind: kind, attempt: attempt, pod: pod, sandbox: sandbox) }
            case .signal(_, let pid, let signal):
                // The process leads its own session and process group: signal them all.
                do {
                    try Signals.send(signal, to: -pid)
                } catch {
                    try? Signals.send(signal, to: pid)
                }
            case .startProbe(let name, let attempt, let kind, let startedAt):
                guard let sandbox = runtime.sandbox, let (spec, _) = lifecycle.container(named: name) else { continue }
                let key = "\(name)/\(kind)"
                runtime.probes[key]?.cancel()
                let plan = runtime.plans[name]
                runtime.probes[key] = Task {
                    await self.probe(spec, kind: kind, attempt: attempt, startedAt: startedAt, plan: plan, sandbox: sandbox)
                }
            case .stopProbe(let name, let kind):
                runtime.probes.removeValue(forKey: "\(name)/\(kind)")?.cancel()
            case .wake(let moment):
                // Most inputs repeat the same wake (a back-off, a deadline): keep the timer then.
                if runtime.wakeAt == moment && moment > context.clock.now() { continue }
                runtime.wakeAt = moment
                runtime.timer?.cancel()
                runtime.timer = Task {
                    guard (try? await context.clock.sleep(until: moment)) != nil else { return }
                    self.send(.tick)
                }
            case .event(let event):
                context.events.record(event, pod: identity, at: context.clock.now())
            }
        }
    }

    /// Plans, spawns and watches one run of a container.
    private func start(_ spec: Container, kind: ContainerKind, attempt: Int, pod: Pod, sandbox: PodSandbox) async {
        let context = self.context
        let configuration = context.configuration
        let name = spec.name
        let plan: ContainerPlan
        do {
            var configMaps: [String: ConfigMap] = [:]
            for mapName in ContainerEnvironment.configMapNames(spec).sorted() {
                if let map = try await fetchConfigMap(mapName) { configMaps[mapName] = map }
            }
            let sources = PodEnvironmentSources(podIP: sandbox.ip, hostIP: configuration.hostIP,
                                                nodeName: configuration.nodeName, configMaps: configMaps,
                                                node: configuration.node)
            plan = try ContainerPlan.make(spec, pod: pod, sources: sources, meshlabExecutable: configuration.meshlabExecutable,
                                          fallbackUser: configuration.fallbackUser)
        } catch let failure as ContainerStartFailure {
            return send(.containerStartFailed(name: name, attempt: attempt, failure))
        } catch {
            return send(.containerStartFailed(name: name, attempt: attempt, ContainerStartFailure(.configuration, "\(error)")))
        }
        let now = context.clock.now()
        var warnings = plan.warnings
        let effectiveUser = UInt32(CurrentProcess.effectiveUserID)
        if !configuration.switchUser && plan.user.uid != effectiveUser {
            warnings.append(PodEventRecord(.warning, "RunAsUserIgnored",
                "meshlab does not run as root: container \(name) runs as uid \(effectiveUser), not \(plan.user.uid)"))
        }
        for var warning in warnings {
            warning.fieldPath = kind.fieldPath(name)
            context.events.record(warning, pod: identity, at: now)
        }

        let process: ChildProcess
        let logPath = ContainerLogs.path(directory: logDirectory, container: name)
        do {
            let log = try ContainerLogs.open(directory: logDirectory, container: name, limit: configuration.logLimitBytes,
                                             marker: ContainerLogs.marker(container: name, run: attempt, at: now))
            defer { try? log.close() }
            process = try context.launcher.launch(plan.enterRequest(in: sandbox, switchUser: configuration.switchUser),
                                                  environment: plan.environment, output: log)
        } catch {
            return send(.containerStartFailed(name: name, attempt: attempt, ContainerStartFailure(.launch, "\(error)")))
        }
        let key = "\(identity.uid)_\(name)"
        context.records.add(key, processID: process.pid)
        context.logFiles.withLock { _ = $0[identity.uid, default: []].insert(logPath) }
        inbox.continuation.yield(.started(name: name, attempt: attempt, process: process, plan: plan))

        let status = await Self.waitForExit(process, clock: context.clock)
        // The container ends with its main process: nothing it started outlives it.
        try? Signals.send(.kill, to: -process.pid)
        context.records.remove(key)
        send(.containerExited(name: name, attempt: attempt, status))
    }

    /// The process's exit, watched through its pidfd (polling where there is none).
    static func waitForExit(_ process: ChildProcess, clock: AgentClock) async -> ExitStatus {
        if let status = try? await process.exitStatus(on: EventLoopGroup.shared.next()) { return status }
        while true {
            if let status = try? process.tryWait() { return status }
            if ProcessRecords.startTime(of: process.pid) == nil { return .signaled(.kill) }  // reaped elsewhere
            try? await clock.sleep(for: .milliseconds(50))
        }
    }

    private func fetchConfigMap(_ name: String) async throws -> ConfigMap? {
        let path = APIClient.path(ConfigMap.descriptor, namespace: identity.namespace, name: name)
        do {
            return try ResourceCodec.decode(ConfigMap.self, from: try await context.client.get(path))
        } catch let status as StatusObject where status.code == 404 {
            return nil
        } catch let status as StatusObject {
            throw ContainerStartFailure(.configuration, "couldn't get configMap \(identity.namespace)/\(name): \(status.message)")
        }
    }

    /// Runs a probe on its schedule until cancelled.
    private func probe(_ spec: Container, kind: ProbeKind, attempt: Int, startedAt: Moment, plan: ContainerPlan?,
                       sandbox: PodSandbox) async {
        let probe: Probe?
        switch kind {
        case .startup: probe = spec.startupProbe
        case .liveness: probe = spec.livenessProbe
        case .readiness: probe = spec.readinessProbe
        }
        guard var probe else { return }
        probe.applyDefaults()
        let clock = context.clock
        var schedule = ProbeSchedule(probe: probe, containerStartedAt: startedAt, now: clock.now(),
                                     second: context.configuration.second)
        let key = "\(identity.uid)_\(spec.name)_\(kind.rawValue.lowercased())-probe"
        while !Task.isCancelled {
            guard (try? await clock.sleep(until: schedule.next)) != nil else { return }
            let outcome = await context.prober.run(probe, kind: kind, container: spec, plan: plan, sandbox: sandbox,
                                                   timeout: schedule.timeout, key: key, outputDirectory: logDirectory)
            if Task.isCancelled { return }
            send(.probed(name: spec.name, attempt: attempt, kind, outcome))
            schedule.advance(now: clock.now())
        }
    }
}
