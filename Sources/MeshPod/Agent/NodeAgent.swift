import MeshClient
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// The node agent's runtime half (kubelet's role): it lists and watches
/// Pods through the API and runs each as processes in a sandbox, writing
/// back status and events. A `MeshIO.Service`: graceful shutdown stops
/// every pod (within `shutdownGracePeriod`) and removes its sandbox;
/// cancellation kills every process at once.
///
/// After a daemon crash, the next agent starts clean: it kills the
/// processes its records name (checked by start time), removes the
/// sandboxes of pods that are gone or ended, and starts every pod of the
/// store again, in the sandbox it had if the provider still has it (so it
/// keeps its address). It does not reattach to running processes: they were
/// children of the dead daemon, so their exit statuses could not be waited
/// for; restarting them is the honest answer (restart counts go up by one).
public final class NodeAgent: MeshIO.Service {
    private let context: AgentContext
    /// The event writer the agent runs itself (when no sink was given).
    private let eventWriter: APIEventWriter?
    private let state = Mutex(State())

    private struct State {
        var workers: [String: (worker: PodWorker, task: Task<Bool, Never>)] = [:]
        /// Pods that ended on their own: not started again while they stay in the API.
        var finished = Set<String>()
        var stopping = false
    }

    /// - Parameters:
    ///   - client: the API (the daemon's own, in process, or over its socket).
    ///   - sandboxes: makes pod sandboxes (MeshPod/Network).
    ///   - launcher: starts processes; `meshlab __enter` by default.
    ///   - events: where pod events go; by default core/v1 Events through `client`.
    ///   - clock: the agent's time (a manual one in tests).
    ///   - log: lines for the daemon's log.
    public init(client: APIClient, sandboxes: any PodSandboxProvider, configuration: NodeAgentConfiguration,
                launcher: (any ContainerLauncher)? = nil, events: (any PodEventSink)? = nil,
                clock: AgentClock = .system(), log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let writer = events == nil ? APIEventWriter(client: client, nodeName: configuration.nodeName, log: log) : nil
        context = AgentContext(
            client: client, sandboxes: sandboxes,
            launcher: launcher ?? EnterLauncher(meshlabExecutable: configuration.meshlabExecutable),
            records: try ProcessRecords(directory: configuration.directory + "/processes"), events: events ?? writer!,
            clock: clock, configuration: configuration, log: log)
        eventWriter = writer
    }

    /// The pods the agent runs now.
    public var pods: [PodIdentity] { state.withLock { $0.workers.values.map(\.worker.identity) } }

    /// How many container and probe processes are running now.
    public var processCount: Int { context.records.count }

