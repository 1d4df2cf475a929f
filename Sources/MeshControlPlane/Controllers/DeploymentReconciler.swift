import MeshModel

/// The Deployment controller's decisions, as pure functions of a Deployment,
/// the pods it controls and the time.
///
/// meshlab serves no ReplicaSets: a Deployment owns its pods directly. The
/// pods of one template revision — those whose `pod-template-hash` label is
/// the hash of that template — play the part of a ReplicaSet, and are
/// called a *pod set* here and in what users see (`Scaled up pod set
/// web-5d4b8c9f7 from 1 to 3`, `Pod set "web-5d4b8c9f7" has successfully
/// progressed.`), where Kubernetes says "replica set". Condition reasons
/// keep Kubernetes' names (NewReplicaSetAvailable, ReplicaSetUpdated, ...):
/// clients such as `kubectl rollout status` read them.
///
/// The arithmetic is the deployment controller's (pkg/controller/deployment
/// rolling.go, recreate.go, sync.go), with a pod set's size being its pod
/// count: there is no ReplicaSet controller in between, so scaling a pod
/// set and creating or deleting its pods are one step.
enum DeploymentReconciler {
    static let hashLabel = "pod-template-hash"

    /// What one sync does to the pods.
    struct Plan: Sendable {
        var creates: [Pod] = []
        var deletes: [Pod] = []
        /// Pod sets whose size changes, for `ScalingReplicaSet` events.
        var scalings: [Scaling] = []
        /// Whether this sync starts the pod set of the current template.
        var startsNewPodSet = false

        var isEmpty: Bool { creates.isEmpty && deletes.isEmpty }
    }

    struct Scaling: Equatable, Sendable {
        var podSet: String
        var from: Int
        var to: Int

        /// The deployment controller's event text, with "pod set" for "replica set".
        var message: String { "Scaled \(to > from ? "up" : "down") pod set \(podSet) from \(from) to \(to)" }
    }

    // MARK: Template hash and names

    /// The pod-template-hash of a template: FNV-1a (32 bits) of its
    /// canonical JSON and the collision count, written in Kubernetes'
    /// "safe" alphabet as `rand.SafeEncodeString(fmt.Sprint(hash))` does.
    /// Kubernetes hashes the Go struct dump instead, so the values differ
    /// from a cluster's, but look the same and are as stable.
    static func templateHash(_ template: PodTemplateSpec, collisionCount: Int32? = nil) -> String {
        var hash: UInt32 = 2_166_136_261
        func add(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
        }
        add(ValueCodec.encode(template).serializedBytes(.canonical))
        if let collisionCount { add(String(collisionCount).utf8) }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    /// `<deployment>-<hash>`: the name of a pod set, and its pods' name prefix.
    static func podSetName(_ deployment: Deployment, hash: String) -> String {
        "\(deployment.metadata.name ?? "")-\(hash)"
    }

    /// A pod of the current template: the template's labels plus
    /// `pod-template-hash`, its annotations and spec, owned by the
    /// Deployment. Like the ReplicaSet controller's pods it has only a
    /// `generateName` (`web-5d4b8c9f7-`): the API server picks the name.
    static func newPod(_ deployment: Deployment, hash: String) -> Pod {
        let template = deployment.spec.template
        // SimpleNameGenerator: the prefix is cut so that prefix + 5 characters fits 63.
        let prefix = String((podSetName(deployment, hash: hash) + "-").prefix(58))
        var metadata = ObjectMeta(namespace: deployment.metadata.namespace,
                                  labels: (template.metadata?.labels ?? [:]).merging([hashLabel: hash]) { _, new in new },
                                  annotations: template.metadata?.annotations)
        metadata.generateName = prefix
        metadata.finalizers = template.metadata?.finalizers
        var owner = OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name ?? "",
                                   uid: deployment.metadata.uid ?? "", controller: true)
        owner.blockOwnerDeletion = true
        metadata.ownerReferences = [owner]
        return Pod(metadata: metadata, spec: template.spec)
    }

