import MeshClient
import MeshControlPlane
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// The agent with real processes (`/bin/sh`, `sleep`) against the real API
/// server in process; no root needed (sandboxes without namespaces).
@Suite(.serialized) struct AgentIntegrationTests {
    @Test func aCrashingContainerRestartsWithGrowingBackOff() async throws {
        try await AgentHarness.with { h in
            try await h.create("""
                metadata: {name: crasher}
                spec:
                  containers:
                  - {name: app, image: busybox, command: [/bin/sh, -c, "echo run $(POD_NAME); exit 3"],
                     env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}
                """)
            let pod = try await h.wait("crasher", for: "three restarts") { ($0.app?.restartCount ?? 0) >= 3 }
            #expect(pod.status?.phase == .running)
            #expect(pod.app?.lastState?.terminated?.exitCode == 3)
            #expect(pod.app?.lastState?.terminated?.reason == "Error")
            #expect(pod.status?.podIP == "127.0.0.1")
            let waiting = h.statuses(of: "crasher").compactMap { $0.containerStatuses?.first?.state?.waiting }
            let messages = waiting.filter { $0.reason == "CrashLoopBackOff" }.compactMap(\.message)
            #expect(messages.contains { $0.hasPrefix("back-off 300ms restarting failed container=app pod=crasher_default(") })
            #expect(messages.contains { $0.hasPrefix("back-off 600ms ") })
            #expect(h.events.of("crasher").contains { $0.reason == "BackOff" })
            let log = try h.log(of: pod, container: "app")
            let runs = ContainerLogs.runs(log)
            #expect(runs.count >= 4)
            // The newest run may not have written yet.
            #expect(runs.dropLast().allSatisfy { $0.output == "run crasher\n" })
            #expect(["", "run crasher\n"].contains(runs.last?.output))
            #expect(log.contains("--- meshlab: container app started (run 1) at "))
        }
    }

    @Test(arguments: [("OnFailure", 0, PodPhase.succeeded), ("Never", 3, .failed), ("OnFailure", 1, .running)])
    func restartPolicies(_ policy: String, _ code: Int32, _ phase: PodPhase) async throws {
        try await AgentHarness.with { h in
            let created = try await h.create("""
                metadata: {name: job}
                spec:
                  restartPolicy: \(policy)
                  containers: [{name: app, image: busybox, command: [/bin/sh, -c, "exit \(code)"]}]
                """)
            if phase == .running {
                // OnFailure restarts a failure.
                let pod = try await h.wait("job", for: "a restart") { ($0.app?.restartCount ?? 0) >= 1 }
                #expect(pod.status?.phase == .running)
                return
            }
            let pod = try await h.wait("job", for: phase.rawValue) { $0.status?.phase == phase }
            #expect(pod.app?.state?.terminated?.exitCode == code)
            #expect(pod.app?.restartCount == 0)
            try await h.wait(for: "the sandbox to go") { h.sandboxes.destroyed.contains(created.metadata.uid!) }
            #expect(h.agent.pods.isEmpty)
        }
    }

    @Test func aReadinessProbeFlipsReady() async throws {
        try await AgentHarness.with { h in
            let flag = h.directory + "/ready"
            try await h.create("""
                metadata: {name: web}
                spec:
                  containers:
                  - name: app
                    image: busybox
                    command: [/bin/sleep, "60"]
                    readinessProbe: {exec: {command: [/bin/sh, -c, "test -f \(flag)"]}, periodSeconds: 1, timeoutSeconds: 50, failureThreshold: 2}
                """)
            var pod = try await h.wait("web", for: "running") { $0.app?.state?.running != nil }
            #expect(pod.app?.ready == false)
            #expect(pod.condition("Ready")?.status == .false)
            try Files.writeAtomically(flag, [])
            pod = try await h.wait("web", for: "ready") { $0.condition("Ready")?.status == .true }
            #expect(pod.app?.ready == true)
            #expect(pod.condition("ContainersReady")?.status == .true)
            _ = try Files.remove(flag)
            pod = try await h.wait("web", for: "not ready again") { $0.condition("Ready")?.status == .false }
            #expect(pod.condition("Ready")?.message == "containers with unready status: [app]")
            #expect(h.events.of("web").contains { $0.reason == "Unhealthy" && $0.message.hasPrefix("Readiness probe failed") })
            #expect(pod.app?.restartCount == 0)
        }
    }

