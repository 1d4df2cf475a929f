@testable import MeshControlPlane
import MeshModel
import Testing

/// Runs `DeploymentReconciler.plan` step after step as the controller would,
/// with no clock moving: new pods start unready, and when a step has
/// nothing to do one unready pod becomes ready (the node agent's part).
/// Records each step and the bounds the strategy promises.
struct RolloutSimulation {
    var deployment: Deployment
    var pods: [Pod]
    var steps: [String] = []
    var maxPods = 0
    var minAvailable = Int.max
    let suffixes = SuffixSequence()

    init(_ deployment: Deployment, pods: [Pod]) {
        self.deployment = deployment
        self.pods = pods
        maxPods = pods.count
        minAvailable = pods.filter { DeploymentReconciler.isAvailable($0, minReadySeconds: 0, now: controllerNow) }.count
    }

    mutating func run(limit: Int = 100) {
        for _ in 0..<limit {
            let plan = DeploymentReconciler.plan(deployment, pods: pods, now: controllerNow)
            if plan.isEmpty {
                guard let index = pods.firstIndex(where: { !DeploymentReconciler.isReady($0) }) else { return }
                pods[index] = pods[index].ready()
                steps.append("ready")
                continue
            }
            let gone = Set(plan.deletes.map(\.name))
            pods.removeAll { gone.contains($0.name) }
            pods += plan.creates.map { pod in
                var pod = pod.created(at: controllerNow)
                pod.metadata.name = (pod.metadata.generateName ?? "") + suffixes.next()  // the API's part
                pod.spec.nodeName = "meshlab"
                return pod
            }
            var step: [String] = []
            if !plan.deletes.isEmpty { step.append("-\(plan.deletes.count)") }
            if !plan.creates.isEmpty { step.append("+\(plan.creates.count)") }
            steps.append(step.joined(separator: " "))
            maxPods = max(maxPods, pods.count)
            minAvailable = min(minAvailable, pods.filter { DeploymentReconciler.isAvailable($0, minReadySeconds: 0, now: controllerNow) }.count)
        }
        Issue.record("rollout did not settle in \(limit) steps: \(steps)")
    }

    var currentHash: String { DeploymentReconciler.templateHash(deployment.spec.template) }
}

func rollingStrategy(surge: JSONValue, unavailable: JSONValue) -> JSONValue {
    ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": surge, "maxUnavailable": unavailable]]
}

@Suite struct DeploymentReconcileTests {
    // MARK: Scale

    @Test func createsTheMissingPodsFromTheTemplate() {
        let deployment = makeDeployment(replicas: 3)
        let plan = DeploymentReconciler.plan(deployment, pods: [], now: controllerNow)
        #expect(plan.creates.count == 3)
        #expect(plan.deletes.isEmpty)
        #expect(plan.startsNewPodSet)
        let hash = DeploymentReconciler.templateHash(deployment.spec.template)
        let pod = plan.creates[0]
        #expect(pod.metadata.name == nil)  // the API server makes it from generateName
        #expect(pod.metadata.generateName == "web-\(hash)-")
        #expect(pod.metadata.namespace == "default")
        #expect(pod.metadata.labels == ["app": "web", "pod-template-hash": hash])
        let owner = pod.metadata.ownerReferences?.first
        #expect(owner?.kind == "Deployment" && owner?.apiVersion == "apps/v1" && owner?.name == "web")
        #expect(owner?.uid == "uid-web" && owner?.controller == true && owner?.blockOwnerDeletion == true)
        #expect(pod.spec == deployment.spec.template.spec)
        #expect(plan.scalings.map(\.message) == ["Scaled up pod set web-\(hash) from 0 to 3"])
    }

    @Test func scalesUpWithinTheSurgeAndDownByValue() {
        let up = makeDeployment(replicas: 5)
        let pods = currentPods(up, 3)
        let grow = DeploymentReconciler.plan(up, pods: pods, now: controllerNow)
        #expect(grow.creates.count == 2)
        #expect(!grow.startsNewPodSet)

        // Scale down takes the pods worth least first: not ready, then the newest.
        var mixed = currentPods(up, 4)
        mixed[1] = mixed[1].ready(false)
        mixed[3] = mixed[3].created(at: controllerNow - 10)
        let down = makeDeployment(replicas: 2)
        let shrink = DeploymentReconciler.plan(down, pods: mixed, now: controllerNow)
        #expect(shrink.creates.isEmpty)
        #expect(shrink.deletes.map(\.name) == [mixed[1].name, mixed[3].name])
        #expect(shrink.scalings.map { "\($0.from)->\($0.to)" } == ["4->2"])

        let zero = makeDeployment(replicas: 0)
        #expect(DeploymentReconciler.plan(zero, pods: mixed, now: controllerNow).deletes.count == 4)
    }

