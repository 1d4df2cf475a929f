import Glibc
import MeshModel
import MeshPod
import MeshSystem
import MeshTestSupport
import Synchronization

/// What the privileged network tests need, checked once: root, network
/// namespaces that can really be made, iptables, the meshlab binary (for
/// `__enter`) and python3 (tiny servers and clients inside pods).
enum NetworkTestSupport {
    static let unavailableReason: String? = {
        guard CurrentProcess.effectiveUserID == 0 else { return "needs root" }
        if let problem = Preflight.problems(Preflight.Facts.gather()).first { return problem.message }
        do {
            try NamespaceThread.shared.runBlocking { try Namespaces.unshare([.network]) }
        } catch {
            return "cannot make network namespaces here: \(error)"
        }
        guard (try? MeshlabProcess.binary()) != nil else { return "no meshlab binary (swift build)" }
        guard access(python, X_OK) == 0 else { return "needs \(python)" }
        return nil
    }()

    static var available: Bool { unavailableReason == nil }
    static var reason: String { unavailableReason ?? "" }

    static let python = "/usr/bin/python3"

    private static let counter = Atomic<Int>(0)

    /// A prefix unique to this test process and call, not starting with
    /// `meshlab-`, so neither parallel tests nor a real lab's sweep meet it.
    static func uniquePrefix() -> String {
        "mlt\(getpid())n\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
    }
}

/// A lab of its own for one test: a node network under a unique prefix, a
/// temporary state directory and a sandbox provider. `TestLab.with` tears
/// it all down (with the real sweep) even when the test fails.
final class TestLab: Sendable {
    let configuration: LabNetworkConfiguration
    let stateDirectory: String
    let node: NodeNetwork
    let sandboxes: NetworkSandboxProvider

    var podsDirectory: String { stateDirectory + "/pods" }

    private init(configuration: LabNetworkConfiguration, stateDirectory: String, node: NodeNetwork) {
        self.configuration = configuration
        self.stateDirectory = stateDirectory
        self.node = node
        sandboxes = NetworkSandboxProvider(configuration: configuration, podsDirectory: stateDirectory + "/pods")
    }

    static func with<T>(podCIDR: String = "10.44.0.0/16", _ body: (TestLab) async throws -> T) async throws -> T {
        let configuration = LabNetworkConfiguration(prefix: NetworkTestSupport.uniquePrefix(), podCIDR: IPv4CIDR(podCIDR)!)
        let state = try Files.makeTemporaryDirectory(prefix: "meshlab-nettest")
        let lab: TestLab
        do {
            lab = TestLab(configuration: configuration, stateDirectory: state,
                          node: try await NodeNetwork.create(configuration))
        } catch {
            _ = await LabSweep.sweep(configuration, podsDirectory: state + "/pods", grace: .zero)
            try? Files.removeTree(state)
            throw error
        }
        do {
            let result = try await body(lab)
            await lab.tearDown()
            return result
        } catch {
            await lab.tearDown()
            throw error
        }
    }

    func tearDown() async {
        _ = await LabSweep.sweep(configuration, podsDirectory: podsDirectory, grace: .milliseconds(200))
        try? Files.removeTree(stateDirectory)
    }

    /// Our namespaces now in the netns directory.
    var namespaceNames: [String] {
        NamedNetworkNamespaces.names(in: configuration.namespaceDirectory).filter(configuration.isLabNamespace)
    }

    static func pod(_ name: String, namespace: String = "default") -> PodIdentity {
        PodIdentity(namespace: namespace, name: name, uid: "\(name)-\(getpid())-uid")
    }

    /// Runs `meshlab __enter ...` (the real binary) to completion.
    static func enter(_ request: EnterRequest) throws -> MeshlabProcess.Result {
        try MeshlabProcess.runBlocking(request.commandLine, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"])
    }

    /// Starts a long-running `meshlab __enter ...` (a server in a pod); its
    /// output goes to `output`. Stop it with `stop`.
    static func start(_ request: EnterRequest, output: String) throws -> ChildProcess {
        var spawn = SpawnConfiguration(executable: try MeshlabProcess.binary(), arguments: request.commandLine,
                                       environment: ["PATH": "/usr/bin:/bin"])
        spawn.standardInput = .null
        spawn.standardOutput = .file(output)
        spawn.standardError = .file(output + ".err")
        return try ChildProcess.spawn(spawn)
    }

    static func stop(_ child: ChildProcess) {
        try? child.send(.kill)
        _ = try? child.wait()
    }

    /// Waits (up to 10 s) until `path` holds `text`: a server says it listens.
    static func waitFor(_ text: String, in path: String) async throws {
        for _ in 0..<1000 {
            if let bytes = try? Files.read(path), String(decoding: bytes, as: UTF8.self).contains(text) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        let errors = (try? Files.read(path + ".err")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        throw TimedOut(description: "\(path) never said \"\(text)\"; stderr: \(errors)")
    }

    struct TimedOut: Error, CustomStringConvertible { var description: String }

    /// A TCP server that answers every connection with `reply` and closes it.
    static func serverScript() -> [String] {
        ["-c", """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(sys.argv[1])))
        s.listen(256)
        print("listening", flush=True)
        while True:
            c, _ = s.accept()
            c.sendall(sys.argv[2].encode() + b"\\n")
            c.close()
        """]
    }

    /// Connects `count` times to host:port; prints how many answers each reply got
    /// (`refused`, `timeout` for failures), one `reply count` per line, sorted.
    static func clientScript() -> [String] {
        ["-c", """
        import socket, sys, collections
        host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        seen = collections.Counter()
        for _ in range(count):
            try:
                c = socket.create_connection((host, port), timeout=2)
                seen[c.recv(100).decode().strip()] += 1
                c.close()
            except ConnectionRefusedError:
                seen["refused"] += 1
            except OSError as e:
                seen["timeout" if isinstance(e, socket.timeout) else type(e).__name__] += 1
        for key in sorted(seen):
            print(key, seen[key])
        """]
    }

    /// Parses the client's `reply count` lines.
    static func counts(_ output: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let n = Int(parts[1]) { counts[String(parts[0])] = n }
        }
        return counts
    }
}
