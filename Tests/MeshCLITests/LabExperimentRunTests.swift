import FoundationEssentials
import MeshSystem
import MeshTestSupport
import Testing

/// The experiments under Lab/, run as a person runs them: `meshlab up`, then
/// `meshlab lab run NAME`, which exits non-zero when a measured outcome
/// misses its bound. Root only (pods in network namespaces, sidecars).
@Suite(.serialized, .enabled(if: labTestsEnabled, "needs root, network namespaces, iptables and Istio's samples (../shared/istio)"))
struct LabExperimentRunTests {
    let lab: TemporaryLab
    let prefix = "mlt\(UInt32.random(in: 100_000...999_999))"
    static var labDirectory: String { LabScenarioTests.lab }

    init() throws { lab = try TemporaryLab() }

    func run(_ experiment: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["MESHLAB_SAMPLES"] = istioSamples
        let up = try await MeshlabProcess.run(["--state-dir", lab.stateDirectory, "up", "--api-port", "0",
                                               "--network-prefix", prefix], environment: environment)
        #expect(up.code == 0, "\(up.stdout)\n\(up.stderr)\n\(lab.log)")
        defer { _ = try? MeshlabProcess.runBlocking(["--state-dir", lab.stateDirectory, "down"]) }
        let result = try await MeshlabProcess.run(["--state-dir", lab.stateDirectory, "lab", "run",
                                                   Self.labDirectory + "/" + experiment], environment: environment)
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test func canary() async throws { try await run("canary") }
    @Test func retries() async throws { try await run("retries") }
    @Test func requestRouting() async throws { try await run("request-routing") }
}