    @Test func leavesFinishedPodsOutAndPausedDeploymentsAlone() {
        let deployment = makeDeployment(replicas: 2)
        var pods = currentPods(deployment, 2)
        pods[0].status?.phase = .failed
        let plan = DeploymentReconciler.plan(deployment, pods: pods, now: controllerNow)
        #expect(plan.creates.count == 1)
        #expect(plan.deletes.isEmpty)

        let paused = makeDeployment(replicas: 5, paused: true)
        #expect(DeploymentReconciler.plan(paused, pods: pods, now: controllerNow).isEmpty)
    }

    // MARK: Rolling update

    @Test(arguments: [
        // replicas, maxSurge, maxUnavailable -> resolved surge, unavailable
        (4, JSONValue.string("25%"), JSONValue.string("25%"), 1, 1),
        (1, "25%", "25%", 1, 0),
        (10, "25%", "25%", 3, 2),
        (3, 0, 1, 0, 1),
        (2, "100%", 0, 2, 0),
        (5, 2, 2, 2, 2),
        (3, "0%", "10%", 0, 1),  // both round to 0: one may be unavailable
        (2, 1, "100%", 1, 2),
    ])
    func rollsWithinMaxSurgeAndMaxUnavailable(replicas: Int, surge: JSONValue, unavailable: JSONValue,
                                              expectedSurge: Int, expectedUnavailable: Int)
    {
        let v1 = makeDeployment(replicas: replicas, strategy: rollingStrategy(surge: surge, unavailable: unavailable))
        let v2 = makeDeployment(replicas: replicas, image: "nginx:2", strategy: rollingStrategy(surge: surge, unavailable: unavailable),
                                generation: 2)
        #expect(DeploymentReconciler.maxSurge(v2) == expectedSurge)
        #expect(DeploymentReconciler.maxUnavailable(v2) == min(expectedUnavailable, replicas))
        var rollout = RolloutSimulation(v2, pods: currentPods(v1, replicas))
        rollout.run()
        #expect(rollout.pods.count == replicas)
        #expect(rollout.pods.allSatisfy { $0.hash == rollout.currentHash && DeploymentReconciler.isReady($0) })
        #expect(rollout.maxPods <= replicas + expectedSurge, "\(rollout.steps)")
        #expect(rollout.minAvailable >= replicas - expectedUnavailable, "\(rollout.steps)")
    }

    @Test func defaultStrategyOnFourReplicasGoesOneUpOneDown() {
        let v1 = makeDeployment(replicas: 4)
        let v2 = makeDeployment(replicas: 4, image: "nginx:2", generation: 2)
        var rollout = RolloutSimulation(v2, pods: currentPods(v1, 4))
        rollout.run()
        // 25% of 4: one extra pod, one missing; an old pod goes only once a new one is ready.
        #expect(rollout.steps == ["+1", "-1", "+1", "ready", "-1", "+1", "ready", "-1", "+1", "ready", "-1", "ready"])
    }

    @Test func defaultStrategyOnOneReplicaWaitsForTheNewPod() {
        let v1 = makeDeployment(replicas: 1)
        let v2 = makeDeployment(replicas: 1, image: "nginx:2", generation: 2)
        var rollout = RolloutSimulation(v2, pods: currentPods(v1, 1))
        rollout.run()
        #expect(rollout.steps == ["+1", "ready", "-1"])
        #expect(rollout.minAvailable == 1)
    }

    @Test func noSurgeTakesAnOldPodDownFirst() {
        let strategy = rollingStrategy(surge: 0, unavailable: 1)
        let v1 = makeDeployment(replicas: 3, strategy: strategy)
        let v2 = makeDeployment(replicas: 3, image: "nginx:2", strategy: strategy, generation: 2)
        var rollout = RolloutSimulation(v2, pods: currentPods(v1, 3))
        rollout.run()
        #expect(rollout.steps == ["-1", "+1", "ready", "-1", "+1", "ready", "-1", "+1", "ready"])
    }