    // MARK: Pod facts

    /// Neither finished nor being deleted (controller.FilterActivePods).
    static func isActive(_ pod: Pod) -> Bool {
        let phase = pod.status?.phase
        return phase != .succeeded && phase != .failed && pod.metadata.deletionTimestamp == nil
    }

    static func readyCondition(_ pod: Pod) -> PodCondition? {
        pod.status?.conditions?.first { $0.type == "Ready" }
    }

    static func isReady(_ pod: Pod) -> Bool { readyCondition(pod)?.status == .true }

    /// Ready for more than `minReadySeconds` (podutil.IsPodAvailable).
    static func isAvailable(_ pod: Pod, minReadySeconds: Int, now: Int) -> Bool {
        guard let condition = readyCondition(pod), condition.status == .true else { return false }
        if minReadySeconds == 0 { return true }
        guard let since = condition.lastTransitionTime.flatMap(Timestamp.parse) else { return false }
        return since + minReadySeconds < now
    }

    /// Scale-down order, least valuable first (controller.ActivePods): not
    /// on a node, Pending before Unknown before Running, not ready, ready
    /// for less time, more restarts, newer; then by name, for a stable order.
    static func deletionOrder(_ pods: [Pod]) -> [Pod] {
        func phaseRank(_ pod: Pod) -> Int {
            switch pod.status?.phase {
            case .pending?, nil: 0
            case .unknown?: 1
            case .running?: 2
            default: 3
            }
        }
        func restarts(_ pod: Pod) -> Int {
            (pod.status?.containerStatuses ?? []).reduce(0) { $0 + Int($1.restartCount) }
        }
        func time(_ text: String?) -> Int { text.flatMap(Timestamp.parse) ?? 0 }
        return pods.sorted { a, b in
            let assignedA = !(a.spec.nodeName ?? "").isEmpty
            let assignedB = !(b.spec.nodeName ?? "").isEmpty
            if assignedA != assignedB { return !assignedA }
            if phaseRank(a) != phaseRank(b) { return phaseRank(a) < phaseRank(b) }
            if isReady(a) != isReady(b) { return !isReady(a) }
            if isReady(a) {
                let readyA = time(readyCondition(a)?.lastTransitionTime)
                let readyB = time(readyCondition(b)?.lastTransitionTime)
                if readyA != readyB { return readyA > readyB }
            }
            if restarts(a) != restarts(b) { return restarts(a) > restarts(b) }
            let createdA = time(a.metadata.creationTimestamp)
            let createdB = time(b.metadata.creationTimestamp)
            if createdA != createdB { return createdA > createdB }
            return (a.metadata.name ?? "") > (b.metadata.name ?? "")
        }
    }

    // MARK: Strategy numbers

    static func isRollingUpdate(_ deployment: Deployment) -> Bool {
        deployment.spec.strategy?.type != .recreate
    }