    @Test func aLivenessFailureRestartsTheContainer() async throws {
        try await AgentHarness.with { h in
            try await h.create("""
                metadata: {name: web}
                spec:
                  terminationGracePeriodSeconds: 5
                  containers:
                  - name: app
                    image: busybox
                    command: [/bin/sleep, "60"]
                    livenessProbe: {exec: {command: [/bin/sh, -c, "echo not alive; exit 1"]}, periodSeconds: 1, timeoutSeconds: 50, failureThreshold: 2}
                """)
            let pod = try await h.wait("web", for: "a restart") { ($0.app?.restartCount ?? 0) >= 1 }
            // sleep dies of the SIGTERM: 128 + 15.
            #expect(pod.app?.lastState?.terminated?.exitCode == 143)
            let events = h.events.of("web")
            #expect(events.contains { $0.reason == "Unhealthy" && $0.message == "Liveness probe failed: not alive" })
            #expect(events.contains { $0.reason == "Killing" && $0.message == "Container app failed liveness probe, will be restarted" })
        }
    }

    @Test func deletingThePodKillsItsProcesses() async throws {
        try await AgentHarness.with { h in
            // The shell ignores SIGTERM: the SIGKILL after the grace period ends it.
            let created = try await h.create("""
                metadata: {name: stubborn}
                spec:
                  terminationGracePeriodSeconds: 3
                  containers:
                  - {name: app, image: busybox, command: [/bin/sh, -c, "trap '' TERM; echo up; while true; do sleep 0.05; done"]}
                  - {name: quiet, image: busybox, command: [/bin/sleep, "60"]}
                """)
            let pod = try await h.wait("stubborn", for: "both containers running") { pod in
                (pod.status?.containerStatuses ?? []).allSatisfy { $0.state?.running != nil } && pod.status?.containerStatuses?.count == 2
            }
            let pids = (pod.status?.containerStatuses ?? []).compactMap { $0.containerID?.split(separator: "/").last.flatMap { Int32($0) } }
            #expect(pids.count == 2)
            #expect(pids.allSatisfy(ProcessTable.isAlive))
            try await h.delete("stubborn")
            try await h.wait(for: "the pod to stop") { h.agent.pods.isEmpty }
            #expect(pids.allSatisfy { !ProcessTable.isAlive($0) })
            #expect(h.sandboxes.destroyed.contains(created.metadata.uid!))
            #expect(h.agent.processCount == 0)
            let killing = h.events.of("stubborn").filter { $0.reason == "Killing" }.map(\.message).sorted()
            #expect(killing == ["Stopping container app", "Stopping container quiet"])
        }
    }

    @Test func anImageThatCannotRunSaysSo() async throws {
        try await AgentHarness.with { h in
            try await h.create("""
                metadata: {name: db}
                spec: {containers: [{name: db, image: "docker.io/library/postgres:16"}]}
                """)
            let message = ContainerPlan.cannotRunMessage(image: "docker.io/library/postgres:16", container: "db")
            let pod = try await h.wait("db", for: "ErrImagePull") { $0.app?.state?.waiting?.reason == "ErrImagePull" }
            #expect(pod.app?.state?.waiting?.message == message)
            #expect(pod.status?.phase == .pending)
            #expect(h.events.of("db").contains { $0 == PodEventRecord(.warning, "Failed", message, fieldPath: "spec.containers{db}") })
        }
    }

    @Test func initContainersRunBeforeTheApp() async throws {
        try await AgentHarness.with { h in
            let trail = h.directory + "/trail"
            try Files.writeAtomically(trail, [])
            try Files.setMode(trail, 0o666)
            try await h.create("""
                metadata: {name: ordered}
                spec:
                  restartPolicy: Never
                  initContainers:
                  - {name: first, image: busybox, command: [/bin/sh, -c, "echo first >> \(trail)"]}
                  - {name: proxy, image: busybox, restartPolicy: Always, command: [/bin/sh, -c, "echo proxy >> \(trail); exec sleep 60"],
                     startupProbe: {exec: {command: [/bin/true]}, periodSeconds: 1, timeoutSeconds: 50}}
                  - {name: second, image: busybox, command: [/bin/sh, -c, "echo second >> \(trail)"]}
                  containers:
                  - {name: app, image: busybox, command: [/bin/sh, -c, "echo app >> \(trail)"]}
                """)
            let pod = try await h.wait("ordered", for: "Succeeded") { $0.status?.phase == .succeeded }
            #expect(String(decoding: try Files.read(trail), as: UTF8.self) == "first\nproxy\nsecond\napp\n")
            // The sidecar was stopped once the app was done.
            let proxy = pod.status?.initContainerStatuses?.first { $0.name == "proxy" }
            #expect(proxy?.state?.terminated?.exitCode == 143)
            #expect(pod.condition("Initialized")?.status == .true)
        }
    }

