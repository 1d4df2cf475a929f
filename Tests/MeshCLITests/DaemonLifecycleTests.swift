import FoundationEssentials
import MeshCLI
import MeshClient
import MeshControlPlane
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A lab in a temporary state directory, run by the real binary, stopped
/// (killed if need be) and removed when the test ends, pass or fail.
final class TemporaryLab {
    let stateDirectory: String

    init() throws {
        stateDirectory = try Files.makeTemporaryDirectory(prefix: "meshlab-lab")
    }

    deinit {
        if case .running(let pid?, _) = probe() { try? Signals.send(.kill, to: pid) }
        _ = try? MeshlabProcess.runBlocking(["--state-dir", stateDirectory, "down", "--timeout", "5"])
        try? Files.removeTree(stateDirectory)
    }

    func meshlab(_ arguments: String...) async throws -> MeshlabProcess.Result {
        try await MeshlabProcess.run(["--state-dir", stateDirectory] + arguments)
    }

    func probe() -> DaemonProbe { DaemonProbe(StateDirectory(stateDirectory)) }

    var client: APIClient { APIClient(transport: UnixSocketTransport(socketPath: stateDirectory + "/api.sock")) }

    /// The daemon's log, for failure messages.
    var log: String {
        (try? Files.read(stateDirectory + "/logs/daemon.log")).map { String(decoding: $0, as: UTF8.self) } ?? "(no log)"
    }

    func pid() throws -> pid_t {
        guard case .running(let pid?, _) = probe() else { throw Failure("the lab is not running") }
        return pid
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// What `LabState` sees, restated for tests through the public files.
enum DaemonProbe {
    case running(pid_t?, DaemonInfo?)
    case stopped

    init(_ state: StateDirectory) {
        guard let lock = try? Files.open(state.daemonLock, .read) else {
            self = .stopped
            return
        }
        if (try? Files.lock(lock, .shared, wait: false)) == true {
            self = .stopped
            return
        }
        let pid = (try? Files.readAll(lock)).flatMap { Int32(String(decoding: $0, as: UTF8.self)) }
        self = .running(pid, DaemonInfo.read(from: state.daemonInfo))
    }
}

func processExists(_ pid: pid_t) -> Bool { ProcessTable.isAlive(pid) }

func configMapJSON(_ name: String) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["n": .string(name)]]
}

@Suite(.serialized) struct DaemonLifecycleTests {
    @Test func upStatusDownLeaveNothingRunning() async throws {
        let lab = try TemporaryLab()
        let up = try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane")
        #expect(up.code == 0, "\(up.stderr)")
        #expect(up.stdout.contains("] store: 10 objects"))  // 5 namespaces and their default ServiceAccounts
        #expect(up.stdout.contains("meshlab is up after"))

        let status = try await lab.meshlab("status", "-o", "json")
        #expect(status.code == 0)
        let report = try JSONValue(parsing: status.stdout)
        #expect(report["state"] == "up")
        #expect(report["ready"] == true)
        #expect(report["namespaces"] == 5)
        let apiURL = report["apiURL"]?.stringValue ?? ""
        #expect(apiURL.hasPrefix("http://127.0.0.1:"))
        #expect(try Files.mode(of: lab.stateDirectory + "/api.sock") & 0o777 == 0o600)

        // The TCP listener the launcher opened serves the same API.
        let port = UInt16(apiURL.split(separator: ":").last.map(String.init) ?? "") ?? 0
        let connection = try await SocketConnection.connect(to: .loopback(port: port), timeout: .seconds(5),
                                                            on: EventLoopGroup.shared.next())
        let response = try await HTTPClientConnection(stream: connection).send(
            HTTPRequest(method: .get, target: "/api/v1/namespaces/kube-system", headers: ["Host": "localhost"]))
        await connection.close()
        #expect(response.status.code == 200)
        #expect(try JSONValue(parsing: response.body)["metadata"]?["name"] == "kube-system")

        let again = try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane")
        #expect(again.code == 0)
        #expect(again.stdout.hasPrefix("meshlab is already up (pid "))

        let pid = try lab.pid()
        let down = try await lab.meshlab("down")
        #expect(down.code == 0)
        #expect(down.stdout.hasPrefix("meshlab is down (stopped pid \(pid) in "))
        #expect(!processExists(pid))
        #expect(try Files.kind(of: lab.stateDirectory + "/api.sock") == nil)
        #expect(try Files.kind(of: lab.stateDirectory + "/daemon.json") == nil)
        #expect(try await lab.meshlab("status").code == 3)
        #expect(try await lab.meshlab("down").stdout == "meshlab is not up\n")
        let get = try await lab.meshlab("get", "ns")
        #expect(get.code == 1)
        #expect(get.stderr.contains("meshlab is not up"))
    }