    @Test func unhealthyOldPodsGoFirst() {
        let v1 = makeDeployment(replicas: 4)
        let v2 = makeDeployment(replicas: 4, image: "nginx:2", generation: 2)
        var old = currentPods(v1, 4)
        old[2] = old[2].ready(false)
        var pods = old + currentPods(v2, 1, ready: false)
        // 5 pods, 3 available, 1 new one not: 5 - 3 (minAvailable) - 1 = 1 may go, and the unready old one goes first.
        let plan = DeploymentReconciler.plan(v2, pods: pods, now: controllerNow)
        #expect(plan.creates.isEmpty)
        #expect(plan.deletes.map(\.name) == [old[2].name])
        pods.removeAll { $0.name == old[2].name }
        // Now 4 pods: room for one more new pod within the surge.
        let next = DeploymentReconciler.plan(v2, pods: pods, now: controllerNow)
        #expect(next.creates.count == 1)
    }

    @Test func recreateDeletesEverythingOldThenCreates() {
        let recreate: JSONValue = ["type": "Recreate"]
        let v1 = makeDeployment(replicas: 3, strategy: recreate)
        let v2 = makeDeployment(replicas: 3, image: "nginx:2", strategy: recreate, generation: 2)
        #expect(DeploymentReconciler.maxSurge(v2) == 0 && DeploymentReconciler.maxUnavailable(v2) == 0)
        var rollout = RolloutSimulation(v2, pods: currentPods(v1, 3))
        rollout.run()
        #expect(rollout.steps == ["-3", "+3", "ready", "ready", "ready"])
        #expect(rollout.minAvailable == 0)
    }

    @Test func minReadySecondsGatesAvailability() {
        let v1 = makeDeployment(replicas: 1, minReadySeconds: 30)
        let v2 = makeDeployment(replicas: 1, image: "nginx:2", minReadySeconds: 30, generation: 2)
        let old = currentPods(v1, 1)
        let fresh = currentPods(v2, 1)[0].ready(since: controllerNow - 10)
        let waiting = DeploymentReconciler.plan(v2, pods: old + [fresh], now: controllerNow)
        #expect(waiting.isEmpty)
        let (status, again) = DeploymentReconciler.status(v2, pods: old + [fresh], now: controllerNow)
        #expect(status.readyReplicas == 2)
        #expect(status.availableReplicas == 1)
        #expect(again == 21)  // ready at now-10, available once more than 30 s have passed
        let later = DeploymentReconciler.plan(v2, pods: old + [fresh], now: controllerNow + 21)
        #expect(later.deletes.map(\.name) == [old[0].name])
    }

    // MARK: Names

    @Test func templateHashIsStableAndFollowsTheTemplate() {
        let a = DeploymentReconciler.templateHash(makeDeployment().spec.template)
        #expect(a == DeploymentReconciler.templateHash(makeDeployment(replicas: 7).spec.template))
        #expect(a != DeploymentReconciler.templateHash(makeDeployment(image: "nginx:2").spec.template))
        #expect(a != DeploymentReconciler.templateHash(makeDeployment().spec.template, collisionCount: 1))
        #expect(!a.isEmpty && a.count <= 10)
        #expect(a.allSatisfy { "4 5 6 7 8 9 b c d f".split(separator: " ").contains(Substring(String($0))) })
    }

    @Test func longNamesAreCutAsGenerateNameCutsThem() {
        let deployment = makeDeployment(String(repeating: "x", count: 60))
        let pod = DeploymentReconciler.newPod(deployment, hash: "5d4b8c9f7")
        #expect(pod.metadata.generateName?.count == 58)  // with 5 random characters, 63
    }
}

@Suite struct DeploymentStatusTests {
    @Test func completeDeploymentReportsEveryCountAndIsAvailable() {
        let deployment = makeDeployment(replicas: 3, generation: 4)
        let hash = DeploymentReconciler.templateHash(deployment.spec.template)
        let (status, again) = DeploymentReconciler.status(deployment, pods: currentPods(deployment, 3), now: controllerNow)
        #expect(status.observedGeneration == 4)
        #expect(status.replicas == 3 && status.updatedReplicas == 3 && status.readyReplicas == 3)
        #expect(status.availableReplicas == 3 && status.unavailableReplicas == 0)
        let conditions = (status.conditions ?? []).map { "\($0.type)=\($0.status.rawValue)/\($0.reason ?? "")" }
        #expect(conditions == ["Available=True/MinimumReplicasAvailable", "Progressing=True/NewReplicaSetAvailable"])
        #expect(DeploymentReconciler.find(status, "Progressing")?.message == "Pod set \"web-\(hash)\" has successfully progressed.")
        #expect(DeploymentReconciler.find(status, "Available")?.lastTransitionTime == "2023-11-14T22:13:20Z")
        #expect(again == nil)
    }

