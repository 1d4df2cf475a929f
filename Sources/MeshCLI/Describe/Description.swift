import MeshModel

/// `meshlab describe` output: kubectl's layout (a label, a value aligned in
/// a column, nested sections indented), built from generic objects so that
/// it is pure and golden-tested.
struct Description {
    private(set) var lines: [String] = []

    mutating func field(_ label: String, _ value: String, indent: Int = 0) {
        let pad = String(repeating: "  ", count: indent)
        let labelText = pad + label + ":"
        lines.append(labelText.padding(max(labelText.count + 1, 22)) + value)
    }

    mutating func section(_ label: String, indent: Int = 0) {
        lines.append(String(repeating: "  ", count: indent) + label + ":")
    }

    mutating func line(_ text: String) { lines.append(text) }

    /// Labels or annotations as kubectl prints maps: one `k=v` per line, `<none>` when empty.
    mutating func map(_ label: String, _ value: JSONValue?, indent: Int = 0) {
        let pairs = value?.objectValue?.sortedPairs ?? []
        guard let first = pairs.first else { return field(label, "<none>", indent: indent) }
        field(label, "\(first.key)=\(first.value.stringValue ?? first.value.serialized())", indent: indent)
        let pad = String(repeating: " ", count: max(label.count + 2 + indent * 2, 22))
        for pair in pairs.dropFirst() { lines.append(pad + "\(pair.key)=\(pair.value.stringValue ?? pair.value.serialized())") }
    }

    /// The Events section: newest last, as kubectl shows them.
    mutating func events(_ events: [JSONValue], now: Int) {
        guard !events.isEmpty else { return line("Events:               <none>") }
        line("Events:")
        let rows = events.sorted { timestamp($0) < timestamp($1) }.map { event -> [String] in
            let count = event["count"]?.intValue ?? 1
            let first = (event["firstTimestamp"]?.stringValue).flatMap(Timestamp.parse)
            let last = (event["lastTimestamp"]?.stringValue).flatMap(Timestamp.parse) ?? first
            var age = last.map { Timestamp.humanDuration(seconds: now - $0) } ?? "<unknown>"
            if count > 1, let first { age += " (x\(count) over \(Timestamp.humanDuration(seconds: now - first)))" }
            let source = event["source"]?["component"]?.stringValue ?? event["reportingComponent"]?.stringValue ?? ""
            return [event["type"]?.stringValue ?? "", event["reason"]?.stringValue ?? "", age, source,
                    event["message"]?.stringValue ?? ""]
        }
        table(nil, columns: ["Type", "Reason", "Age", "From", "Message"], rows: rows)
    }

    /// A titled table under its heading, with kubectl's dashed rule under the column names.
    mutating func table(_ title: String?, columns: [String], rows: [[String]]) {
        if let title { section(title) }
        let rules = columns.map { String(repeating: "-", count: $0.count) }
        lines += ResourceTable(columns: columns, rows: [rules] + rows).rendered().split(separator: "\n").map { "  " + $0 }
    }

    private func timestamp(_ event: JSONValue) -> Int {
        (event["lastTimestamp"]?.stringValue ?? event["firstTimestamp"]?.stringValue).flatMap(Timestamp.parse) ?? 0
    }

    var text: String { lines.joined(separator: "\n") + "\n" }

    // MARK: Kinds

