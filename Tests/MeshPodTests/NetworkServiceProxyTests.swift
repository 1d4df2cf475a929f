import MeshIO
import MeshModel
import MeshSystem
import Synchronization
import Testing

@testable import MeshPod

/// Records loads instead of running iptables; fails loads on demand.
final class RecordingLoader: ServiceRulesLoader {
    struct Load: Sendable {
        var pod: PodIdentity
        var input: String
    }

    private let state = Mutex<(loads: [Load], saves: [PodIdentity], failing: Set<PodIdentity>, saved: String)>(([], [], [], ""))

    var loads: [Load] { state.withLock { $0.loads } }
    var saves: [PodIdentity] { state.withLock { $0.saves } }

    func fail(_ pod: PodIdentity, _ on: Bool) {
        state.withLock { if on { $0.failing.insert(pod) } else { $0.failing.remove(pod) } }
    }

    /// What `save` answers (an adopted sandbox's current rules).
    func setSaved(_ text: String) { state.withLock { $0.saved = text } }

    func load(_ input: String, into sandbox: PodSandbox) async throws {
        try state.withLock { state in
            if state.failing.contains(sandbox.pod) { throw SystemError(errno: 16, function: "iptables-restore (test)") }
            state.loads.append(Load(pod: sandbox.pod, input: input))
        }
    }

    func save(from sandbox: PodSandbox) async throws -> String {
        state.withLock { state in
            state.saves.append(sandbox.pod)
            return state.saved
        }
    }
}

@Suite struct NetworkServiceProxyTests {
    static func sandbox(_ name: String, ip: String) -> PodSandbox {
        PodSandbox(pod: PodIdentity(namespace: "default", name: name, uid: name + "-uid"),
                   networkNamespace: "/run/netns/test-\(name)", ip: ip, hostname: name, resolvConf: nil, hosts: nil,
                   directory: "/nonexistent/\(name)")
    }

    /// Polls (up to 10 s) until `condition` holds.
    static func eventually(_ what: String, _ condition: () async -> Bool) async throws {
        for _ in 0..<2000 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("never happened: \(what)")
    }

    @Test func followsServicesAndEndpointsIntoEverySandbox() async throws {
        let api = FakeServiceAPI()
        api.put("services", FakeServiceAPI.service("web", clusterIP: "10.96.0.50", port: 80, targetPort: "http"))
        let loader = RecordingLoader()
        let proxy = ServiceProxy(client: api.client, loader: loader)
        let running = Task { try await proxy.run() }
        defer { running.cancel() }

        let a = Self.sandbox("a", ip: "10.44.0.2")
        try await proxy.sandboxCreated(a)
        // A new sandbox's first load puts the OUTPUT jumps in.
        #expect(loader.loads.first?.input.contains("-A OUTPUT -m comment --comment \"meshlab service portals\"") == true)

        // Endpoints arrive (a burst of changes): the last state is what every sandbox ends with.
        for n in 2...6 {
            api.put("endpoints", FakeServiceAPI.endpoints("web", ips: (2...n).map { "10.44.0.\($0)" }, port: 8080))
        }
        let expected = ServiceRules(ports: [ServicePortRule(
            name: "default/web:http", clusterIP: "10.96.0.50", port: 80, proto: "tcp",
            endpoints: (2...6).map { .init(ip: "10.44.0.\($0)", port: 8080) })])
        try await Self.eventually("rules follow the endpoints") {
            let rules = await proxy.currentRules
            let synced = await proxy.isSynced(a.pod)
            return rules == expected && synced
        }
        let lastForA = try #require(loader.loads.last { $0.pod == a.pod })
        #expect(lastForA.input.contains("--to-destination 10.44.0.6:8080"))
        #expect(!lastForA.input.contains("-A OUTPUT"))

        // An adopted sandbox is asked what it has first.
        let b = Self.sandbox("b", ip: "10.44.0.3")
        loader.setSaved("*nat\n:MESHLAB-SVC-0000000000000000 - [0:0]\n-A OUTPUT -j MESHLAB-SERVICES\nCOMMIT\n")
        try await proxy.sandboxAdopted(b)
        #expect(loader.saves == [b.pod])
        let adoptedLoad = try #require(loader.loads.last { $0.pod == b.pod })
        #expect(adoptedLoad.input.contains("-X MESHLAB-SVC-0000000000000000"))
        #expect(!adoptedLoad.input.contains("meshlab service portals"))  // nat jump was there
        #expect(adoptedLoad.input.contains("meshlab services without endpoints"))  // filter jump was not

        // A sandbox that fails to load is tried again; a destroyed one is left alone.
        loader.fail(b.pod, true)
        await proxy.sandboxDestroyed(a.pod)
        let loadsOfA = loader.loads.filter { $0.pod == a.pod }.count
        api.delete("endpoints", namespace: "default", name: "web")
        try await Self.eventually("b's failure is recorded") { await proxy.failures[b.pod] != nil }
        loader.fail(b.pod, false)
        try await Self.eventually("b is retried") {
            let synced = await proxy.isSynced(b.pod)
            let failures = await proxy.failures
            return synced && failures.isEmpty
        }
        let last = try #require(loader.loads.last { $0.pod == b.pod })
        #expect(last.input.contains("-j REJECT"))
        #expect(loader.loads.filter { $0.pod == a.pod }.count == loadsOfA)
    }

