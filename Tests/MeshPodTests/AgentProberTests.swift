import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Testing

@testable import MeshPod

/// Probe handlers against real loopback servers (port 0).
@Suite struct AgentProberTests {
    /// An HTTP server on 127.0.0.1 answering `/status/CODE` with CODE; runs `body` with its port.
    func withServer(_ body: (Int) async throws -> Void) async throws {
        let listener = try SocketListener.bind(.loopback(port: 0), group: .shared)
        let server = HTTPServer()
        let serving = Task {
            try await server.serve(listener, handler: HTTPSimpleHandler { request in
                let code = Int(request.path.split(separator: "/").last ?? "") ?? 200
                let agent = request.headers["user-agent"] ?? ""
                return HTTPResponse(status: HTTPStatus(code: code), text: agent)
            })
        }
        defer { serving.cancel() }
        do {
            try await body(Int(listener.localAddress.port ?? 0))
        } catch {
            await server.shutdown(gracePeriod: .zero)
            throw error
        }
        await server.shutdown(gracePeriod: .zero)
    }

    @Test func httpGetSucceedsFrom200To399() async throws {
        try await withServer { port in
            for (code, ok) in [(200, true), (302, true), (399, true), (404, false), (503, false)] {
                let outcome = await Prober.http(HTTPGetAction(path: "/status/\(code)", port: .int(Int32(port))),
                                                host: "127.0.0.1", port: port, timeout: .seconds(5))
                #expect(outcome.succeeded == ok, "\(code)")
                if !ok { #expect(outcome == .failure("HTTP probe failed with statuscode: \(code)")) }
            }
        }
    }

    @Test func tcpSocketConnects() async throws {
        try await withServer { port in
            #expect(await Prober.tcp(host: "127.0.0.1", port: port, timeout: .seconds(5)) == .success)
        }
    }

    @Test func aClosedPortReadsAsKubeletWritesIt() async throws {
        // A port nobody listens on: bind one, note it, close it.
        let listener = try SocketListener.bind(.loopback(port: 0), group: .shared)
        let port = Int(listener.localAddress.port ?? 0)
        await listener.close()
        #expect(await Prober.tcp(host: "127.0.0.1", port: port, timeout: .seconds(5))
            == .failure("dial tcp 127.0.0.1:\(port): connect: connection refused"))
        let http = await Prober.http(HTTPGetAction(path: "/healthz", port: .int(Int32(port))), host: "127.0.0.1", port: port,
                                     timeout: .seconds(5))
        #expect(http == .failure("Get \"http://127.0.0.1:\(port)/healthz\": dial tcp 127.0.0.1:\(port): connect: connection refused"))
    }

    @Test func namedPortsComeFromTheContainer() {
        var container = Container(name: "app")
        container.ports = [ContainerPort(name: "http", containerPort: 9080)]
        #expect(Prober.port("http", in: container) == 9080)
        #expect(Prober.port(8080, in: container) == 8080)
        #expect(Prober.port("metrics", in: container) == nil)
        #expect(Prober.port(.int(0), in: container) == nil)
    }

    @Test func execProbesRunInThePodAndTimeOut() async throws {
        let directory = try Files.makeTemporaryDirectory(prefix: "meshlab-agent-probe")
        defer { try? Files.removeTree(directory) }
        try Files.setMode(directory, 0o755)
        let records = try ProcessRecords(directory: nil)
        let prober = Prober(launcher: TestLauncher(), records: records, clock: .system(), switchUser: AgentHarness.switchUser)
        let pod = try makePod("metadata: {name: web}\nspec: {containers: [{name: app, command: [/bin/true], env: [{name: WHO, value: probe}]}]}")
        let plan = try ContainerPlan.make(pod.spec.containers[0], pod: pod,
                                          sources: PodEnvironmentSources(podIP: "127.0.0.1", hostIP: "127.0.0.1", nodeName: "n"),
                                          meshlabExecutable: "/unused")
        let sandbox = PodSandbox(pod: PodIdentity(namespace: "default", name: "web", uid: "uid-1"), networkNamespace: nil,
                                 ip: "127.0.0.1", hostname: "web", resolvConf: nil, hosts: nil, directory: directory)
        func run(_ command: [String], timeout: Duration) async -> ProbeOutcome {
            await prober.exec(command, kind: .liveness, plan: plan, sandbox: sandbox, timeout: timeout, key: "k",
                              outputDirectory: directory)
        }
        #expect(await run(["/bin/sh", "-c", "exit 0"], timeout: .seconds(20)) == .success)
        #expect(await run(["/bin/sh", "-c", "echo $(WHO) is $WHO; exit 1"], timeout: .seconds(20)) == .failure("probe is probe"))
        #expect(await run(["/bin/sleep", "30"], timeout: .milliseconds(200)) == .failure("command \"/bin/sleep 30\" timed out"))
        #expect(records.count == 0)
    }
}
