import MeshModel
import MeshSystem
import Testing

@testable import MeshPod

/// The agent with real sandboxes (network namespaces on a lab bridge of the
/// test's own): needs root, netns and python3; skipped elsewhere.
@Suite(.serialized, .enabled(if: NetworkTestSupport.available, "\(NetworkTestSupport.reason)"))
struct AgentNetworkTests {
    static let python = NetworkTestSupport.python

    func pod(_ name: String, restartPolicy: RestartPolicy? = nil, _ containers: [Container]) -> Pod {
        var spec = PodSpec(containers: containers)
        spec.restartPolicy = restartPolicy
        spec.terminationGracePeriodSeconds = 5
        return Pod(metadata: ObjectMeta(name: name, labels: ["app": name]), spec: spec)
    }

    @Test func podsRunInTheirOwnNetworkAsTheLabUser() async throws {
        try await TestLab.with { lab in
            let h = try AgentHarness(provider: lab.sandboxes, hostIP: lab.configuration.gatewayAddress)
            do {
                try await h.start()
                // A web server whose readiness an exec probe checks from inside its pod.
                var web = Container(name: "web", image: "python", command: [Self.python, "-m", "http.server", "8080"])
                web.workingDir = "/"
                var probe = Probe(exec: ExecAction(command: [
                    Self.python, "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/', timeout=2)",
                ]))
                probe.periodSeconds = 1
                probe.timeoutSeconds = 50
                web.readinessProbe = probe
                let created = try await h.create(pod("web", [web]))
                let ready = try await h.wait("web", for: "Ready") { $0.condition("Ready")?.status == .true }
                let ip = try #require(ready.status?.podIP)
                #expect(ip.hasPrefix("10.44."))
                #expect(ready.status?.hostIP == lab.configuration.gatewayAddress)

                // Another pod reaches it by its address; it runs as nobody, with its own hostname and files.
                let client = Container(name: "client", image: "python", command: [
                    "/bin/sh", "-c",
                    "id -u; hostname; grep -c \"$(hostname)\" /etc/hosts; \(Self.python) -c \"import urllib.request; print(urllib.request.urlopen('http://\(ip):8080/', timeout=5).status)\"",
                ])
                let check = try await h.create(pod("client", restartPolicy: .never, [client]))
                let done = try await h.wait("client", for: "Succeeded") { $0.status?.phase == .succeeded || $0.status?.phase == .failed }
                let output = ContainerLogs.output(try h.log(of: done, container: "client"))
                #expect(done.status?.phase == .succeeded, "\(output)")
                #expect(output == "65534\nclient\n1\n200\n")
                // A completed pod's sandbox is removed at once (its logs stay).
                try await h.wait(for: "the client's netns to go") {
                    !lab.namespaceNames.contains(lab.configuration.podNamespaceName(PodIdentity(
                        namespace: "default", name: "client", uid: check.metadata.uid!)))
                }

                // Deleting the server stops its process and removes its netns.
                let pid = try #require(ready.app?.containerID?.split(separator: "/").last.flatMap { Int32($0) })
                try await h.delete("web")
                try await h.wait(for: "the web pod to stop") { h.agent.pods.isEmpty }
                #expect(!ProcessTable.isAlive(pid))
                #expect(lab.namespaceNames == [lab.configuration.nodeNamespaceName])
                #expect(created.metadata.uid != nil)
            } catch {
                await h.stop()
                throw error
            }
            await h.stop()
            #expect(lab.namespaceNames == [lab.configuration.nodeNamespaceName])
        }
    }