    @Test func rolloutInProgressIsProgressingAndCountsOldAndNew() {
        let v1 = makeDeployment(replicas: 4)
        var previous = Deployment.Status()
        previous.replicas = 4
        previous.updatedReplicas = 0
        previous.readyReplicas = 4
        previous.availableReplicas = 4
        let v2 = makeDeployment(replicas: 4, image: "nginx:2", generation: 2, status: ValueCodec.encode(previous))
        let pods = currentPods(v1, 3) + currentPods(v2, 2, ready: false)
        let (status, again) = DeploymentReconciler.status(v2, pods: pods, now: controllerNow)
        #expect(status.replicas == 5 && status.updatedReplicas == 2 && status.readyReplicas == 3)
        #expect(status.availableReplicas == 3 && status.unavailableReplicas == 2)
        #expect(DeploymentReconciler.find(status, "Available")?.status == .true)  // 3 >= 4 - 1
        let progressing = DeploymentReconciler.find(status, "Progressing")
        #expect(progressing?.reason == "ReplicaSetUpdated")
        #expect(progressing?.message?.hasSuffix("is progressing.") == true)
        #expect(again == 601)  // the progress deadline, 600 s, from now
    }

    @Test func missingAvailabilityAndFailedCreates() {
        let deployment = makeDeployment(replicas: 3)
        let failure = DeploymentReconciler.CreateFailure(count: 3, message: "pods \"x\" is forbidden: no")
        let (status, _) = DeploymentReconciler.status(deployment, pods: [], startsNewPodSet: false, failure: failure,
                                                      now: controllerNow)
        #expect(status.replicas == 0 && status.unavailableReplicas == 3)
        #expect(DeploymentReconciler.find(status, "Available")?.reason == "MinimumReplicasUnavailable")
        let replicaFailure = DeploymentReconciler.find(status, "ReplicaFailure")
        #expect(replicaFailure?.status == .true && replicaFailure?.reason == "FailedCreate")
        #expect(replicaFailure?.message == failure.message)

        var healed = deployment
        healed.status = status
        let (after, _) = DeploymentReconciler.status(healed, pods: currentPods(deployment, 3), now: controllerNow)
        #expect(DeploymentReconciler.find(after, "ReplicaFailure") == nil)
        #expect(DeploymentReconciler.find(after, "Available")?.status == .true)
    }

    @Test func newPodSetIsAnnouncedThenTimesOutWithoutProgress() {
        let deployment = makeDeployment(replicas: 2, progressDeadlineSeconds: 60)
        let pods = currentPods(deployment, 2, ready: false)
        let (started, again) = DeploymentReconciler.status(deployment, pods: pods, startsNewPodSet: true, now: controllerNow)
        let progressing = DeploymentReconciler.find(started, "Progressing")
        // Created and progressing at once: both numbers moved from nothing.
        #expect(progressing?.reason == "ReplicaSetUpdated")
        #expect(again == 61)

        var stuck = deployment
        stuck.status = started
        let (same, _) = DeploymentReconciler.status(stuck, pods: pods, now: controllerNow + 30)
        #expect(DeploymentReconciler.find(same, "Progressing")?.reason == "ReplicaSetUpdated")
        let (late, after) = DeploymentReconciler.status(stuck, pods: pods, now: controllerNow + 61)
        let timedOut = DeploymentReconciler.find(late, "Progressing")
        #expect(timedOut?.reason == "ProgressDeadlineExceeded" && timedOut?.status == .false)
        #expect(after == nil)
    }

    @Test func pausedAndResumed() {
        let paused = makeDeployment(replicas: 2, paused: true)
        let (status, _) = DeploymentReconciler.status(paused, pods: currentPods(paused, 2), now: controllerNow)
        let condition = DeploymentReconciler.find(status, "Progressing")
        #expect(condition?.status == .unknown && condition?.reason == "DeploymentPaused")
        var resumed = makeDeployment(replicas: 2)
        resumed.status = status
        let (after, _) = DeploymentReconciler.status(resumed, pods: currentPods(resumed, 2), now: controllerNow)
        #expect(DeploymentReconciler.find(after, "Progressing")?.reason == "NewReplicaSetAvailable")
    }
}
