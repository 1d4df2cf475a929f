import MeshClient
import MeshControlPlane
import MeshIO
import MeshModel
import MeshSystem
import MeshTestSupport
import Synchronization
import Testing

@testable import MeshPod

/// Sandboxes without namespaces: a folder per pod and the loopback
/// address, so the agent runs real processes without root.
final class TestSandboxes: PodSandboxProvider {
    let root: String
    private let state: Mutex<(live: [String: PodSandbox], destroyed: [String])>

    init(root: String, leftovers: [PodSandbox] = []) {
        self.root = root
        state = Mutex((Dictionary(uniqueKeysWithValues: leftovers.map { ($0.pod.uid, $0) }), []))
    }

    func create(for pod: PodIdentity) async throws -> PodSandbox {
        if let existing = state.withLock({ $0.live[pod.uid] }) { return existing }
        let directory = "\(root)/\(pod.name)-\(pod.uid)"
        try Files.makeDirectories(directory, mode: 0o755)
        let sandbox = PodSandbox(pod: pod, networkNamespace: nil, ip: "127.0.0.1", hostname: pod.name, resolvConf: nil,
                                 hosts: nil, directory: directory)
        state.withLock { $0.live[pod.uid] = sandbox }
        return sandbox
    }

    func destroy(_ pod: PodIdentity) async throws {
        let sandbox = state.withLock { state -> PodSandbox? in
            state.destroyed.append(pod.uid)
            return state.live.removeValue(forKey: pod.uid)
        }
        if let sandbox { try Files.removeTree(sandbox.directory) }
    }

    func sandboxes() async -> [PodSandbox] { state.withLock { Array($0.live.values) } }

    var destroyed: [String] { state.withLock { $0.destroyed } }
    var live: [PodSandbox] { state.withLock { Array($0.live.values) } }
}

/// Starts processes through the real `meshlab __enter` when the binary is
/// built (without root: no hostname, hence no namespaces), else directly.
struct TestLauncher: ContainerLauncher {
    static let meshlab = try? MeshlabProcess.binary()
    static let isRoot = CurrentProcess.effectiveUserID == 0

    func launch(_ request: EnterRequest, environment: [String: String], output: FileDescriptor) throws -> ChildProcess {
        if let meshlab = Self.meshlab {
            var request = request
            if !Self.isRoot { request.hostname = nil }
            return try EnterLauncher(meshlabExecutable: meshlab).launch(request, environment: environment, output: output)
        }
        var spawn = SpawnConfiguration(executable: request.program, arguments: request.arguments, environment: environment)
        spawn.workingDirectory = request.workingDirectory
        spawn.standardInput = .null
        spawn.standardOutput = .descriptor(output)
        spawn.standardError = .descriptor(output)
        spawn.newSession = true
        return try ChildProcess.spawn(spawn)
    }
}

/// Pod events, kept for assertions.
final class MemoryEvents: PodEventSink {
    private let events = Mutex<[(pod: String, event: PodEventRecord)]>([])

    func record(_ event: PodEventRecord, pod: PodIdentity, at moment: Moment) {
        events.withLock { $0.append((pod.name, event)) }
    }

    func of(_ pod: String) -> [PodEventRecord] { events.withLock { $0.filter { $0.pod == pod }.map(\.event) } }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// A node agent against the real API server in process, with test
/// sandboxes and fast timings; everything it made goes away in `stop()`.
final class AgentHarness: Sendable {
    let directory: String
    let api: APIServer
    let client: APIClient
    let sandboxes: TestSandboxes
    let events = MemoryEvents()
    let agent: NodeAgent
    let configuration: NodeAgentConfiguration
    private let token = GracefulShutdownToken()
    private let running = Mutex<Task<Void, any Error>?>(nil)
    private let history = Mutex<[JSONValue]>([])
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    /// The switchUser the agent uses: only root with the real helper can change user.
    static let switchUser = TestLauncher.isRoot && TestLauncher.meshlab != nil