    /// A Service without Endpoints keeps its (REJECT) rule whichever list answers first.
    @Test(arguments: 0..<5) func anEmptyEndpointsListDoesNotHideServices(round: Int) async throws {
        let api = FakeServiceAPI()
        api.put("services", FakeServiceAPI.service("web", clusterIP: "10.96.0.50", port: 80, targetPort: 8080))
        let loader = RecordingLoader()
        let proxy = ServiceProxy(client: api.client, loader: loader, debounce: .zero)
        let running = Task { try await proxy.run() }
        defer { running.cancel() }
        try await Self.eventually("both lists taken in") { await proxy.listsTakenIn == 2 }
        let a = Self.sandbox("a", ip: "10.44.0.2")
        try await proxy.sandboxCreated(a)
        try await Self.eventually("synced") { await proxy.isSynced(a.pod) }
        #expect(await proxy.currentRules.ports.map(\.name) == ["default/web:http"])
        #expect(loader.loads.last?.input.contains("-d 10.96.0.50/32 -p tcp") == true)
    }

    @Test func aFailedFirstLoadFailsTheCreation() async throws {
        let api = FakeServiceAPI()
        let loader = RecordingLoader()
        let proxy = ServiceProxy(client: api.client, loader: loader)
        let a = Self.sandbox("a", ip: "10.44.0.2")
        loader.fail(a.pod, true)
        await #expect(throws: SystemError.self) { try await proxy.sandboxCreated(a) }
        await proxy.sandboxDestroyed(a.pod)
        #expect(await proxy.failures.isEmpty)
    }

    @Test func watchRestartsFromAFreshListAfterAnError() async throws {
        let api = FakeServiceAPI()
        let proxy = ServiceProxy(client: api.client, loader: RecordingLoader())
        let running = Task { try await proxy.run() }
        defer { running.cancel() }
        try await Self.eventually("first lists") { api.listCount == 2 }
        api.put("services", ["apiVersion": "v1", "kind": "Status"])  // does not decode as a Service: ignored
        api.put("services", FakeServiceAPI.service("web", clusterIP: "10.96.0.9", port: 80, targetPort: 8080))
        try await Self.eventually("the service arrives") { await proxy.currentRules.ports.count == 1 }
        // The server ends both watches with a 410: the proxy lists again and keeps following.
        api.expireWatches()
        try await Self.eventually("lists again") { api.listCount == 4 }
        api.put("services", FakeServiceAPI.service("api", clusterIP: "10.96.0.10", port: 80, targetPort: 8080))
        try await Self.eventually("the next service arrives") { await proxy.currentRules.ports.count == 2 }
    }
}
