import Foundation
import MeshClient
import MeshModel
import MeshSystem

/// `meshlab-bench coldstart`: how long a lab takes to be useful.
///
/// - total: `meshlab up --demo bookinfo` until productpage answers over HTTP
///   from inside the lab (with all its backends), as a person waits for it;
/// - per pod: with the lab up, one pod alone from create until Running
///   (latency), and a Deployment of N pods from create until all N run,
///   divided by N (pods start concurrently; this is throughput).
/// Each is measured `rounds` times; the table shows min, median and max.
struct ColdStartBench {
    var meshlab = "bin/meshlab"
    var rounds = 3
    var pods = 20

    init(arguments: [String]) throws {
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            index += 1
            guard index < arguments.count || flag == "--help" else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--meshlab": meshlab = arguments[index]
            case "--rounds": rounds = max(1, min(10, Int(arguments[index]) ?? 3))
            case "--pods": pods = max(1, min(200, Int(arguments[index]) ?? 20))
            case "--help":
                print("usage: meshlab-bench coldstart [--meshlab PATH] [--rounds N] [--pods N]   (needs root)")
                exit(0)
            default: throw BenchError("unknown argument \(flag)")
            }
            index += 1
        }
    }

    func run() async throws {
        guard getuid() == 0 else {
            print("meshlab-bench coldstart: skipped: needs root (network namespaces)")
            return
        }
        var totals: [Double] = [], perPod: [Double] = [], single: [Double] = []
        for round in 1...rounds {
            let state = try Files.makeTemporaryDirectory(prefix: "meshlab-coldstart")
            let prefix = "mlb\(UInt32.random(in: 10_000...99_999))"
            defer {
                _ = try? shell(meshlab, ["--state-dir", state, "down"])
                try? Files.removeTree(state)
            }
            let started = Date()
            let up = try shell(meshlab, ["--state-dir", state, "up", "--api-port", "0", "--network-prefix", prefix,
                                         "--demo", "bookinfo"])
            guard up.status == 0 else { throw BenchError("up failed: \(up.output)") }
            totals.append(Date().timeIntervalSince(started))

            let client = APIClient(transport: UnixSocketTransport(socketPath: state + "/api.sock"))
            single.append(try await timeToRun(count: 1, name: "one-\(round)", client: client))
            perPod.append(try await timeToRun(count: pods, name: "many-\(round)", client: client) / Double(pods))
        }
        func row(_ label: String, _ values: [Double], target: String) -> String {
            let sorted = values.sorted()
            func ms(_ v: Double) -> String { String(format: "%.0f ms", v * 1000) }
            return label.padding(toLength: 44, withPad: " ", startingAt: 0)
                + "\(ms(sorted.first!))  \(ms(sorted[sorted.count / 2]))  \(ms(sorted.last!))   \(target)"
        }
        print("meshlab cold start (\(rounds) rounds: min  median  max   target)")
        print(row("up + bookinfo until productpage serves", totals, target: "<= 1500 ms"))
        print(row("one pod, create until Running", single, target: "<= 50 ms"))
        print(row("\(pods) pods at once, per pod", perPod, target: "<= 50 ms"))
    }

    /// Creates a Deployment of `count` idle pods and returns the seconds until all run.
    func timeToRun(count: Int, name: String, client: APIClient) async throws -> Double {
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .int(count), "selector": ["matchLabels": ["bench": .string(name)]],
                "template": [
                    "metadata": ["labels": ["bench": .string(name)]],
                    "spec": ["containers": [["name": "idle", "image": "sleep", "command": ["/bin/sleep", "infinity"]]]],
                ],
            ],
        ]
        let started = Date()
        try await client.call(.post, "/apis/apps/v1/namespaces/default/deployments", body: deployment)
        let deadline = started.addingTimeInterval(60)
        while Date() < deadline {
            let list = try await client.get("/api/v1/namespaces/default/pods?labelSelector=bench%3D\(name)")
            let running = (list["items"]?.arrayValue ?? []).filter { $0["status"]?["phase"] == "Running" }
            if running.count == count { return Date().timeIntervalSince(started) }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError("\(count) pods of \(name) were not running after 60 s")
    }

    func shell(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