    /// - Parameter provider: real sandboxes (a `TestLab`'s); test sandboxes when nil.
    init(directory: String? = nil, store: ResourceStore? = nil, leftovers: [PodSandbox] = [],
         provider: (any PodSandboxProvider)? = nil, hostIP: String = "127.0.0.1",
         configure: (inout NodeAgentConfiguration) -> Void = { _ in }) throws {
        let directory = try directory ?? Files.makeTemporaryDirectory(prefix: "meshlab-agent-test")
        // The lab user (nobody) must reach the test's files.
        try Files.setMode(directory, 0o755)
        self.directory = directory
        api = APIServer(store: store ?? ResourceStore(options: StoreOptions(log: { _ in })))
        client = APIClient(transport: InProcessTransport(handler: api))
        sandboxes = TestSandboxes(root: directory + "/pods", leftovers: leftovers)
        var configuration = NodeAgentConfiguration(
            nodeName: "meshlab", hostIP: hostIP, meshlabExecutable: TestLauncher.meshlab ?? "/nonexistent/meshlab",
            directory: directory + "/agent")
        configuration.backoff = RestartBackoff.Policy(initial: .milliseconds(300), maximum: .milliseconds(1200))
        configuration.second = .milliseconds(100)
        configuration.statusDelay = .milliseconds(10)
        configuration.shutdownGracePeriod = .seconds(2)
        configuration.relistDelay = .milliseconds(100)
        configuration.switchUser = Self.switchUser
        configure(&configuration)
        self.configuration = configuration
        agent = try NodeAgent(client: client, sandboxes: provider ?? sandboxes, configuration: configuration, launcher: TestLauncher(),
                              events: events)
    }

    /// Creates the default namespace (with its service account) and starts the agent.
    func start() async throws {
        if (try? await client.get("/api/v1/namespaces/default")) == nil {
            try await client.call(.post, "/api/v1/namespaces", body: ["metadata": ["name": "default"]])
        }
        let agent = self.agent
        let token = self.token
        let task = Task { try await token.withCurrent { try await agent.run() } }
        running.withLock { $0 = task }
        let watch = Task { [self] in
            do {
                for try await event in client.watch("/api/v1/namespaces/default/pods") {
                    history.withLock { $0.append(event.object) }
                }
            } catch {}
        }
        watcher.withLock { $0 = watch }
    }

    /// Stops the agent gracefully and removes the test's files. Safe to call twice.
    func stop() async {
        token.trigger()
        let task = running.withLock { $0 }
        _ = try? await task?.value
        watcher.withLock { $0 }?.cancel()
        try? Files.removeTree(directory)
    }

    /// Runs `body` with a started harness, stopping it whatever happens.
    static func with(directory: String? = nil, configure: (inout NodeAgentConfiguration) -> Void = { _ in },
                     _ body: (AgentHarness) async throws -> Void) async throws {
        let harness = try AgentHarness(directory: directory, configure: configure)
        do {
            try await harness.start()
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @discardableResult
    func create(_ yaml: String) async throws -> Pod {
        try await create(object: try YAML.load(yaml).value)
    }

    @discardableResult
    func create(_ pod: Pod) async throws -> Pod {
        try await create(object: ResourceCodec.encode(pod))
    }

    private func create(object: JSONValue) async throws -> Pod {
        let reply = try await client.call(.post, "/api/v1/namespaces/default/pods", body: object)
        return try ResourceCodec.decode(Pod.self, from: reply.object)
    }

    func pod(_ name: String) async throws -> Pod {
        try ResourceCodec.decode(Pod.self, from: try await client.get("/api/v1/namespaces/default/pods/\(name)"))
    }

    func delete(_ name: String) async throws {
        try await client.call(.delete, "/api/v1/namespaces/default/pods/\(name)")
    }

    /// Waits until `condition` holds for the pod (polling; gives up after `timeout`).
    @discardableResult
    func wait(_ name: String, timeout: Duration = .seconds(30), for what: String,
              _ condition: (Pod) -> Bool) async throws -> Pod {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: Pod?
        while clock.now < deadline {
            if let pod = try? await pod(name) {
                last = pod
                if condition(pod) { return pod }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TimedOut(description: "pod \(name) never got to \(what); last status: \(last.flatMap(\.status).map { ValueCodec.encode($0).serialized() } ?? "none")")
    }

    /// Waits until `condition` holds (polling).
    func wait(timeout: Duration = .seconds(30), for what: String, _ condition: () async -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TimedOut(description: "never saw \(what)")
    }

    /// Every version of the pods the API has sent since `start()`.
    func statuses(of name: String) -> [PodStatus] {
        history.withLock { objects in
            objects.filter { $0["metadata"]?["name"]?.stringValue == name }
                .compactMap { try? ResourceCodec.decode(Pod.self, from: $0).status }
        }
    }

    func log(of pod: Pod, container: String) throws -> String {
        let identity = PodIdentity(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "",
                                   uid: pod.metadata.uid ?? "")
        return try ContainerLogs.read(directory: configuration.logDirectory(of: identity), container: container)
    }
}

extension Pod {
    var app: ContainerStatus? { status?.containerStatuses?.first }
    func condition(_ type: String) -> PodCondition? { status?.condition(type) }
}
