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
            }
            if let client = try? context.client(),
                let response = try? await client.transport.send(.init(method: .get, target: "/readyz"))
            {
                ready = response.status.code == 200
            }
            report["ready"] = .bool(ready)
            if ready, let list = try? await client(context).get("/api/v1/namespaces") {
                report["namespaces"] = .int(list["items"]?.arrayValue?.count ?? 0)
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
                ("namespaces", report["namespaces"]?.intValue.map(String.init)), ("version", report["version"]?.stringValue),
            ] {
                if let value { context.print("  \(label.padding(11))\(value)") }
            }
        } else {
            context.print("meshlab is down (state directory \(state.path)); start it with 'meshlab up'")
        }
        return ready ? .success : Self.down
    }

    func client(_ context: CommandContext) throws -> APIClient { try context.client() }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