    static func pod(_ pod: JSONValue, events: [JSONValue], now: Int) -> String {
        var d = Description()
        let metadata = pod["metadata"], spec = pod["spec"], status = pod["status"]
        d.field("Name", metadata?["name"]?.stringValue ?? "")
        d.field("Namespace", metadata?["namespace"]?.stringValue ?? "")
        d.field("Service Account", spec?["serviceAccountName"]?.stringValue ?? "default")
        d.field("Node", spec?["nodeName"]?.stringValue ?? "<none>")
        if let start = status?["startTime"]?.stringValue { d.field("Start Time", start) }
        d.map("Labels", metadata?["labels"])
        d.map("Annotations", metadata?["annotations"]?.objectValue.map { annotations in
            var trimmed = annotations
            trimmed[lastAppliedAnnotation] = nil
            return .object(trimmed)
        })
        d.field("Status", ResourceTable.make(kind: "Pod", objects: [pod], now: now).rows.first?[2] ?? "")
        d.field("IP", status?["podIP"]?.stringValue ?? "")
        if let owner = metadata?["ownerReferences"]?[0] {
            d.field("Controlled By", "\(owner["kind"]?.stringValue ?? "")/\(owner["name"]?.stringValue ?? "")")
        }
        let statuses = (status?["initContainerStatuses"]?.arrayValue ?? []) + (status?["containerStatuses"]?.arrayValue ?? [])
        for (title, key) in [("Init Containers", "initContainers"), ("Containers", "containers")] {
            let containers = spec?[key]?.arrayValue ?? []
            guard !containers.isEmpty else { continue }
            d.section(title)
            for container in containers {
                let name = container["name"]?.stringValue ?? ""
                d.section(name, indent: 1)
                d.field("Image", container["image"]?.stringValue ?? "", indent: 2)
                if let command = container["command"]?.arrayValue {
                    d.field("Command", command.compactMap(\.stringValue).joined(separator: " "), indent: 2)
                }
                if let args = container["args"]?.arrayValue {
                    d.field("Args", args.compactMap(\.stringValue).joined(separator: " "), indent: 2)
                }
                let ports = (container["ports"]?.arrayValue ?? []).map {
                    "\($0["containerPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")"
                }
                d.field("Port", ports.isEmpty ? "<none>" : ports.joined(separator: ", "), indent: 2)
                guard let state = statuses.first(where: { $0["name"]?.stringValue == name }) else { continue }
                describeState(&d, "State", state["state"])
                if let last = state["lastState"], last.objectValue?.isEmpty == false { describeState(&d, "Last State", last) }
                d.field("Ready", state["ready"]?.boolValue == true ? "True" : "False", indent: 2)
                d.field("Restart Count", String(state["restartCount"]?.intValue ?? 0), indent: 2)
            }
        }
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            d.table("Conditions", columns: ["Type", "Status"], rows: conditions.map {
                [$0["type"]?.stringValue ?? "", $0["status"]?.stringValue ?? ""]
            })
        }
        d.events(events, now: now)
        return d.text
    }

    private static func describeState(_ d: inout Description, _ label: String, _ state: JSONValue?) {
        if let running = state?["running"] {
            d.field(label, "Running", indent: 2)
            if let started = running["startedAt"]?.stringValue { d.field("Started", started, indent: 3) }
        } else if let waiting = state?["waiting"] {
            d.field(label, "Waiting", indent: 2)
            if let reason = waiting["reason"]?.stringValue { d.field("Reason", reason, indent: 3) }
            if let message = waiting["message"]?.stringValue { d.field("Message", message, indent: 3) }
        } else if let terminated = state?["terminated"] {
            d.field(label, "Terminated", indent: 2)
            if let reason = terminated["reason"]?.stringValue { d.field("Reason", reason, indent: 3) }
            d.field("Exit Code", String(terminated["exitCode"]?.intValue ?? 0), indent: 3)
            if let started = terminated["startedAt"]?.stringValue { d.field("Started", started, indent: 3) }
            if let finished = terminated["finishedAt"]?.stringValue { d.field("Finished", finished, indent: 3) }
        }
    }

    static func deployment(_ deployment: JSONValue, events: [JSONValue], now: Int) -> String {
        var d = Description()
        let metadata = deployment["metadata"], spec = deployment["spec"], status = deployment["status"]
        d.field("Name", metadata?["name"]?.stringValue ?? "")
        d.field("Namespace", metadata?["namespace"]?.stringValue ?? "")
        d.field("CreationTimestamp", metadata?["creationTimestamp"]?.stringValue ?? "")
        d.map("Labels", metadata?["labels"])
        d.field("Selector", ResourceTable.make(kind: "Deployment", objects: [deployment], now: now, wide: true).rows.first?.last ?? "")
        let desired = spec?["replicas"]?.intValue ?? 0
        d.field("Replicas", "\(desired) desired | \(status?["updatedReplicas"]?.intValue ?? 0) updated | "
            + "\(status?["replicas"]?.intValue ?? 0) total | \(status?["availableReplicas"]?.intValue ?? 0) available | "
            + "\(status?["unavailableReplicas"]?.intValue ?? 0) unavailable")
        d.field("StrategyType", spec?["strategy"]?["type"]?.stringValue ?? "RollingUpdate")
        if let rolling = spec?["strategy"]?["rollingUpdate"] {
            let surge = rolling["maxSurge"].map { $0.stringValue ?? $0.serialized() } ?? "25%"
            let unavailable = rolling["maxUnavailable"].map { $0.stringValue ?? $0.serialized() } ?? "25%"
            d.field("RollingUpdateStrategy", "\(unavailable) max unavailable, \(surge) max surge")
        }
        d.section("Pod Template")
        d.map("Labels", spec?["template"]?["metadata"]?["labels"], indent: 1)
        for container in spec?["template"]?["spec"]?["containers"]?.arrayValue ?? [] {
            d.section(container["name"]?.stringValue ?? "", indent: 1)
            d.field("Image", container["image"]?.stringValue ?? "", indent: 2)
        }
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            d.table("Conditions", columns: ["Type", "Status", "Reason"], rows: conditions.map {
                [$0["type"]?.stringValue ?? "", $0["status"]?.stringValue ?? "", $0["reason"]?.stringValue ?? ""]
            })
        }
        d.events(events, now: now)
        return d.text
    }

    static func service(_ service: JSONValue, endpoints: JSONValue?, events: [JSONValue], now: Int) -> String {
        var d = Description()
        let metadata = service["metadata"], spec = service["spec"]
        d.field("Name", metadata?["name"]?.stringValue ?? "")
        d.field("Namespace", metadata?["namespace"]?.stringValue ?? "")
        d.map("Labels", metadata?["labels"])
        let selector = spec?["selector"]?.objectValue?.sortedPairs.map { "\($0.key)=\($0.value.stringValue ?? "")" }
        d.field("Selector", selector?.joined(separator: ",") ?? "<none>")
        d.field("Type", spec?["type"]?.stringValue ?? "ClusterIP")
        d.field("IP", spec?["clusterIP"]?.stringValue ?? "<none>")
        let addresses = (endpoints?["subsets"]?.arrayValue ?? []).flatMap { subset in
            (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.map { ip in (ip, subset) }
        }
        for port in spec?["ports"]?.arrayValue ?? [] {
            let name = port["name"]?.stringValue ?? "<unset>"
            let proto = port["protocol"]?.stringValue ?? "TCP"
            d.field("Port", "\(name)  \(port["port"]?.intValue ?? 0)/\(proto)")
            let target = port["targetPort"].map { $0.stringValue ?? $0.serialized() } ?? ""
            d.field("TargetPort", "\(target)/\(proto)")
            let endpointPorts = addresses.map { address, subset -> String in
                let ports = subset["ports"]?.arrayValue ?? []
                let match = ports.first { $0["name"]?.stringValue == port["name"]?.stringValue } ?? ports.first
                return "\(address):\(match?["port"]?.intValue ?? 0)"
            }
            d.field("Endpoints", endpointPorts.isEmpty ? "<none>" : endpointPorts.joined(separator: ","))
        }
        d.field("Session Affinity", spec?["sessionAffinity"]?.stringValue ?? "None")
        d.events(events, now: now)
        return d.text
    }
}