    public func run() async throws {
        sweepProcesses()
        let context = self.context
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let eventWriter { group.addTask { await eventWriter.run() } }
                group.addTask { await self.rotateLogs() }
                do {
                    try await cancelWhenGracefulShutdown { try await self.watch() }
                } catch is CancellationError where !Task.isCancelled {
                    // Graceful shutdown ended the watch.
                }
                await stopAll(gracePeriod: context.configuration.shutdownGracePeriod)
                eventWriter?.finish()
                // The writer drains and returns; the rotation loop is cancelled.
                if eventWriter != nil { _ = try await group.next() }
                group.cancelAll()
            }
        } onCancel: {
            // The hard stop: no grace, nothing left running.
            let tasks = self.state.withLock { state -> [Task<Bool, Never>] in
                state.stopping = true
                return state.workers.values.map(\.task)
            }
            for task in tasks { task.cancel() }
            context.records.killAll()
        }
        try Task.checkCancellation()
    }

    /// The processes an earlier daemon left (a netns lives on while a process is in it).
    private func sweepProcesses() {
        let killed = context.records.sweep()
        if killed > 0 { context.log("node agent: killed \(killed) processes left by an earlier daemon") }
    }

    /// The sandboxes an earlier daemon left, once the pods are known: those
    /// of pods that still run here are kept (`create` hands them back, and the
    /// pod keeps its address); the others are removed.
    private func sweepSandboxes(keeping pods: Set<String>) async {
        var removed = 0
        for sandbox in await context.sandboxes.sandboxes() where !pods.contains(sandbox.pod.uid) {
            do {
                try await context.sandboxes.destroy(sandbox.pod)
                removed += 1
            } catch {
                context.log("node agent: removing the sandbox of pod \(sandbox.pod) left by an earlier daemon failed: \(error)")
            }
        }
        if removed > 0 { context.log("node agent: removed \(removed) pod sandboxes left by an earlier daemon") }
    }

    // MARK: Watching

    /// Lists pods, then watches from that version; lists again when the
    /// watch ends or expires (410), after an error with a pause.
    private func watch() async throws {
        let path = APIClient.path(Pod.descriptor, namespace: nil)
        var swept = false
        while true {
            try Task.checkCancellation()
            do {
                let list = try await context.client.get(path)
                let version = list["metadata"]?["resourceVersion"]?.stringValue ?? ""
                let items = list["items"]?.arrayValue ?? []
                if !swept {
                    await sweepSandboxes(keeping: Set(items.compactMap(Self.runnableUID)))
                    swept = true
                }
                sync(items)
                events: for try await event in context.client.watch(path + "?resourceVersion=\(version)") {
                    switch event.type {
                    case "ADDED", "MODIFIED": apply(event.object)
                    case "DELETED": deleted(event.object)
                    case "ERROR": break events
                    default: continue
                    }
                }
                continue
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                context.log("node agent: watching pods failed: \(error); listing again")
            }
            try await context.clock.sleep(for: context.configuration.relistDelay)
        }
    }

    /// The uid of a pod the agent runs (not ended).
    static func runnableUID(_ object: JSONValue) -> String? {
        let phase = object["status"]?["phase"]?.stringValue
        guard phase != PodPhase.succeeded.rawValue, phase != PodPhase.failed.rawValue,
            object["metadata"]?["deletionTimestamp"] == nil
        else { return nil }
        return object["metadata"]?["uid"]?.stringValue
    }

    /// A full list: start what is new, stop what is gone.
    private func sync(_ items: [JSONValue]) {
        var present = Set<String>()
        for item in items {
            if let uid = item["metadata"]?["uid"]?.stringValue { present.insert(uid) }
            apply(item)
        }
        let (gone, running) = state.withLock { state -> ([PodWorker], Set<String>) in
            state.finished.formIntersection(present)
            return (state.workers.filter { !present.contains($0.key) }.map(\.value.worker), Set(state.workers.keys))
        }
        // Logs of pods deleted while no agent watched.
        for directory in ContainerLogs.podDirectories(agentDirectory: context.configuration.directory)
        where !present.contains(directory.uid) && !running.contains(directory.uid) {
            try? Files.removeTree(directory.path)
        }
        // Deleted while nobody watched: their grace period is not known any more.
        for worker in gone { worker.terminate(gracePeriod: context.configuration.second * 30, reason: .deleted) }
    }

    private func apply(_ object: JSONValue) {
        let pod: Pod
        do {
            pod = try ResourceCodec.decode(Pod.self, from: object)
        } catch {
            context.log("node agent: ignoring a pod the API sent that does not decode: \(error)")
            return
        }
        guard let uid = pod.metadata.uid, let name = pod.metadata.name else { return }
        let identity = PodIdentity(namespace: pod.metadata.namespace ?? "default", name: name, uid: uid)
        let deleting = pod.metadata.deletionTimestamp != nil
        let (existing, created) = state.withLock { state -> (PodWorker?, PodWorker?) in
            if let entry = state.workers[uid] { return (entry.worker, nil) }
            guard !state.stopping, !deleting, !state.finished.contains(uid) else { return (nil, nil) }
            // A pod in a final phase is not run again (after a daemon restart, too).
            if let phase = pod.status?.phase, phase == .succeeded || phase == .failed { return (nil, nil) }
            let worker = PodWorker(pod: pod, identity: identity, context: context)
            let task = Task { [self] in
                let completed = await worker.run()
                self.state.withLock { state in
                    state.workers[uid] = nil
                    if completed { state.finished.insert(uid) }
                }
                return completed
            }
            state.workers[uid] = (worker, task)
            return (nil, worker)
        }
        if let existing {
            existing.update(pod)
            if deleting { existing.terminate(gracePeriod: gracePeriod(of: pod), reason: .deleted) }
        }
        if created != nil { context.log("node agent: starting pod \(identity)") }
    }

    private func deleted(_ object: JSONValue) {
        guard let uid = object["metadata"]?["uid"]?.stringValue else { return }
        let worker = state.withLock { state -> PodWorker? in
            state.finished.remove(uid)
            return state.workers[uid]?.worker
        }
        let pod = try? ResourceCodec.decode(Pod.self, from: object)
        guard let worker else {
            // A pod that had ended: only its logs are left.
            if let pod, let name = pod.metadata.name {
                let identity = PodIdentity(namespace: pod.metadata.namespace ?? "default", name: name, uid: uid)
                try? Files.removeTree(context.configuration.logDirectory(of: identity))
            }
            return
        }
        context.log("node agent: stopping deleted pod \(worker.identity)")
        worker.terminate(gracePeriod: pod.map(gracePeriod(of:)) ?? context.configuration.second * 30, reason: .deleted)
    }

    /// The deletion's grace period, else the pod's own (30 s by default).
    private func gracePeriod(of pod: Pod) -> Duration {
        let seconds = pod.metadata.deletionGracePeriodSeconds.map(Int64.init) ?? pod.spec.terminationGracePeriodSeconds ?? 30
        return context.configuration.second * Int(max(0, min(seconds, 1 << 40)))
    }

    /// Stops every pod and waits until each is gone.
    private func stopAll(gracePeriod: Duration) async {
        let entries = state.withLock { state in
            state.stopping = true
            return Array(state.workers.values)
        }
        if !entries.isEmpty { context.log("node agent: stopping \(entries.count) pods") }
        for entry in entries { entry.worker.terminate(gracePeriod: gracePeriod, reason: .agentShutdown) }
        for entry in entries { _ = await entry.task.value }
    }

    /// Rotates container logs that grew past the limit, now and then.
    private func rotateLogs() async {
        let configuration = context.configuration
        while (try? await context.clock.sleep(for: configuration.logCheckInterval)) != nil {
            let paths = context.logFiles.withLock { $0.values.flatMap { $0 } }
            for path in paths { _ = try? ContainerLogs.rotate(path, limit: configuration.logLimitBytes) }
        }
    }
}
