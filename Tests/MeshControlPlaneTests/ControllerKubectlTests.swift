import Foundation
import MeshControlPlane
import MeshHTTP
import MeshIO
import MeshModel
import Testing

/// Real kubectl against the API server on a loopback port, with the
/// controllers running: what a user of the lab types.
enum Kubectl {
    static let path: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs kubectl with its caches and output in `home` (removed by the
    /// caller); killed after 60 s. Output goes to files, not pipes, so that
    /// no thread of the cooperative pool (which serves the API) blocks on a read.
    static func run(_ arguments: [String], server: String, home: String) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--server", server, "--cache-dir", home + "/cache"] + arguments
        process.environment = ["HOME": home, "KUBECONFIG": home + "/none", "PATH": "/usr/bin:/bin"]
        let outPath = home + "/stdout", errPath = home + "/stderr"
        for file in [outPath, errPath] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        try process.run()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            process.terminate()
        }
        for await _ in exited.stream {}
        watchdog.cancel()
        func read(_ file: String) -> String {
            String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
        }
        return Output(status: process.terminationStatus, stdout: read(outPath), stderr: read(errPath))
    }
}

@Suite(.serialized) struct KubectlTests {
    @Test(.enabled(if: Kubectl.path != nil, "needs kubectl on PATH"))
    func kubectlScalesADeploymentAndSeesItsPodsAndEvents() async throws {
        let lab = ControllerLab()
        let http = HTTPServer()
        let listener = try SocketListener.bind(.loopback(port: 0), group: EventLoopGroup.shared)
        let serving = Task { try await http.serve(listener, handler: lab.api.server) }
        let home = FileManager.default.temporaryDirectory.path + "/meshlab-kubectl-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = "http://\(listener.localAddress)"

        await lab.api.namespace("shop")
        await lab.api.call(.post, "/apis/apps/v1/namespaces/shop/deployments", webDeployment(replicas: 1))
        await lab.waitUntil("1 pod") { lab.list("pods").count == 1 }

        let scaled = try await Kubectl.run(["scale", "deployment", "web", "--replicas=3", "-n", "shop"], server: server, home: home)
        #expect(scaled.status == 0, "\(scaled.stderr)")
        #expect(scaled.stdout == "deployment.apps/web scaled\n")
        await lab.waitUntil("3 pods") { lab.list("pods").count == 3 }

        let replicas = try await Kubectl.run(["get", "deploy", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}"],
                                             server: server, home: home)
        #expect(replicas.stdout == "3", "\(replicas.stderr)")
        let pods = try await Kubectl.run(["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"], server: server, home: home)
        #expect(pods.stdout.split(separator: "\n").count == 3, "\(pods.stderr)")

        let events = try await Kubectl.run(["get", "events", "-n", "shop"], server: server, home: home)
        #expect(events.status == 0, "\(events.stderr)")
        let header = events.stdout.split(separator: "\n").first.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(header == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
        #expect(events.stdout.contains("ScalingReplicaSet"))
        #expect(events.stdout.contains("deployment/web"))

        let precondition = try await Kubectl.run(["scale", "deploy", "web", "--current-replicas=2", "--replicas=1", "-n", "shop"],
                                                 server: server, home: home)
        #expect(precondition.status != 0)
        #expect(precondition.stderr.contains("Expected replicas to be 2, was 3"), "\(precondition.stderr)")

        // describe finds the Deployment's events by field selector.
        let described = try await Kubectl.run(["describe", "deployment", "web", "-n", "shop"], server: server, home: home)
        #expect(described.status == 0, "\(described.stderr)")
        #expect(described.stdout.contains("deployment-controller  Scaled up pod set web-"))
        #expect(described.stdout.contains("Replicas:               3 desired | 3 updated | 3 total"))

        serving.cancel()
        await http.shutdown(gracePeriod: .seconds(1))
        await lab.stop()
    }
}