    @Test func upAfterACrashCleansUpAndKeepsObjects() async throws {
        let lab = try TemporaryLab()
        #expect(try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane").code == 0)
        try await lab.client.call(.post, "/api/v1/namespaces/default/configmaps", body: configMapJSON("survivor"))
        let pid = try lab.pid()
        try Signals.send(.kill, to: pid)
        for _ in 0..<200 where processExists(pid) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await lab.meshlab("status").code == 3)

        let up = try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane")
        #expect(up.code == 0, "\(up.stderr)")
        #expect(up.stdout.hasPrefix("removed what a lab that stopped without 'meshlab down' left: "))
        let object = try await lab.client.get("/api/v1/namespaces/default/configmaps/survivor")
        #expect(object["data"]?["n"] == "survivor")
        #expect(try await lab.meshlab("down").code == 0)
    }

    @Test func aKilledDaemonLosesNoAcknowledgedWrite() async throws {
        let lab = try TemporaryLab()
        #expect(try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane").code == 0)
        let client = lab.client
        let pid = try lab.pid()
        var acknowledged: [String] = []
        var failed = false
        var killer: Task<Void, Never>?
        for i in 0..<5_000 {
            let name = "write-\(i)"
            do {
                try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: configMapJSON(name))
                acknowledged.append(name)
            } catch {
                failed = true
                break
            }
            // Kill the daemon while writes keep coming: this request's successor is in flight.
            if i == 150 {
                killer = Task.detached { try? Signals.send(.kill, to: pid) }
            }
        }
        await killer?.value
        #expect(failed, "the daemon should have died mid-stream")
        #expect(acknowledged.count > 150)
        let deadline = ContinuousClock.now + .seconds(10)
        while processExists(pid) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!processExists(pid), "the killed daemon is still alive")

        let up = try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane")
        #expect(up.code == 0, "\(up.stderr)")
        #expect(up.stdout.contains("meshlab is up after"), "\(up.stdout)\n\(lab.log)")
        let list = try await lab.client.get("/api/v1/namespaces/default/configmaps")
        let stored = Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        let lost = acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.prefix(5))")
        // At most the one write in flight at the kill may have landed without an acknowledgement.
        #expect(stored.count <= acknowledged.count + 1)
        #expect(try await lab.meshlab("down").code == 0)
    }

    @Test func aBusyPortIsOneClearLine() async throws {
        let lab = try TemporaryLab()
        let listener = try SocketListener.bind(.loopback(port: 0), group: EventLoopGroup.shared)
        defer { Task { await listener.close() } }
        guard case .ipv4(_, let port) = listener.localAddress else { throw TemporaryLab.Failure("no port") }
        let up = try await lab.meshlab("up", "--api-port", String(port), "--mode", "control-plane")
        #expect(up.code == 1)
        #expect(up.stderr == "meshlab up: 127.0.0.1:\(port) is already in use: stop what listens there, or pick another port with --api-port\n")
        #expect(try await lab.meshlab("status").code == 3)
    }

    @Test func watchStreamsOverRealHTTP() async throws {
        let lab = try TemporaryLab()
        #expect(try await lab.meshlab("up", "--api-port", "0", "--mode", "control-plane").code == 0)
        let connection = try await SocketConnection.connect(
            to: .unix(path: lab.stateDirectory + "/api.sock"), timeout: .seconds(5), on: EventLoopGroup.shared.next())
        let http = HTTPClientConnection(stream: connection)
        try await http.writeRequestHead(
            HTTPRequestHead(method: .get, target: "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=10",
                            headers: ["Host": "meshlab"]), bodyLength: 0)
        try await http.finishRequest()
        let head = try await http.readResponseHead()
        #expect(head.status.code == 200)
        #expect(head.headers["transfer-encoding"] == "chunked")
        try await lab.client.call(.post, "/api/v1/namespaces/default/configmaps", body: configMapJSON("watched"))
        try await lab.client.call(.delete, "/api/v1/namespaces/default/configmaps/watched")
        var text = ""
        while text.split(separator: "\n").count < 2, let chunk = try await http.readResponseBody() {
            text += String(decoding: chunk, as: UTF8.self)
        }
        let events = try text.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        #expect(events.map { $0["type"] } == ["ADDED", "DELETED"])
        #expect(events.first?["object"]?["metadata"]?["name"] == "watched")
        await connection.close()
        #expect(try await lab.meshlab("down").code == 0)
    }
}
