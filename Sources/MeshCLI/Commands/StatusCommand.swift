import MeshHTTP
import MeshClient
import MeshControlPlane
import MeshModel

/// `meshlab status`: is the lab up, where is its API, how does it run pods.
struct StatusCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "status",
        abstract: "Show whether the lab is up, its API address and mode.",
        discussion: "Exits 0 when the lab is up and ready, 3 when it is down (as service managers do).",
        examples: ["meshlab status", "meshlab status -o json"]
    )
    static let arguments: [ArgumentSpec] = [
        .option("output", short: "o", valueName: "format", help: "Print as JSON.", choices: ["json"]),
    ]

    static let down = ExitCode(3)

    var json: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        json = arguments.option("output") == "json"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let state = StateDirectory(context.stateDirectory)
        var report: JSONObject = ["stateDirectory": .string(state.path)]
        var ready = false
        switch LabState.probe(state) {
        case .down, .crashed:
            report["state"] = "down"
        case .running(let pid, let info):
            report["state"] = "up"
            report["pid"] = pid.map { .int(Int($0)) } ?? .null
            if let info {
                report["apiURL"] = .string(info.apiURL)
                report["apiSocket"] = .string(info.apiSocket)
                report["mode"] = .string(info.mode)
                report["version"] = .string(info.version)
                report["startedAt"] = .string(info.startedAt)
                if info.network != nil { report["network"] = info.json["network"] }
            }
            let client = try? context.client()
            if let response = try? await client?.send(HTTPRequest(method: .get, target: "/readyz")) {
                ready = response.status.code == 200
            }
            report["ready"] = .bool(ready)
            if ready, let list = try? await client?.get("/api/v1/namespaces") {
                report["namespaces"] = .int(list["items"]?.arrayValue?.count ?? 0)
            }
            if ready, report["network"] != nil, let pods = try? await client?.get("/api/v1/pods") {
                var phases = JSONObject()
                for pod in pods["items"]?.arrayValue ?? [] {
                    let phase = pod["status"]?["phase"]?.stringValue ?? "Pending"
                    phases[phase] = .int((phases[phase]?.intValue ?? 0) + 1)
                }
                report["pods"] = .object(phases)
            }
        }
        if json {
            context.print(JSONValue.object(report).serialized(.kubectl))
        } else if report["state"] == "up" {
            context.print("meshlab is up\(ready ? "" : " (not ready yet)")")
            let started = report["startedAt"]?.stringValue ?? ""
            let uptime = Timestamp.parse(started).map { " (up \(Timestamp.humanDuration(seconds: context.now() - $0)))" } ?? ""
            for (label, value) in [
                ("pid", report["pid"]?.intValue.map(String.init)), ("started", started.isEmpty ? nil : started + uptime),
                ("mode", report["mode"]?.stringValue), ("API", report["apiURL"]?.stringValue),
                ("socket", report["apiSocket"]?.stringValue), ("state", state.path),
                ("namespaces", report["namespaces"]?.intValue.map(String.init)),
                ("pods", report["pods"]?.objectValue.map { phases in
                    phases.isEmpty ? "none" : phases.sortedPairs.map { "\($0.value.intValue ?? 0) \($0.key)" }.joined(separator: ", ")
                }),
                ("pod CIDR", report["network"]?["podCIDR"]?.stringValue),
                ("services", report["network"]?["serviceCIDR"]?.stringValue),
                ("DNS", report["network"]?["dnsAddress"]?.stringValue),
                ("node netns", report["network"]?["nodeNamespace"]?.stringValue),
                ("version", report["version"]?.stringValue),
            ] {
                if let value { context.print("  \(label.padding(11))\(value)") }
            }
        } else {
            context.print("meshlab is down (state directory \(state.path)); start it with 'meshlab up'")
        }
        return ready ? .success : Self.down
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
