import FoundationEssentials
import MeshClient
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program of this machine and returns what it printed (stdout), or "" on failure.
func output(of program: String, _ arguments: [String]) -> String {
    guard let scratch = try? Files.makeTemporaryDirectory(prefix: "meshlab-out") else { return "" }
    defer { try? Files.removeTree(scratch) }
    var spawn = SpawnConfiguration(executable: program, arguments: arguments)
    spawn.standardInput = .null
    spawn.standardOutput = .file(scratch + "/out")
    spawn.standardError = .null
    guard let child = try? ChildProcess.spawn(spawn), (try? child.wait()) != nil else { return "" }
    return (try? Files.read(scratch + "/out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
}

/// What the host's network looks like, for "down leaves it as up found it".
func hostNetworkState() -> String {
    [
        output(of: "ip", ["route"]), output(of: "ip", ["-6", "route"]), output(of: "ip", ["-o", "addr"]),
        output(of: "ip", ["-o", "link"]).split(separator: "\n").map { line in
            // Counters and the qdisc state of unrelated links may differ; names and flags may not.
            line.split(separator: " ").prefix(3).joined(separator: " ")
        }.joined(separator: "\n"),
        output(of: "iptables-save", []).split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n"),
    ].joined(separator: "\n---\n")
}

let labTestsEnabled = getuid() == 0 && Preflight_available() && (try? Files.kind(of: istioSamples + "/bookinfo")) == .directory
func Preflight_available() -> Bool {
    (try? Files.kind(of: "/proc/self/ns/net")) != nil && access("/usr/sbin/iptables-restore", X_OK) == 0
        || access("/sbin/iptables-restore", X_OK) == 0
}

/// The whole lab as a person uses it: up with bookinfo, traffic by service
/// name, scale, restarts, a daemon crash, down without residue. Root only.
@Suite(.serialized, .enabled(if: labTestsEnabled, "needs root, network namespaces, iptables and Istio's samples (../shared/istio)"))
struct LabTests {
    let lab: TemporaryLab
    let prefix = "mlt\(UInt32.random(in: 100_000...999_999))"

    init() throws { lab = try TemporaryLab() }

    func up(_ extra: String...) async throws -> MeshlabProcess.Result {
        // Wherever the repository was cloned, --demo finds Istio's samples the tests use.
        var environment = ProcessInfo.processInfo.environment
        environment["MESHLAB_SAMPLES"] = istioSamples
        return try await MeshlabProcess.run(["--state-dir", lab.stateDirectory, "up", "--api-port", "0", "--network-prefix", prefix] + extra,
                                            environment: environment)
    }

    func meshlab(_ arguments: String...) async throws -> MeshlabProcess.Result {
        try await MeshlabProcess.run(["--state-dir", lab.stateDirectory] + arguments)
    }

    var ourNamespaces: [String] {
        output(of: "ip", ["netns", "list"]).split(separator: "\n")
            .map { String($0.split(separator: " ").first ?? "") }.filter { $0.hasPrefix(prefix + "-") }
    }

    func pods(_ selector: String? = nil) async throws -> [JSONValue] {
        let path = "/api/v1/namespaces/default/pods" + (selector.map { "?labelSelector=" + $0 } ?? "")
        return try await lab.client.get(path)["items"]?.arrayValue ?? []
    }

    /// Polls `condition` every 100 ms for up to `seconds` (a bound against hanging, not a timing claim).
    func eventually(_ seconds: Int = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func bookinfoServesByNameScalesRestartsAndLeavesNothingBehind() async throws {
        let before = hostNetworkState()
        let started = try await up("--demo", "bookinfo")
        #expect(started.code == 0, "\(started.stdout)\n\(started.stderr)\n\(lab.log)")
        #expect(started.stdout.contains("demo: productpage serves /productpage"))
        defer { _ = try? MeshlabProcess.runBlocking(["--state-dir", lab.stateDirectory, "down"]) }

        // A client pod reaches bookinfo by service name, through cluster DNS and the service rules.
        #expect(try await meshlab("apply", "-f", istioSamples + "/sleep/sleep.yaml").code == 0)
        #expect(try await eventually { try await pods("app%3Dsleep").first?["status"]?["phase"] == "Running" })
        let page = try await meshlab("exec", "deploy/sleep", "--", "curl", "-s", "--max-time", "5", "http://productpage:9080/productpage")
        #expect(page.code == 0, "\(page.stderr)")
        #expect(page.stdout.contains("Reviews served by: reviews-"))
        #expect(!page.stdout.contains("currently unavailable"))

        // Every short form of a service name resolves inside a pod; other names do not.
        let clusterIP = try await lab.client.get("/api/v1/namespaces/default/services/reviews")["spec"]?["clusterIP"]?.stringValue
        for name in ["reviews", "reviews.default", "reviews.default.svc", "reviews.default.svc.cluster.local"] {
            let resolved = try await meshlab("exec", "deploy/sleep", "--", "getent", "hosts", name)
            #expect(resolved.stdout.hasPrefix(clusterIP ?? "?"), "\(name): \(resolved.stdout)")
        }
        #expect(try await meshlab("exec", "deploy/sleep", "--", "getent", "hosts", "nosuch").code == 2)
        let identity = try await meshlab("exec", "deploy/sleep", "--", "id", "-u")
        #expect(identity.stdout == "65534\n")

        // Scale reviews-v1 to 3: three ready pods, all behind the reviews service.
        #expect(try await meshlab("scale", "deploy", "reviews-v1", "--replicas", "3").stdout == "deployment.apps/reviews-v1 scaled\n")
        #expect(try await eventually {
            let ready = try await pods("version%3Dv1,app%3Dreviews").filter { pod in
                pod["status"]?["conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } == true
            }
            let endpoints = try await lab.client.get("/api/v1/namespaces/default/endpoints/reviews")
            let addresses = Set(endpoints["subsets"]?.arrayValue?.flatMap { $0["addresses"]?.arrayValue ?? [] }
                .compactMap { $0["ip"]?.stringValue } ?? [])
            return ready.count == 3 && ready.allSatisfy { addresses.contains($0["status"]?["podIP"]?.stringValue ?? "") }
        })

        // kill -9 of an app process: restarted (restartPolicy Always), its restart counted.
        let details = try #require(try await pods("app%3Ddetails").first)
        let name = details["metadata"]?["name"]?.stringValue ?? ""
        let containerID = details["status"]?["containerStatuses"]?[0]?["containerID"]?.stringValue ?? ""
        let pid = try #require(Int32(containerID.split(separator: "/").last ?? ""), "containerID \(containerID)")
        try Signals.send(.kill, to: pid)
        #expect(try await eventually {
            let pod = try await lab.client.get("/api/v1/namespaces/default/pods/\(name)")
            let status = pod["status"]?["containerStatuses"]?[0]
            return status?["restartCount"] == 1 && status?["ready"] == true
        })

        // kill -9 of the daemon, then up: the same pods again, no duplicates, no leaked netns.
        let podCount = try await pods().count
        let daemon = try lab.pid()
        try Signals.send(.kill, to: daemon)
        for _ in 0..<500 where processExists(daemon) { try await Task.sleep(for: .milliseconds(10)) }
        let again = try await up()
        #expect(again.code == 0, "\(again.stderr)\n\(lab.log)")
        let recovered = try await eventually {
            let all = try await pods()
            return all.count == podCount && all.allSatisfy { $0["status"]?["phase"] == "Running" }
                && ourNamespaces.count == podCount + 1
        }
        let podsNow = try await pods().count
        #expect(recovered, "pods \(podsNow) of \(podCount), namespaces \(ourNamespaces.count)")

        // down: nothing of the lab is left, and the host is as it was.
        let down = try await meshlab("down")
        #expect(down.code == 0, "\(down.stderr)")
        #expect(ourNamespaces.isEmpty, "\(ourNamespaces)")
        #expect(!output(of: "cat", ["/proc/mounts"]).contains(prefix))
        let leftovers = output(of: "pgrep", ["-f", lab.stateDirectory])
        #expect(leftovers.isEmpty, "processes left: \(leftovers)")
        #expect(hostNetworkState() == before)
    }

    @Test func aMissingPrivilegeIsOneClearLine() async throws {
        // As a non-root user (nobody), up says what is missing and how to get it.
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-nobody")
        defer { try? Files.removeTree(scratch) }
        _ = output(of: "chmod", ["0777", scratch])
        let binary = try MeshlabProcess.binary()
        let stderr = output(of: "sh", ["-c", "setpriv --reuid=65534 --regid=65534 --clear-groups \(binary) --state-dir \(scratch)/state up --api-port 0 2>&1 >/dev/null"])
        #expect(stderr == "meshlab up needs root for network namespaces: run it with sudo (or run 'meshlab up --mode control-plane' for the API alone)\n")
    }
}
