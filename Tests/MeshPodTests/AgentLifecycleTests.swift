import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

@Suite struct AgentLifecycleTests {
    static let simple = """
        metadata: {name: web}
        spec:
          containers: [{name: app, command: [/bin/app]}]
        """

    @Test func aPodGetsASandboxThenItsContainerAndBecomesReady() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        #expect(h.start() == [.createSandbox])
        #expect(h.status().phase == .pending)
        #expect(h.status().container("app")?.state?.waiting?.reason == "ContainerCreating")
        #expect(h.status().condition("PodReadyToStartContainers")?.status == .false)

        h.now = moment(.seconds(1))
        #expect(h.send(.sandboxCreated(ip: "10.44.0.7")).starts == ["app"])
        h.now = moment(.seconds(2))
        let started = h.send(.containerStarted(name: "app", attempt: 1, processID: 4242, builtInApp: nil))
        #expect(h.events.map(\.reason) == ["Created", "Started"])
        #expect(h.events.last?.message == "Started container app")
        #expect(h.events.last?.fieldPath == "spec.containers{app}")
        #expect(started.starts.isEmpty)

        let status = h.status()
        #expect(status.phase == .running)
        #expect(status.podIP == "10.44.0.7")
        #expect(status.podIPs == [PodStatus.IP(ip: "10.44.0.7")])
        #expect(status.hostIP == "10.44.0.1")
        #expect(status.startTime == "2026-01-01T00:00:00Z")
        #expect(status.qosClass == "BestEffort")
        let app = status.container("app")
        #expect(app?.ready == true)
        #expect(app?.started == true)
        #expect(app?.state?.running?.startedAt == "2026-01-01T00:00:02Z")
        #expect(app?.containerID == "meshlab://4242")
        #expect(status.conditions?.map(\.type) == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"])
        #expect(status.condition("Ready")?.status == .true)
        #expect(status.condition("Ready")?.lastTransitionTime == "2026-01-01T00:00:02Z")
        #expect(status.condition("PodReadyToStartContainers")?.lastTransitionTime == "2026-01-01T00:00:01Z")
        #expect(status.condition("Initialized")?.lastTransitionTime == "2026-01-01T00:00:00Z")
        #expect(h.kubectl() == "1/1 Running")
    }

    @Test func aCrashingContainerRestartsWithGrowingBackOff() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        h.now = moment(.seconds(1))
        // The first exit restarts at once.
        let first = h.exit("app", .exited(code: 1))
        #expect(first.starts == ["app"])
        #expect(h.events.map(\.reason).contains("BackOff") == false)
        h.startPending(first)
        #expect(h.status().container("app")?.restartCount == 1)

        h.now = moment(.seconds(2))
        let second = h.exit("app", .exited(code: 1))
        #expect(second.starts.isEmpty)
        #expect(second.wake == moment(.seconds(12)))
        #expect(h.events.last?.reason == "BackOff")
        #expect(h.events.last?.message == "Back-off restarting failed container app in pod web_default(uid-1)")
        var status = h.status()
        #expect(status.phase == .running)
        #expect(status.condition("Ready")?.status == .false)
        #expect(status.condition("Ready")?.message == "containers with unready status: [app]")
        let app = status.container("app")
        #expect(app?.state?.waiting?.reason == "CrashLoopBackOff")
        #expect(app?.state?.waiting?.message == "back-off 10s restarting failed container=app pod=web_default(uid-1)")
        #expect(app?.lastState?.terminated?.exitCode == 1)
        #expect(app?.lastState?.terminated?.reason == "Error")
        #expect(app?.lastState?.terminated?.startedAt == "2026-01-01T00:00:01Z")
        #expect(app?.lastState?.terminated?.finishedAt == "2026-01-01T00:00:02Z")
        #expect(app?.restartCount == 1)
        #expect(h.kubectl() == "0/1 CrashLoopBackOff")

        #expect(h.advance(.seconds(5)).starts.isEmpty)
        let third = h.advance(.seconds(5))
        #expect(third.starts == ["app"])
        h.startPending(third)
        #expect(h.status().container("app")?.restartCount == 2)
        h.now = h.now + .seconds(1)
        let fourth = h.exit("app", .signaled(.kill))
        #expect(fourth.wake == h.now + .seconds(20))
        status = h.status()
        #expect(status.container("app")?.state?.waiting?.message?.hasPrefix("back-off 20s ") == true)
        #expect(status.container("app")?.lastState?.terminated?.exitCode == 137)
    }

    @Test func aContainerThatExitsZeroUnderAlwaysBacksOffToo() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        h.startPending(h.exit("app", .exited(code: 0)))
        #expect(h.exit("app", .exited(code: 0)).starts.isEmpty)
        #expect(h.status().container("app")?.lastState?.terminated?.reason == "Completed")
        #expect(h.status().phase == .running)
    }

    @Test(arguments: [
        (RestartPolicy.onFailure, Int32(0), PodPhase.succeeded, "0/1 Completed"),
        (.never, 3, .failed, "0/1 Error"),
        (.never, 0, .succeeded, "0/1 Completed"),
    ])
    func policiesThatDoNotRestartEndThePod(_ policy: RestartPolicy, _ code: Int32, _ phase: PodPhase, _ kubectl: String) throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: job}
            spec:
              restartPolicy: \(policy.rawValue)
              containers: [{name: app, command: [/bin/app]}]
            """))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        let end = h.exit("app", .exited(code: code))
        #expect(end.starts.isEmpty)
        #expect(end.contains(.destroySandbox))
        #expect(!h.lifecycle.isFinished)
        h.send(.sandboxDestroyed)
        #expect(h.lifecycle.isFinished)
        #expect(h.lifecycle.publishesStatus)
        let status = h.status()
        #expect(status.phase == phase)
        #expect(status.container("app")?.state?.terminated?.exitCode == code)
        #expect(status.condition("Ready")?.status == .false)
        #expect(status.condition("Ready")?.reason == (phase == .succeeded ? "PodCompleted" : "ContainersNotReady"))
        #expect(status.condition("PodReadyToStartContainers")?.status == .false)
        #expect(status.podIP == "10.44.0.7")
        #expect(h.kubectl() == kubectl)
    }

    @Test func onFailureRestartsAFailure() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: job}
            spec: {restartPolicy: OnFailure, containers: [{name: app, command: [/bin/app]}]}
            """))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        #expect(h.exit("app", .exited(code: 2)).starts == ["app"])
    }

    static let withInit = """
        metadata: {name: web}
        spec:
          initContainers:
          - {name: init-a, command: [/bin/a]}
          - {name: init-b, command: [/bin/b]}
          containers: [{name: app, command: [/bin/app]}]
        """

    @Test func initContainersRunInOrderToCompletion() throws {
        var h = LifecycleHarness(try makePod(Self.withInit))
        h.start()
        let first = h.send(.sandboxCreated(ip: "10.44.0.7"))
        #expect(first.starts == ["init-a"])
        var status = h.status()
        #expect(status.phase == .pending)
        #expect(status.container("app")?.state?.waiting?.reason == "PodInitializing")
        #expect(status.container("init-b")?.state?.waiting?.reason == "PodInitializing")
        #expect(status.condition("Initialized")?.message == "containers with incomplete status: [init-a init-b]")
        h.startPending(first)
        #expect(h.kubectl() == "0/1 Init:0/2")

        #expect(h.exit("init-a", .exited(code: 0)).starts == ["init-b"])
        #expect(h.status().container("init-a")?.state?.terminated?.reason == "Completed")
        h.startPending(h.actions.suffix(1))
        #expect(h.kubectl() == "0/1 Init:1/2")
        // A failing init container restarts, with back-off, and the pod stays Pending.
        h.startPending(h.exit("init-b", .exited(code: 1)))
        let backingOff = h.exit("init-b", .exited(code: 1))
        #expect(backingOff.starts.isEmpty)
        status = h.status()
        #expect(status.phase == .pending)
        #expect(status.container("init-b")?.state?.waiting?.reason == "CrashLoopBackOff")
        #expect(h.kubectl() == "0/1 Init:CrashLoopBackOff")
        let retry = h.advance(.seconds(10))
        #expect(retry.starts == ["init-b"])
        h.startPending(retry)
        #expect(h.exit("init-b", .exited(code: 0)).starts == ["app"])
        status = h.status()
        #expect(status.condition("Initialized")?.status == .true)
        #expect(status.container("init-b")?.restartCount == 2)
    }

    @Test func aFailedInitContainerFailsTheNeverPod() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: web}
            spec:
              restartPolicy: Never
              initContainers:
              - {name: init-a, command: [/bin/a]}
              - {name: init-b, command: [/bin/b]}
              containers: [{name: app, command: [/bin/app]}]
            """))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        let end = h.exit("init-a", .exited(code: 7))
        #expect(end.starts.isEmpty)
        #expect(end.contains(.destroySandbox))
        let status = h.status()
        #expect(status.phase == .failed)
        #expect(status.container("init-a")?.state?.terminated?.exitCode == 7)
        #expect(status.container("app")?.state?.waiting?.reason == "PodInitializing")
        #expect(h.kubectl() == "0/1 Init:Error")
    }

    static let sidecar = """
        metadata: {name: productpage}
        spec:
          restartPolicy: Never
          initContainers:
          - {name: istio-init, command: [/bin/init]}
          - name: istio-proxy
            image: docker.io/istio/proxyv2:1.24.0
            command: [/bin/proxy]
            restartPolicy: Always
            startupProbe: {httpGet: {path: /healthz/ready, port: 15021}, periodSeconds: 1, failureThreshold: 600}
            readinessProbe: {httpGet: {path: /healthz/ready, port: 15021}, periodSeconds: 15}
          - {name: late-init, command: [/bin/late]}
          containers:
          - name: productpage
            image: docker.io/istio/examples-bookinfo-productpage-v1:1.20.3
            readinessProbe: {tcpSocket: {port: 9080}}
        """

    @Test func aNativeSidecarStartsInOrderAndKeepsRunning() throws {
        var h = LifecycleHarness(try makePod(Self.sidecar))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.9")))
        h.now = moment(.seconds(1))
        let proxyStart = h.exit("istio-init", .exited(code: 0))
        #expect(proxyStart.starts == ["istio-proxy"])
        let probing = h.startPending(proxyStart)
        // The next init container waits for the sidecar's startup probe.
        #expect(probing.starts.isEmpty)
        #expect(probing.contains { if case .startProbe("istio-proxy", _, .startup, _) = $0 { true } else { false } })
        #expect(h.status().container("istio-proxy")?.started == false)
        #expect(h.status().condition("Initialized")?.message == "containers with incomplete status: [istio-proxy late-init]")
        #expect(h.probe("istio-proxy", .startup, .failure("HTTP probe failed with statuscode: 503")).starts.isEmpty)
        #expect(h.events.last?.message == "Startup probe failed: HTTP probe failed with statuscode: 503")
        h.now = moment(.seconds(2))
        let next = h.probe("istio-proxy", .startup, .success)
        #expect(next.starts == ["late-init"])
        #expect(next.contains(.stopProbe(name: "istio-proxy", .startup)))
        #expect(next.contains { if case .startProbe("istio-proxy", _, .readiness, _) = $0 { true } else { false } })
        h.startPending(next)
        let app = h.exit("late-init", .exited(code: 0))
        #expect(app.starts == ["productpage"])
        h.startPending(app)
        var status = h.status()
        #expect(status.phase == .running)
        #expect(status.condition("Initialized")?.status == .true)
        #expect(status.condition("Ready")?.message == "containers with unready status: [istio-proxy productpage]")
        h.probe("istio-proxy", .readiness, .success)
        h.now = moment(.seconds(3))
        h.probe("productpage", .readiness, .success)
        status = h.status()
        #expect(status.condition("Ready")?.status == .true)
        #expect(status.container("istio-proxy")?.ready == true)
        #expect(h.kubectl() == "2/2 Running")  // kubectl counts the native sidecar
        checkGolden(YAML.dump(ValueCodec.encode(status)), "agent/sidecar-running-status.yaml")

        // A sidecar restarts whatever the pod's policy says, and does not undo initialization.
        h.now = moment(.seconds(4))
        let restart = h.exit("istio-proxy", .exited(code: 1))
        #expect(restart.starts == ["istio-proxy"])
        h.startPending(restart)
        #expect(h.status().condition("Initialized")?.status == .true)
        #expect(h.status().phase == .running)

        // The app finishes: the sidecar is stopped, and the pod succeeds.
        h.now = moment(.seconds(5))
        let done = h.exit("productpage", .exited(code: 0))
        #expect(done.signals == ["SIGTERM istio-proxy"])
        #expect(h.status().phase == .running)
        let end = h.exit("istio-proxy", .signaled(.terminate))
        #expect(end.contains(.destroySandbox))
        h.send(.sandboxDestroyed)
        status = h.status()
        #expect(status.phase == .succeeded)
        #expect(status.container("istio-proxy")?.state?.terminated?.exitCode == 143)
        #expect(status.condition("Initialized")?.status == .true)
        checkGolden(h.transcript.joined(separator: "\n") + "\n", "agent/sidecar-transcript.txt")
    }

    @Test func readinessFlipsReadyBothWays() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: web}
            spec:
              containers:
              - name: app
                command: [/bin/app]
                readinessProbe: {exec: {command: [cat, /tmp/ready]}, failureThreshold: 2, initialDelaySeconds: 3}
            """))
        h.start()
        let started = h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        #expect(started.contains { if case .startProbe("app", 1, .readiness, moment(.zero)) = $0 { true } else { false } })
        #expect(h.status().container("app")?.ready == false)
        #expect(h.status().container("app")?.started == true)
        h.now = moment(.seconds(3))
        h.probe("app", .readiness, .success)
        #expect(h.status().condition("Ready")?.status == .true)
        #expect(h.status().condition("Ready")?.lastTransitionTime == "2026-01-01T00:00:03Z")
        h.now = moment(.seconds(13))
        h.probe("app", .readiness, .failure("cat: /tmp/ready: No such file or directory"))
        #expect(h.status().condition("Ready")?.status == .true)
        h.now = moment(.seconds(23))
        h.probe("app", .readiness, .failure("cat: /tmp/ready: No such file or directory"))
        #expect(h.status().condition("Ready")?.status == .false)
        #expect(h.status().condition("Ready")?.lastTransitionTime == "2026-01-01T00:00:23Z")
        #expect(h.events.filter { $0.reason == "Unhealthy" }.count == 2)
        #expect(h.events.last?.message == "Readiness probe failed: cat: /tmp/ready: No such file or directory")
    }

    @Test func aLivenessFailureRestartsTheContainer() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: web}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: app
                command: [/bin/app]
                livenessProbe: {tcpSocket: {port: 80}, failureThreshold: 2}
            """))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        #expect(h.probe("app", .liveness, .failure("dial tcp 10.44.0.7:80: connect: connection refused")).signals.isEmpty)
        let kill = h.probe("app", .liveness, .failure("dial tcp 10.44.0.7:80: connect: connection refused"))
        #expect(kill.signals == ["SIGTERM app"])
        #expect(kill.contains(.stopProbe(name: "app", .liveness)))
        #expect(h.events.suffix(2).map(\.reason) == ["Unhealthy", "Killing"])
        #expect(h.events.last?.message == "Container app failed liveness probe, will be restarted")
        #expect(h.advance(.seconds(4)).signals.isEmpty)
        #expect(h.advance(.seconds(1)).signals == ["SIGKILL app"])
        let restart = h.exit("app", .signaled(.kill))
        #expect(restart.starts == ["app"])
        h.startPending(restart)
        let status = h.status()
        #expect(status.container("app")?.restartCount == 1)
        #expect(status.container("app")?.lastState?.terminated?.exitCode == 137)
    }

    @Test func deletionStopsContainersThenSidecarsInReverseThenTheSandbox() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: web}
            spec:
              initContainers:
              - {name: s1, command: [/bin/s1], restartPolicy: Always}
              - {name: s2, command: [/bin/s2], restartPolicy: Always}
              containers:
              - {name: a, command: [/bin/a]}
              - {name: b, command: [/bin/b]}
            """))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        h.startPending(h.actions.suffix(1))
        h.startPending(h.actions.suffix(2))
        #expect(["s1", "s2", "a", "b"].allSatisfy { h.pid($0) != nil })

        let stop = h.send(.terminate(gracePeriod: .seconds(30), reason: .deleted))
        #expect(stop.signals == ["SIGTERM a", "SIGTERM b"])
        #expect(!h.lifecycle.publishesStatus)
        #expect(h.exit("a", .signaled(.terminate)).signals.isEmpty)
        #expect(h.exit("b", .exited(code: 0)).signals == ["SIGTERM s2"])
        h.now = moment(.seconds(1))
        #expect(h.exit("s2", .exited(code: 0)).signals == ["SIGTERM s1"])
        #expect(h.advance(.seconds(29)).signals == ["SIGKILL s1"])
        let gone = h.exit("s1", .signaled(.kill))
        #expect(gone == [.destroySandbox])
        #expect(!h.lifecycle.isFinished)
        h.send(.sandboxDestroyed)
        #expect(h.lifecycle.isFinished)
        #expect(h.events.filter { $0.reason == "Killing" }.map(\.message)
            == ["Stopping container a", "Stopping container b", "Stopping container s2", "Stopping container s1"])
    }

    @Test func deletionDuringAStartKillsWhatStarts() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.send(.sandboxCreated(ip: "10.44.0.7"))
        #expect(h.send(.terminate(gracePeriod: .seconds(30), reason: .deleted)).isEmpty)
        let started = h.send(.containerStarted(name: "app", attempt: 1, processID: 77, builtInApp: nil))
        #expect(started.signals == ["SIGTERM app"])
        #expect(h.exit("app", .signaled(.terminate)) == [.destroySandbox])
    }

    @Test func deletionBeforeTheSandboxExistsEndsAtOnce() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        #expect(h.send(.terminate(gracePeriod: .seconds(30), reason: .deleted)).isEmpty)
        #expect(!h.lifecycle.isFinished)  // a sandbox is being made: wait for it
        #expect(h.send(.sandboxCreated(ip: "10.44.0.7")) == [.destroySandbox])
        h.send(.sandboxDestroyed)
        #expect(h.lifecycle.isFinished)
    }

    @Test func anImageThatCannotRunIsAnEventAndAWaitingReason() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: db}
            spec: {containers: [{name: db, image: "postgres:16"}]}
            """))
        h.start()
        h.send(.sandboxCreated(ip: "10.44.0.7"))
        let message = ContainerPlan.cannotRunMessage(image: "postgres:16", container: "db")
        let result = h.send(.containerStartFailed(name: "db", attempt: 1, ContainerStartFailure(.image, message)))
        #expect(result.wake == nil)  // nothing to retry until the spec changes
        #expect(h.events.last == PodEventRecord(.warning, "Failed", message, fieldPath: "spec.containers{db}"))
        let status = h.status()
        #expect(status.phase == .pending)
        #expect(status.container("db")?.state?.waiting?.reason == "ErrImagePull")
        #expect(status.container("db")?.state?.waiting?.message == message)
        #expect(h.kubectl() == "0/1 ErrImagePull")
    }

    @Test func aConfigurationErrorIsRetriedWithBackOff() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.send(.sandboxCreated(ip: "10.44.0.7"))
        let failed = h.send(.containerStartFailed(name: "app", attempt: 1,
                                                  ContainerStartFailure(.configuration, "configmap \"settings\" not found")))
        #expect(failed.wake == moment(.seconds(10)))
        #expect(h.events.last?.message == "Error: configmap \"settings\" not found")
        #expect(h.kubectl() == "0/1 CreateContainerConfigError")
        let retry = h.advance(.seconds(10))
        #expect(retry.starts == ["app"])
        h.startPending(retry)
        #expect(h.status().container("app")?.restartCount == 0)  // it never ran before
    }

    @Test func aProcessThatCouldNotBeLaunchedCountsAsAStartError() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.send(.sandboxCreated(ip: "10.44.0.7"))
        let result = h.send(.containerStartFailed(name: "app", attempt: 1,
                                                  ContainerStartFailure(.launch, "posix_spawn(/missing): No such file or directory")))
        #expect(result.starts == ["app"])  // a first failure restarts at once, as a crash
        let again = h.send(.containerStartFailed(name: "app", attempt: 2, ContainerStartFailure(.launch, "again")))
        #expect(again.wake == moment(.seconds(10)))
        let app = h.status().container("app")
        #expect(app?.lastState?.terminated?.reason == "StartError")
        #expect(app?.lastState?.terminated?.exitCode == 128)
    }

    @Test func resultsOfAnEarlierAttemptAreIgnored() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        h.startPending(h.exit("app", .exited(code: 1)))
        #expect(h.attempt("app") == 2)
        #expect(h.send(.containerExited(name: "app", attempt: 1, .exited(code: 1))).isEmpty)
        #expect(h.send(.probed(name: "app", attempt: 1, .readiness, .success)).isEmpty)
        #expect(h.pid("app") != nil)
        // A start that nobody waits for any more is killed.
        #expect(h.send(.containerStarted(name: "app", attempt: 1, processID: 9, builtInApp: nil)).signals == ["SIGKILL app"])
    }

    @Test func aSandboxThatCannotBeMadeIsRetried() throws {
        var h = LifecycleHarness(try makePod(Self.simple))
        h.start()
        let failed = h.send(.sandboxFailed("netns: permission denied"))
        #expect(h.events.last == PodEventRecord(.warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: netns: permission denied"))
        #expect(failed.wake == moment(.seconds(10)))
        #expect(h.advance(.seconds(10)) == [.createSandbox])
    }

    @Test func activeDeadlineFailsThePod() throws {
        var h = LifecycleHarness(try makePod("""
            metadata: {name: web}
            spec: {activeDeadlineSeconds: 60, containers: [{name: app, command: [/bin/app]}]}
            """))
        h.start()
        let started = h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7")))
        #expect(started.wake == moment(.seconds(60)))
        let stop = h.advance(.seconds(60))
        #expect(stop.signals == ["SIGTERM app"])
        #expect(h.events.contains { $0.reason == "DeadlineExceeded" })
        h.exit("app", .signaled(.terminate))
        let status = h.status()
        #expect(status.phase == .failed)
        #expect(status.reason == "DeadlineExceeded")
        #expect(h.lifecycle.publishesStatus)
    }

    @Test func aStatusFromAnEarlierAgentKeepsCountsAndTimes() throws {
        var stored = PodStatus(phase: .running)
        stored.startTime = "2025-12-31T23:00:00Z"
        var app = ContainerStatus(name: "app", ready: true, restartCount: 4)
        app.state = ContainerState(running: .init(startedAt: "2025-12-31T23:00:01Z"))
        stored.containerStatuses = [app]
        var initialized = PodCondition(type: "Initialized", status: .true)
        initialized.lastTransitionTime = "2025-12-31T23:00:02Z"
        var ready = PodCondition(type: "Ready", status: .true)
        ready.lastTransitionTime = "2025-12-31T23:00:02Z"
        stored.conditions = [initialized, ready]
        var h = LifecycleHarness(try makePod(Self.simple, status: stored))
        h.start()
        h.startPending(h.send(.sandboxCreated(ip: "10.44.0.8")))
        let status = h.status()
        #expect(status.startTime == "2025-12-31T23:00:00Z")
        #expect(status.container("app")?.restartCount == 5)
        #expect(status.condition("Initialized")?.lastTransitionTime == "2025-12-31T23:00:02Z")
        // The containers were started again: readiness went and came back.
        #expect(status.condition("Ready")?.lastTransitionTime == "2026-01-01T00:00:00Z")
    }

    @Test func phaseRulesFollowKubelet() throws {
        let pod = try makePod(Self.sidecar)
        func status(_ name: String, running: Bool = false, started: Bool = false, terminated: Int32? = nil,
                    waitingAfter: Int32? = nil) -> ContainerStatus {
            var s = ContainerStatus(name: name)
            s.started = started
            if running { s.state = ContainerState(running: .init()) }
            if let terminated { s.state = ContainerState(terminated: .init(exitCode: terminated)) }
            if let waitingAfter {
                s.state = ContainerState(waiting: .init(reason: "CrashLoopBackOff"))
                s.lastState = ContainerState(terminated: .init(exitCode: waitingAfter))
            }
            if s.state == nil { s.state = ContainerState(waiting: .init(reason: "PodInitializing")) }
            return s
        }
        let initDone = [status("istio-init", terminated: 0), status("istio-proxy", running: true, started: true),
                        status("late-init", terminated: 0)]
        #expect(PodPhaseRules.phase(spec: pod.spec, initStatuses: initDone, statuses: [status("productpage", running: true)],
                                    podIsInitialized: true, podIsTerminal: false) == .running)
        // The sidecar has not started yet: Pending.
        let proxyStarting = [status("istio-init", terminated: 0), status("istio-proxy", running: true), status("late-init")]
        #expect(PodPhaseRules.phase(spec: pod.spec, initStatuses: proxyStarting, statuses: [status("productpage")],
                                    podIsInitialized: false, podIsTerminal: false) == .pending)
        // A sidecar restarting after initialization does not make the pod Pending again.
        let proxyRestarting = [status("istio-init", terminated: 0), status("istio-proxy", running: true),
                               status("late-init", terminated: 0)]
        #expect(PodPhaseRules.phase(spec: pod.spec, initStatuses: proxyRestarting, statuses: [status("productpage", running: true)],
                                    podIsInitialized: true, podIsTerminal: false) == .running)
        // Never: a failed init container fails the pod.
        let initFailed = [status("istio-init", terminated: 1), status("istio-proxy"), status("late-init")]
        #expect(PodPhaseRules.phase(spec: pod.spec, initStatuses: initFailed, statuses: [status("productpage")],
                                    podIsInitialized: false, podIsTerminal: false) == .failed)
        // A stopped sidecar does not decide the phase.
        let sidecarStopped = [status("istio-init", terminated: 0), status("istio-proxy", terminated: 143),
                              status("late-init", terminated: 0)]
        #expect(PodPhaseRules.phase(spec: pod.spec, initStatuses: sidecarStopped, statuses: [status("productpage", terminated: 0)],
                                    podIsInitialized: true, podIsTerminal: true) == .succeeded)
        #expect(PodPhaseRules.qosClass(pod.spec) == "BestEffort")
    }
}
