import MeshModel

extension PodLifecycle {
    /// The pod's status as kubelet writes it: phase, conditions (with the
    /// times they last changed), addresses, and every container's state.
    /// Mutating only to remember condition transition times.
    public mutating func status(at now: Moment) -> PodStatus {
        let hasInit = containers.contains { $0.kind != .regular }
        let initStatuses = containers.filter { $0.kind != .regular }.map { containerStatus($0, hasInit: hasInit) }
        let statuses = containers.filter { $0.kind == .regular }.map { containerStatus($0, hasInit: hasInit) }
            .sorted { $0.name < $1.name }
        let terminal = (ending.map { $0.reason.writesStatus } ?? false) && !containers.contains(where: \.isActive)

        var status = PodStatus()
        if ending?.reason == .deadlineExceeded {
            status.phase = .failed
            status.reason = "DeadlineExceeded"
            status.message = "Pod was active on the node longer than the specified deadline"
        } else {
            status.phase = PodPhaseRules.phase(spec: pod.spec, initStatuses: initStatuses, statuses: statuses,
                                               podIsInitialized: initialized, podIsTerminal: terminal)
        }
        if !settings.hostIP.isEmpty {
            status.hostIP = settings.hostIP
            status.hostIPs = [PodStatus.IP(ip: settings.hostIP)]
        }
        if let podIP {
            status.podIP = podIP
            status.podIPs = [PodStatus.IP(ip: podIP)]
        }
        status.startTime = startTime
        status.initContainerStatuses = hasInit ? initStatuses : nil
        status.containerStatuses = statuses
        status.qosClass = PodPhaseRules.qosClass(pod.spec)
        status.conditions = conditions(phase: status.phase ?? .pending, now: now)
        return status
    }

    /// Conditions change with inputs, whenever status is read: their times
    /// are taken as each input is handled.
    mutating func noteTransitions(now: Moment) { _ = status(at: now) }

    private func containerStatus(_ record: ContainerRecord, hasInit: Bool) -> ContainerStatus {
        let ready = record.kind == .initContainer ? record.completed : record.ready && record.processID != nil
        var status = ContainerStatus(name: record.name, ready: ready, restartCount: record.restartCount)
        status.image = record.spec.image ?? ""
        status.imageID = record.spec.command?.isEmpty == false ? ""
            : record.spec.image.flatMap(BuiltInImage.resolve(image:)).map { "meshlab://" + ($0.isIstioProxy ? $0.app : "app/\($0.app)") } ?? ""
        status.started = record.processID != nil && record.started
        var processID = record.lastExit?.processID
        switch record.state {
        case .waiting:
            status.state = ContainerState(waiting: .init(reason: hasInit ? "PodInitializing" : "ContainerCreating"))
        case .starting:
            status.state = ContainerState(waiting: .init(reason: "ContainerCreating"))
        case .running(let pid, let since):
            status.state = ContainerState(running: .init(startedAt: since.timestamp))
            processID = pid
        case .backingOff(_, let reason, let message), .blocked(let reason, let message):
            status.state = ContainerState(waiting: .init(reason: reason, message: message))
        case .exited(let exit):
            status.state = ContainerState(terminated: terminated(exit))
            processID = exit.processID ?? processID
        }
        status.lastState = ContainerState(terminated: record.lastExit.map(terminated))
        status.containerID = processID.map { "meshlab://\($0)" }
        return status
    }

    private func terminated(_ exit: ContainerExit) -> ContainerState.Terminated {
        var terminated = ContainerState.Terminated(exitCode: exit.exitCode, reason: exit.reason)
        terminated.message = exit.message
        terminated.startedAt = exit.startedAt?.timestamp
        terminated.finishedAt = exit.finishedAt.timestamp
        terminated.containerID = exit.processID.map { "meshlab://\($0)" }
        return terminated
    }

    /// Kubelet's conditions, in its order.
    private mutating func conditions(phase: PodPhase, now: Moment) -> [PodCondition] {
        var sandboxReady = false
        if case .ready = sandbox { sandboxReady = true }
        let incomplete = containers.filter {
            $0.kind != .regular && !($0.kind == .sidecar ? $0.started : $0.completed)
        }.map(\.name)
        let unready = containers.filter { $0.kind != .initContainer && !($0.ready && $0.processID != nil) }.map(\.name)

        var containersReady: (ConditionStatus, String?, String?)
        if phase == .succeeded {
            containersReady = (.false, "PodCompleted", nil)
        } else if unready.isEmpty {
            containersReady = (.true, nil, nil)
        } else {
            containersReady = (.false, "ContainersNotReady", "containers with unready status: [\(unready.joined(separator: " "))]")
        }
        if conditionSince["PodScheduled"] == nil {
            conditionSince["PodScheduled"] = (.true, pod.metadata.creationTimestamp ?? startTime)
        }
        return [
            condition("PodReadyToStartContainers", sandboxReady ? .true : .false, now: now),
            initialized ? condition("Initialized", .true, now: now)
                : condition("Initialized", .false, reason: "ContainersNotInitialized",
                            message: "containers with incomplete status: [\(incomplete.joined(separator: " "))]", now: now),
            condition("Ready", containersReady.0, reason: containersReady.1, message: containersReady.2, now: now),
            condition("ContainersReady", containersReady.0, reason: containersReady.1, message: containersReady.2, now: now),
            condition("PodScheduled", .true, now: now),
        ]
    }

    private mutating func condition(_ type: String, _ status: ConditionStatus, reason: String? = nil,
                                    message: String? = nil, now: Moment) -> PodCondition {
        let time: String
        if let since = conditionSince[type], since.status == status {
            time = since.time
        } else {
            time = now.timestamp
            conditionSince[type] = (status, time)
        }
        var condition = PodCondition(type: type, status: status)
        condition.lastTransitionTime = time
        condition.reason = reason
        condition.message = message
        return condition
    }
}
