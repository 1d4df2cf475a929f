import MeshModel

/// Kubelet's phase rules (pkg/kubelet's getPhase), read from the container
/// statuses as kubelet reads them.
public enum PodPhaseRules {
    /// - Parameters:
    ///   - podIsInitialized: initialization finished once (a sidecar that
    ///     restarts later does not make the pod Pending again).
    ///   - podIsTerminal: the pod has ended and nothing will restart (its
    ///     containers have stopped for good).
    public static func phase(spec: PodSpec, initStatuses: [ContainerStatus], statuses: [ContainerStatus],
                             podIsInitialized: Bool, podIsTerminal: Bool) -> PodPhase {
        let restartPolicy = spec.restartPolicy ?? .always
        func status(_ name: String, in list: [ContainerStatus]) -> ContainerStatus? { list.first { $0.name == name } }

        var pendingInit = 0
        var pendingSidecars = 0
        var failedInitialization = 0
        for container in spec.initContainers ?? [] where container.restartPolicy != .always {
            guard let s = status(container.name, in: initStatuses) else {
                pendingInit += 1
                continue
            }
            if s.state?.running != nil {
                pendingInit += 1
            } else if let terminated = s.state?.terminated {
                if terminated.exitCode != 0 { failedInitialization += 1 }
            } else if s.state?.waiting != nil {
                if let last = s.lastState?.terminated {
                    if last.exitCode != 0 { failedInitialization += 1 }
                } else {
                    pendingInit += 1
                }
            } else {
                pendingInit += 1
            }
        }

        var unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0
        for container in spec.initContainers ?? [] where container.restartPolicy == .always {
            guard let s = status(container.name, in: initStatuses) else {
                unknown += 1
                continue
            }
            if s.state?.running != nil {
                if s.started != true { pendingSidecars += 1 }
                running += 1
            } else if s.state?.terminated != nil {
                // A stopped sidecar does not count.
            } else if s.state?.waiting != nil {
                if s.lastState?.terminated == nil { pendingSidecars += 1 }
            } else {
                pendingSidecars += 1
            }
        }
        for container in spec.containers {
            guard let s = status(container.name, in: statuses) else {
                unknown += 1
                continue
            }
            if s.state?.running != nil {
                running += 1
            } else if let terminated = s.state?.terminated {
                stopped += 1
                if terminated.exitCode == 0 { succeeded += 1 }
            } else if s.state?.waiting != nil {
                if s.lastState?.terminated != nil { stopped += 1 } else { waiting += 1 }
            } else {
                unknown += 1
            }
        }

        if failedInitialization > 0 && restartPolicy == .never { return .failed }
        if pendingInit > 0 || (pendingSidecars > 0 && !podIsInitialized) { return .pending }
        if waiting > 0 { return .pending }
        if running > 0 && unknown == 0 { return .running }
        if running == 0 && stopped > 0 && unknown == 0 {
            if podIsTerminal { return stopped == succeeded ? .succeeded : .failed }
            if restartPolicy == .always { return .running }
            if stopped == succeeded { return .succeeded }
            if restartPolicy == .never { return .failed }
            return .running
        }
        return .pending
    }

    /// The pod's quality of service class (the apiserver's GetPodQOS, for cpu and memory).
    public static func qosClass(_ spec: PodSpec) -> String {
        let containers = (spec.initContainers ?? []) + spec.containers
        let resources = ["cpu", "memory"]
        var any = false
        var guaranteed = true
        for container in containers {
            let requests = container.resources?.requests ?? [:]
            let limits = container.resources?.limits ?? [:]
            for name in resources {
                if requests[name].map({ $0.value != 0 }) ?? false || limits[name].map({ $0.value != 0 }) ?? false { any = true }
                guard let limit = limits[name], limit.value != 0 else {
                    guaranteed = false
                    continue
                }
                if let request = requests[name], request != limit { guaranteed = false }
            }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