    @Test func theEnvironmentAndUserAreTheContainers() async throws {
        try await AgentHarness.with { h in
            try await h.client.call(.post, "/api/v1/namespaces/default/configmaps",
                                    body: ["metadata": ["name": "settings"], "data": ["LEVEL": "debug"]])
            let created = try await h.create("""
                metadata: {name: env, labels: {app: env}}
                spec:
                  restartPolicy: Never
                  containers:
                  - name: app
                    image: busybox
                    command: [/bin/sh, -c, 'echo "$POD_NAME $POD_IP $APP $LEVEL $GREETING $(id -u) $(pwd) $HOME"']
                    workingDir: /tmp
                    env:
                    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                    - {name: LEVEL, valueFrom: {configMapKeyRef: {name: settings, key: LEVEL}}}
                    - {name: GREETING, value: "hello $(POD_NAME)"}
                """)
            // The sandbox of a completed pod goes at once; its logs stay until it is deleted.
            let pod = try await h.wait("env", for: "Succeeded") { $0.status?.phase == .succeeded }
            try await h.wait(for: "the sandbox to go") { h.sandboxes.destroyed.contains(created.metadata.uid!) }
            let output = try h.log(of: pod, container: "app")
            let uid = AgentHarness.switchUser ? "65534" : String(CurrentProcess.effectiveUserID)
            #expect(ContainerLogs.output(output) == "env 127.0.0.1 env debug hello env \(uid) /tmp /tmp\n", "\(output)")
            try await h.delete("env")
            try await h.wait(for: "the logs to go with the pod") { (try? h.log(of: pod, container: "app")) == nil }
        }
    }

    @Test func theAgentStopsEveryPodWhenItStops() async throws {
        let h = try AgentHarness()
        do {
            try await h.start()
            try await h.create("metadata: {name: a}\nspec: {containers: [{name: app, image: busybox, command: [/bin/sleep, '60']}]}")
            let pod = try await h.wait("a", for: "running") { $0.app?.state?.running != nil }
            let pid = pod.app?.containerID?.split(separator: "/").last.flatMap { Int32($0) }
            await h.stop()
            #expect(pid.map { !ProcessTable.isAlive($0) } == true)
            #expect(h.sandboxes.live.isEmpty)
            #expect(h.agent.processCount == 0)
        } catch {
            await h.stop()
            throw error
        }
    }

    @Test func aNewDaemonSweepsWhatACrashedOneLeftAndRecreatesPods() async throws {
        let directory = try Files.makeTemporaryDirectory(prefix: "meshlab-agent-test")
        let store = ResourceStore(options: StoreOptions(log: { _ in }))
        // What a crashed daemon leaves: a recorded process, a sandbox, and a pod whose status says Running.
        let orphan = try ChildProcess.spawn({
            var spawn = SpawnConfiguration(executable: "/bin/sleep", arguments: ["60"])
            spawn.newSession = true
            return spawn
        }())
        defer {
            try? orphan.send(.kill)
            _ = try? orphan.wait()
        }
        try ProcessRecords(directory: directory + "/agent/processes").add("old-uid_app", processID: orphan.pid)
        let leftover = PodSandbox(pod: PodIdentity(namespace: "default", name: "gone", uid: "old-uid"), networkNamespace: nil,
                                  ip: "127.0.0.1", hostname: "gone", resolvConf: nil, hosts: nil, directory: directory + "/gone")
        let h = try AgentHarness(directory: directory, store: store, leftovers: [leftover])
        do {
            try await h.start()
            try await h.wait(for: "the old sandbox to go") { h.sandboxes.destroyed.contains("old-uid") }
            // The orphan was killed (it is our child here, so it waits as a zombie to be reaped).
            try await h.wait(for: "the orphan to die") { (try? orphan.tryWait()) != nil }
            let created = try await h.create("metadata: {name: a}\nspec: {containers: [{name: app, image: busybox, command: [/bin/sleep, '60']}]}")
            let uid = created.metadata.uid!
            try await h.wait("a", for: "running") { $0.app?.state?.running != nil }
            await h.stop()

            // The next daemon finds the pod in the store and runs it again, once.
            // It also finds the sandbox the pod had (a provider that kept it) and uses it again.
            let kept = PodSandbox(pod: PodIdentity(namespace: "default", name: "a", uid: uid), networkNamespace: nil,
                                  ip: "127.0.0.1", hostname: "a", resolvConf: nil, hosts: nil, directory: directory + "/kept")
            let next = try AgentHarness(directory: try Files.makeTemporaryDirectory(prefix: "meshlab-agent-test"), store: store,
                                        leftovers: [kept, leftover])
            do {
                try await next.start()
                let pod = try await next.wait("a", for: "running again") { (pod: Pod) -> Bool in
                    let app = pod.app
                    return app?.state?.running != nil && app?.restartCount == 1
                }
                #expect(pod.status?.phase == .running)
                #expect(next.agent.pods.count == 1)
                #expect(next.sandboxes.live.map(\.directory) == [directory + "/kept"])
                #expect(next.sandboxes.destroyed == ["old-uid"])
            } catch {
                await next.stop()
                throw error
            }
            await next.stop()
        } catch {
            await h.stop()
            throw error
        }
    }
}
