import MeshClient
import MeshControlPlane
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// The agent's writes through the real API: events, status, exec requests.
@Suite struct AgentAPITests {
    func api() async throws -> APIClient {
        let server = APIServer(store: ResourceStore(options: StoreOptions(log: { _ in })))
        let client = APIClient(transport: InProcessTransport(handler: server))
        try await client.call(.post, "/api/v1/namespaces", body: ["metadata": ["name": "default"]])
        return client
    }

    @Test func eventsAreWrittenAndRepeatsCounted() async throws {
        let client = try await api()
        let writer = APIEventWriter(client: client, nodeName: "meshlab")
        let pod = PodIdentity(namespace: "default", name: "web", uid: "u1")
        let backOff = PodEventRecord(.warning, "BackOff", "Back-off restarting failed container app in pod web_default(u1)",
                                     fieldPath: "spec.containers{app}")
        writer.record(PodEventRecord(.normal, "Started", "Started container app", fieldPath: "spec.containers{app}"),
                      pod: pod, at: moment(.zero))
        writer.record(backOff, pod: pod, at: moment(.seconds(1)))
        writer.record(backOff, pod: pod, at: moment(.seconds(12)))
        writer.finish()
        await writer.run()
        let items = try await client.get("/api/v1/namespaces/default/events")["items"]?.arrayValue ?? []
        let events = try items.map { try ResourceCodec.decode(Event.self, from: $0) }.sorted { $0.reason ?? "" < $1.reason ?? "" }
        #expect(events.map(\.reason) == ["BackOff", "Started"])
        let repeated = events[0]
        #expect(repeated.count == 2)
        #expect(repeated.type == "Warning")
        #expect(repeated.firstTimestamp == "2026-01-01T00:00:01Z")
        #expect(repeated.lastTimestamp == "2026-01-01T00:00:12Z")
        #expect(repeated.involvedObject == {
            var reference = ObjectReference(kind: "Pod", namespace: "default", name: "web", uid: "u1", apiVersion: "v1")
            reference.fieldPath = "spec.containers{app}"
            return reference
        }())
        #expect(repeated.source?.component == "kubelet")
        #expect(repeated.metadata.name?.hasPrefix("web.") == true)

        // An event that expired meanwhile is made again.
        let again = APIEventWriter(client: client, nodeName: "meshlab")
        let running = Task { await again.run() }
        let crash = PodEventRecord(.warning, "BackOff", "crash", fieldPath: "spec.containers{app}")
        func crashEvents() async throws -> [JSONValue] {
            (try await client.get("/api/v1/namespaces/default/events")["items"]?.arrayValue ?? []).filter { $0["message"] == "crash" }
        }
        again.record(crash, pod: pod, at: moment(.seconds(20)))
        try await waitUntil { try await crashEvents().count == 1 }
        let first = try await crashEvents()[0]["metadata"]?["name"]?.stringValue ?? ""
        try await client.call(.delete, "/api/v1/namespaces/default/events/\(first)")
        again.record(crash, pod: pod, at: moment(.seconds(40)))
        again.finish()
        await running.value
        let remade = try await crashEvents()
        #expect(remade.count == 1)
        #expect(remade.first?["count"] == 1)
        #expect(remade.first?["metadata"]?["name"]?.stringValue != first)
    }

    @Test func aStatusIsNeverWrittenToAnotherPodOfTheSameName() async throws {
        let client = try await api()
        let created = try await client.call(.post, "/api/v1/namespaces/default/pods", body: try YAML.load("""
            metadata: {name: web}
            spec: {containers: [{name: app, image: busybox}]}
            """).value).object
        let uid = created["metadata"]?["uid"]?.stringValue ?? ""
        let writer = PodStatusWriter(client: client, delay: .zero, clock: .system(), log: { _ in })
        var status = PodStatus(phase: .running)
        status.podIP = "10.44.0.9"
        writer.publish(status, for: PodIdentity(namespace: "default", name: "web", uid: uid))
        try await waitUntil { writer.isIdle }
        #expect(try await client.get("/api/v1/namespaces/default/pods/web")["status"]?["podIP"] == "10.44.0.9")
        // Same name, other uid: the JSON patch's test fails and nothing is written.
        status.podIP = "10.44.0.10"
        writer.publish(status, for: PodIdentity(namespace: "default", name: "web", uid: "someone-else"))
        try await waitUntil { writer.isIdle }
        #expect(try await client.get("/api/v1/namespaces/default/pods/web")["status"]?["podIP"] == "10.44.0.9")
    }

    @Test func execRunsInTheContainersContext() throws {
        let pod = try makePod("""
            metadata: {name: sleep, annotations: {kubectl.kubernetes.io/default-container: sleep}}
            spec:
              securityContext: {runAsUser: 1000}
              containers:
              - {name: istio-proxy, image: istio/proxyv2, command: [/bin/proxy]}
              - name: sleep
                image: curlimages/curl
                command: [/bin/sleep, infinity]
                workingDir: /work
                env: [{name: TARGET, value: productpage}]
            """)
        let sandbox = PodSandbox(pod: PodIdentity(namespace: "default", name: "sleep", uid: "uid-1"),
                                 networkNamespace: "/run/netns/meshlab-sleep", ip: "10.44.0.12", hostname: "sleep",
                                 resolvConf: "/s/resolv.conf", hosts: "/s/hosts", directory: "/s")
        let configuration = NodeAgentConfiguration(hostIP: "10.44.0.1", meshlabExecutable: "/usr/bin/meshlab", directory: "/unused")
        let (request, environment) = try PodExec.request(
            pod: pod, container: nil, command: ["curl", "-s", "http://$(TARGET):9080/productpage"], sandbox: sandbox,
            configuration: configuration, switchUser: true)
        #expect(request.networkNamespace == "/run/netns/meshlab-sleep")
        #expect(request.program == "curl")
        #expect(request.arguments == ["-s", "http://$(TARGET):9080/productpage"])  // exec does not expand
        #expect(request.userID == 1000)
        #expect(request.workingDirectory == "/work")
        #expect(environment["TARGET"] == "productpage")
        #expect(environment["HOSTNAME"] == "sleep")
        let spawn = EnterLauncher.configuration(meshlabExecutable: "/usr/bin/meshlab", request: request, environment: environment)
        #expect(spawn.arguments.first == "__enter")

        #expect(throws: PodExec.Failure.self) {
            try PodExec.request(pod: pod, container: "nope", command: ["true"], sandbox: sandbox, configuration: configuration)
        }
        #expect(try PodExec.container(of: pod, named: "istio-proxy").name == "istio-proxy")
    }

    func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<1000 where try await !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await condition())
    }
}
