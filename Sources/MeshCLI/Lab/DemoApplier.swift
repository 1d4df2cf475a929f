import MeshClient
import MeshControlPlane
import MeshModel
import MeshPod
import MeshSystem

/// `meshlab up --demo NAME`: applies one of Istio's samples to the running
/// lab and waits until its front page really serves, fetched over HTTP from
/// inside the lab, with every backend it calls answering.
struct DemoApplier {
    let state: StateDirectory
    let settings: LabSettings
    let timeout: Duration

    /// What proves a demo serves: its front service, a path, and text the
    /// page must not contain (a backend failure the front still answers 200 for).
    struct Front {
        var deployment: String
        var service: String
        /// The container's port (fetched on the pod IP) and the Service's (what clients use).
        var port: Int
        var servicePort: Int
        var path: String
        var failureText: String?
    }

    static let fronts: [String: Front] = [
        "bookinfo": Front(deployment: "productpage-v1", service: "productpage", port: 9080, servicePort: 9080, path: "/productpage", failureText: "currently unavailable"),
        "helloworld": Front(deployment: "helloworld-v1", service: "helloworld", port: 5000, servicePort: 5000, path: "/hello"),
        "httpbin": Front(deployment: "httpbin", service: "httpbin", port: 8080, servicePort: 8000, path: "/get"),
    ]

    func apply(_ demo: String, context: CommandContext, started: ContinuousClock.Instant) async -> ExitCode {
        let clock = ContinuousClock()
        func elapsed() -> String { StartupEvent.seconds(clock.seconds(since: started)) }
        do {
            let manifest = try IstioSamples.manifest(for: demo, environment: context.environment)
            let quiet = CommandContext(stdout: CapturedOutput(), stderr: context.stderr, environment: context.environment,
                                       global: context.global, apiTransport: context.apiTransport, now: context.now)
            let apply = try ApplyCommand(ArgumentParser(specs: ApplyCommand.arguments + GlobalOptions.specs)
                .parse(["-f", manifest, "-n", "default"]), context: quiet)
            guard try await apply.run(quiet) == .success else { return .failure }
            let read = ManifestReader.read(utf8: try Files.read(manifest), file: manifest)
            context.print("  [\(elapsed())s] demo: applied \(read.manifests.count) objects of \(manifest)")

            guard let front = Self.fronts[demo] else { return .success }
            let client = try context.client()
            let deadline = clock.now + timeout
            var last = "no ready endpoint yet"
            while clock.now < deadline {
                if let address = try await readyAddress(of: front.service, client: client) {
                    let (code, body) = fetch("http://\(address):\(front.port)\(front.path)")
                    if code == "200" && !(front.failureText.map(body.contains) ?? false) {
                        context.print("  [\(elapsed())s] demo: \(front.service) serves \(front.path) (pod \(address))")
                        context.print("meshlab \(demo) is up after \(elapsed())s; try:")
                        context.print("  meshlab get pods")
                        context.print("  meshlab exec deploy/\(front.deployment) -- curl -s http://\(front.service):\(front.servicePort)\(front.path)")
                        return .success
                    }
                    last = code == "200" ? "\(front.path) answers, but a backend is not ready yet" : "\(front.path) answered \(code)"
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            context.printError("meshlab up: the \(demo) demo did not serve within \(timeout): \(last); see 'meshlab get pods' and 'meshlab describe pod NAME'")
            return .failure
        } catch {
            context.printError("meshlab up: --demo \(demo): \(error)")
            return .failure
        }
    }

    func readyAddress(of service: String, client: APIClient) async throws -> String? {
        let endpoints = try? await client.get("/api/v1/namespaces/default/endpoints/\(service)")
        return endpoints?["subsets"]?[0]?["addresses"]?[0]?["ip"]?.stringValue
    }

    /// GETs `url` from the node network namespace (pod IPs are reachable
    /// there over the bridge) with curl; returns the status code and body.
    func fetch(_ url: String) -> (String, String) {
        guard let directory = try? Files.makeTemporaryDirectory(prefix: "meshlab-demo") else { return ("", "") }
        defer { try? Files.removeTree(directory) }
        let request = EnterRequest(
            networkNamespace: settings.network.nodeNamespacePath, program: "curl",
            arguments: ["-s", "--max-time", "3", "-o", directory + "/body", "-w", "%{http_code}", url])
        guard let executable = try? CurrentProcess.executablePath() else { return ("", "") }
        var spawn = SpawnConfiguration(executable: executable, arguments: request.commandLine)
        spawn.standardInput = .null
        spawn.standardOutput = .file(directory + "/code")
        spawn.standardError = .null
        guard let child = try? ChildProcess.spawn(spawn), (try? child.wait()) != nil else { return ("", "") }
        let code = (try? Files.read(directory + "/code")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let body = (try? Files.read(directory + "/body")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return (code, body)
    }
}