    @Test func aBuiltInImageRunsItsApp() async throws {
        try await TestLab.with { lab in
            let h = try AgentHarness(provider: lab.sandboxes, hostIP: lab.configuration.gatewayAddress)
            do {
                try await h.start()
                // Istio's helloworld sample, as its manifest has it: the image alone says what runs.
                var hello = Container(name: "helloworld", image: "docker.io/istio/examples-helloworld-v2:1.0")
                hello.ports = [ContainerPort(containerPort: 5000)]
                var probe = Probe(exec: ExecAction(command: [
                    Self.python, "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/hello', timeout=2)",
                ]))
                probe.periodSeconds = 1
                probe.timeoutSeconds = 50
                hello.readinessProbe = probe
                try await h.create(pod("helloworld-v2-abc", [hello]))
                let ready = try await h.wait("helloworld-v2-abc", for: "Ready") { $0.condition("Ready")?.status == .true }
                let ip = try #require(ready.status?.podIP)
                #expect(ready.app?.imageID == "meshlab://app/helloworld")
                #expect(h.events.of("helloworld-v2-abc").contains {
                    $0.reason == "Pulled" && $0.message == "Container image \"docker.io/istio/examples-helloworld-v2:1.0\" is built into meshlab: meshlab app helloworld"
                })
                let client = Container(name: "curl", image: "python", command: [
                    Self.python, "-c", "import urllib.request; print(urllib.request.urlopen('http://\(ip):5000/hello', timeout=5).read().decode().strip())",
                ])
                try await h.create(pod("curl", restartPolicy: .never, [client]))
                let done = try await h.wait("curl", for: "Succeeded") { $0.status?.phase == .succeeded || $0.status?.phase == .failed }
                let output = ContainerLogs.output(try h.log(of: done, container: "curl"))
                #expect(output == "Hello version: v2, instance: helloworld-v2-abc\n")
            } catch {
                await h.stop()
                throw error
            }
            await h.stop()
            #expect(lab.namespaceNames == [lab.configuration.nodeNamespaceName])
        }
    }

    /// An injected pod's istio-init (Istio's proxyv2 image, istio-iptables'
    /// arguments, runAsUser 0) runs `meshlab pod-init` in the pod's netns
    /// before the app starts; the app then serves as before.
    @Test func istioInitWritesTheCaptureRulesInThePodsNetns() async throws {
        try await TestLab.with { lab in
            let h = try AgentHarness(provider: lab.sandboxes, hostIP: lab.configuration.gatewayAddress)
            do {
                try await h.start()
                var initContainer = Container(name: "istio-init", image: "docker.io/istio/proxyv2:1.24.0")
                initContainer.args = ["istio-iptables"] + injectedDefaultArguments
                initContainer.securityContext = SecurityContext(runAsUser: 0, runAsGroup: 0)
                var hello = Container(name: "helloworld", image: "docker.io/istio/examples-helloworld-v1:1.0")
                var probe = Probe(exec: ExecAction(command: [
                    Self.python, "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/hello', timeout=2)",
                ]))
                probe.periodSeconds = 1
                probe.timeoutSeconds = 50
                hello.readinessProbe = probe
                var pod = pod("hello-injected", [hello])
                pod.spec.initContainers = [initContainer]
                try await h.create(pod)
                let ready = try await h.wait("hello-injected", for: "Ready") { $0.condition("Ready")?.status == .true }
                let initStatus = try #require(ready.status?.initContainerStatuses?.first)
                #expect(initStatus.state?.terminated?.exitCode == 0)
                #expect(initStatus.imageID == "meshlab://pilot-agent")
                let log = ContainerLogs.output(try h.log(of: ready, container: "istio-init"))
                #expect(log.contains("pod-init: applied 18 rules"), "\(log)")
                let sandbox = try #require(await lab.sandboxes.sandboxes().first)
                let saved = try TestLab.enter(EnterRequest(networkNamespace: sandbox.networkNamespace, program: "iptables-save",
                                                           arguments: ["-t", "nat"]))
                #expect(saved.stdout.contains("-A OUTPUT -j ISTIO_OUTPUT"))
                #expect(saved.stdout.contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"))
            } catch {
                await h.stop()
                throw error
            }
            await h.stop()
            #expect(lab.namespaceNames == [lab.configuration.nodeNamespaceName])
        }
    }
}