    /// maxSurge rounded up and maxUnavailable rounded down against the
    /// replicas, and 1 unavailable when both come to 0 (ResolveFenceposts).
    static func fenceposts(_ deployment: Deployment) -> (surge: Int, unavailable: Int) {
        let desired = Int(deployment.spec.replicas ?? 1)
        let rolling = deployment.spec.strategy?.rollingUpdate
        let surge = (rolling?.maxSurge ?? .int(0)).scaled(total: desired, roundUp: true) ?? 0
        var unavailable = (rolling?.maxUnavailable ?? .int(0)).scaled(total: desired, roundUp: false) ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    static func maxSurge(_ deployment: Deployment) -> Int {
        isRollingUpdate(deployment) ? fenceposts(deployment).surge : 0
    }

    static func maxUnavailable(_ deployment: Deployment) -> Int {
        let desired = Int(deployment.spec.replicas ?? 1)
        guard isRollingUpdate(deployment), desired > 0 else { return 0 }
        return min(fenceposts(deployment).unavailable, desired)
    }

    // MARK: Plan

    /// One step towards the Deployment's spec: scale the current pod set,
    /// or else scale down old ones as far as availability allows (rolling
    /// update); delete every old pod, then scale the current set (Recreate).
    /// A paused Deployment is left as it is.
    ///
    /// `pods` are the active and inactive pods the Deployment controls.
    static func plan(_ deployment: Deployment, pods: [Pod], now: Int) -> Plan {
        guard deployment.spec.paused != true else { return Plan() }
        let hash = templateHash(deployment.spec.template, collisionCount: deployment.status?.collisionCount)
        let active = pods.filter(isActive)
        let current = active.filter { $0.metadata.labels?[hashLabel] == hash }
        let old = active.filter { $0.metadata.labels?[hashLabel] != hash }
        let desired = Int(deployment.spec.replicas ?? 1)
        let minReady = Int(deployment.spec.minReadySeconds ?? 0)
        var plan = Plan()

        func scaleCurrent(to target: Int) {
            if target > current.count {
                plan.creates = Array(repeating: newPod(deployment, hash: hash), count: target - current.count)
                plan.startsNewPodSet = current.isEmpty
            } else if target < current.count {
                plan.deletes += deletionOrder(current).prefix(current.count - target)
            }
            if target != current.count {
                plan.scalings.append(Scaling(podSet: podSetName(deployment, hash: hash), from: current.count, to: target))
            }
        }

        if !isRollingUpdate(deployment) {
            if !old.isEmpty {
                plan.deletes = deletionOrder(old)
                plan.scalings = podSets(old).map {
                    Scaling(podSet: podSetName(deployment, hash: $0.hash), from: $0.pods.count, to: 0)
                }
                return plan
            }
            scaleCurrent(to: desired)
            return plan
        }

        // reconcileNewReplicaSet.
        if current.count > desired {
            scaleCurrent(to: desired)
            return plan
        }
        if current.count < desired {
            let maxTotal = desired + maxSurge(deployment)
            if active.count < maxTotal {
                scaleCurrent(to: current.count + min(maxTotal - active.count, desired - current.count))
                return plan
            }
        }
        // reconcileOldReplicaSets.
        guard !old.isEmpty else { return plan }
        let minAvailable = desired - maxUnavailable(deployment)
        let currentUnavailable = current.count - current.filter { isAvailable($0, minReadySeconds: minReady, now: now) }.count
        let maxScaledDown = active.count - minAvailable - currentUnavailable
        guard maxScaledDown > 0 else { return plan }
        var remaining: [(hash: String, pods: [Pod])] = podSets(old)
        var deleted: [String: Int] = [:]
        // cleanupUnhealthyReplicas: old pods that are not available go first.
        var cleanup = 0
        for i in remaining.indices where cleanup < maxScaledDown {
            let unhealthy = deletionOrder(remaining[i].pods.filter { !isAvailable($0, minReadySeconds: minReady, now: now) })
            let doomed = unhealthy.prefix(maxScaledDown - cleanup)
            cleanup += doomed.count
            plan.deletes += doomed
            deleted[remaining[i].hash, default: 0] += doomed.count
            let names = Set(doomed.compactMap(\.metadata.name))
            remaining[i].pods.removeAll { names.contains($0.metadata.name ?? "") }
        }
        // scaleDownOldReplicaSetsForRollingUpdate: then as many as availability allows.
        let available = active.filter { isAvailable($0, minReadySeconds: minReady, now: now) }.count
        var scaleDown = available - minAvailable
        for i in remaining.indices where scaleDown > 0 {
            let doomed = deletionOrder(remaining[i].pods).prefix(scaleDown)
            scaleDown -= doomed.count
            plan.deletes += doomed
            deleted[remaining[i].hash, default: 0] += doomed.count
        }
        for set in podSets(old) where (deleted[set.hash] ?? 0) > 0 {
            plan.scalings.append(Scaling(podSet: podSetName(deployment, hash: set.hash), from: set.pods.count,
                                         to: set.pods.count - deleted[set.hash]!))
        }
        return plan
    }

    /// Old pods grouped by template hash, oldest set first (the order
    /// Kubernetes scales old ReplicaSets down in).
    static func podSets(_ pods: [Pod]) -> [(hash: String, pods: [Pod])] {
        var sets: [String: [Pod]] = [:]
        for pod in pods { sets[pod.metadata.labels?[hashLabel] ?? "", default: []].append(pod) }
        func born(_ pods: [Pod]) -> Int { pods.compactMap { $0.metadata.creationTimestamp.flatMap(Timestamp.parse) }.min() ?? 0 }
        return sets.map { (hash: $0.key, pods: $0.value) }.sorted {
            born($0.pods) != born($1.pods) ? born($0.pods) < born($1.pods) : $0.hash < $1.hash
        }
    }

    // MARK: Status

    /// What went wrong creating pods, for the ReplicaFailure condition.
    struct CreateFailure: Equatable, Sendable {
        /// Pods that could not be created: they still count as wanted.
        var count: Int
        var message: String
    }

    /// The Deployment's status once this sync's changes are made
    /// (calculateStatus and syncRolloutStatus), and in how many seconds to
    /// look again (a pod becoming available after minReadySeconds, the
    /// progress deadline), if ever.
    ///
    /// `pods` are the pods after the sync; `startsNewPodSet` comes from the
    /// plan; `failure` tells of pods that could not be created.
    static func status(_ deployment: Deployment, pods: [Pod], startsNewPodSet: Bool = false,
                       failure: CreateFailure? = nil, now: Int) -> (status: Deployment.Status, requeueAfter: Int?)
    {
        let hash = templateHash(deployment.spec.template, collisionCount: deployment.status?.collisionCount)
        let desired = Int(deployment.spec.replicas ?? 1)
        let minReady = Int(deployment.spec.minReadySeconds ?? 0)
        let active = pods.filter(isActive)
        let available = active.filter { isAvailable($0, minReadySeconds: minReady, now: now) }.count
        let stamp = Timestamp.format(epochSeconds: now)
        let old = deployment.status ?? Deployment.Status()

        var status = Deployment.Status()
        status.observedGeneration = Int64(deployment.metadata.generation ?? 0)
        status.replicas = Int32(active.count)
        status.updatedReplicas = Int32(active.filter { $0.metadata.labels?[hashLabel] == hash }.count)
        status.readyReplicas = Int32(active.filter(isReady).count)
        status.availableReplicas = Int32(available)
        // The wanted count, as the ReplicaSets' spec.replicas sum would be.
        status.unavailableReplicas = Int32(max(0, active.count + (failure?.count ?? 0) - available))
        status.collisionCount = old.collisionCount
        status.conditions = old.conditions

        func condition(_ type: String, _ value: ConditionStatus, _ reason: String, _ message: String) -> Deployment.Condition {
            var condition = Deployment.Condition(type: type, status: value, reason: reason, message: message)
            condition.lastUpdateTime = stamp
            condition.lastTransitionTime = stamp
            return condition
        }
        let podSet = podSetName(deployment, hash: hash)

        if available >= desired - maxUnavailable(deployment) {
            set(&status, condition("Available", .true, "MinimumReplicasAvailable", "Deployment has minimum availability."))
        } else {
            set(&status, condition("Available", .false, "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability."))
        }

        let deadline = deployment.spec.progressDeadlineSeconds.map(Int.init)
        if deployment.spec.paused == true {
            // checkPausedConditions: progress is not estimated while paused
            // (a reported timeout stays).
            if deadline != nil, find(status, "Progressing")?.reason != "ProgressDeadlineExceeded" {
                set(&status, condition("Progressing", .unknown, "DeploymentPaused", "Deployment is paused"))
            }
        } else if deadline == nil {
            status.conditions?.removeAll { $0.type == "Progressing" }
        } else {
            if find(status, "Progressing")?.reason == "DeploymentPaused" {
                set(&status, condition("Progressing", .unknown, "DeploymentResumed", "Deployment is resumed"))
            }
            if startsNewPodSet {
                set(&status, condition("Progressing", .true, "NewReplicaSetCreated", "Created new pod set \"\(podSet)\""))
            } else if find(status, "Progressing") == nil && status.updatedReplicas! > 0 {
                set(&status, condition("Progressing", .true, "FoundNewReplicaSet", "Found new pod set \"\(podSet)\""))
            }
            let current = find(status, "Progressing")
            let complete = status.updatedReplicas == Int32(desired) && status.replicas == Int32(desired)
                && status.availableReplicas == Int32(desired)
            let alreadyComplete = status.replicas == status.updatedReplicas && current?.reason == "NewReplicaSetAvailable"
            if !alreadyComplete {
                let progressed = status.updatedReplicas! > (old.updatedReplicas ?? 0)
                    || status.replicas! - status.updatedReplicas! < (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
                    || status.readyReplicas! > (old.readyReplicas ?? 0)
                    || status.availableReplicas! > (old.availableReplicas ?? 0)
                if complete {
                    set(&status, condition("Progressing", .true, "NewReplicaSetAvailable",
                                           "Pod set \"\(podSet)\" has successfully progressed."))
                } else if progressed {
                    var updated = condition("Progressing", .true, "ReplicaSetUpdated", "Pod set \"\(podSet)\" is progressing.")
                    if let current, current.status == .true { updated.lastTransitionTime = current.lastTransitionTime }
                    status.conditions?.removeAll { $0.type == "Progressing" }
                    set(&status, updated)
                } else if let current, current.reason != "NewReplicaSetAvailable",
                    current.reason == "ProgressDeadlineExceeded"
                        || (current.lastUpdateTime.flatMap(Timestamp.parse) ?? now) + deadline! < now
                {
                    set(&status, condition("Progressing", .false, "ProgressDeadlineExceeded",
                                           "Pod set \"\(podSet)\" has timed out progressing."))
                }
            }
        }

        if let failure {
            set(&status, condition("ReplicaFailure", .true, "FailedCreate", failure.message))
        } else {
            status.conditions?.removeAll { $0.type == "ReplicaFailure" }
        }
        if status.conditions?.isEmpty == true { status.conditions = nil }

        // When to look again: a ready pod reaching minReadySeconds, or the
        // progress deadline of a rollout that has not finished.
        var wake: [Int] = []
        if minReady > 0 {
            for pod in active where isReady(pod) && !isAvailable(pod, minReadySeconds: minReady, now: now) {
                if let since = readyCondition(pod)?.lastTransitionTime.flatMap(Timestamp.parse) {
                    wake.append(since + minReady + 1 - now)
                }
            }
        }
        if let deadline, deployment.spec.paused != true, let progressing = find(status, "Progressing"),
            progressing.status == .true, progressing.reason != "NewReplicaSetAvailable",
            let since = progressing.lastUpdateTime.flatMap(Timestamp.parse)
        {
            wake.append(since + deadline + 1 - now)
        }
        return (status, wake.map { max(1, $0) }.min())
    }

    static func find(_ status: Deployment.Status, _ type: String) -> Deployment.Condition? {
        status.conditions?.first { $0.type == type }
    }

    /// SetDeploymentCondition: a condition with the same status and reason
    /// is left alone; one with the same status keeps its transition time;
    /// the new one goes last.
    static func set(_ status: inout Deployment.Status, _ condition: Deployment.Condition) {
        var condition = condition
        if let existing = find(status, condition.type) {
            if existing.status == condition.status && existing.reason == condition.reason { return }
            if existing.status == condition.status { condition.lastTransitionTime = existing.lastTransitionTime }
        }
        var conditions = (status.conditions ?? []).filter { $0.type != condition.type }
        conditions.append(condition)
        status.conditions = conditions
    }
}
