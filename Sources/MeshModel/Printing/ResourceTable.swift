/// The columns `kubectl get` shows for each kind, computed from generic objects.
///
/// Kubernetes kinds follow kubectl's built-in printers
/// (pkg/printers/internalversion/printers.go); Istio kinds follow the
/// `additionalPrinterColumns` of Istio's CRDs.
public struct ResourceTable: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]

    public init(columns: [String], rows: [[String]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The table for `objects` of one kind. `now` is seconds since the epoch (for AGE).
    public static func make(kind: String, objects: [JSONValue], now: Int, wide: Bool = false,
                            withNamespace: Bool = false) -> ResourceTable {
        let printer = printers[kind] ?? .default
        var columns = (printer.leadingName ? ["NAME"] : []) + printer.columns
        if wide { columns += printer.wideColumns }
        if withNamespace { columns.insert("NAMESPACE", at: 0) }
        let rows = objects.map { object -> [String] in
            var row = printer.leadingName ? [object["metadata"]?["name"]?.stringValue ?? ""] : []
            row += printer.cells(object, now)
            if wide { row += printer.wideCells(object, now) }
            if withNamespace { row.insert(object["metadata"]?["namespace"]?.stringValue ?? "", at: 0) }
            return row
        }
        return ResourceTable(columns: columns, rows: rows)
    }

    /// Aligned text as kubectl prints it: columns padded to the widest cell plus three spaces.
    public func rendered() -> String {
        var widths = columns.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 {
                    out += cell
                } else {
                    out += cell + String(repeating: " ", count: widths[i] - cell.count + 3)
                }
            }
            return out
        }
        return ([line(columns)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    struct Printer: Sendable {
        var columns: [String]
        var cells: @Sendable (JSONValue, Int) -> [String]
        var wideColumns: [String] = []
        var wideCells: @Sendable (JSONValue, Int) -> [String] = { _, _ in [] }
        /// Whether NAME comes first (every kind but Event, whose name is a
        /// generated key that kubectl shows last, in the wide form only).
        var leadingName = true

        static let `default` = Printer(columns: ["AGE"], cells: { [age($0, $1)] })
    }

    static func age(_ object: JSONValue, _ now: Int) -> String {
        guard let text = object["metadata"]?["creationTimestamp"]?.stringValue, let created = Timestamp.parse(text)
        else { return "<unknown>" }
        return Timestamp.humanDuration(seconds: now - created)
    }

    /// kubectl's translateTimestampSince: the age of a timestamp, nil when there is none.
    static func since(_ value: JSONValue?, _ now: Int) -> String? {
        guard let text = value?.stringValue, let time = Timestamp.parse(text) else { return nil }
        return Timestamp.humanDuration(seconds: now - time)
    }

    /// Go's strings.TrimSpace, for messages.
    static func trimmed(_ text: String) -> String {
        var s = Substring(text)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    static func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// How kubectl prints a CRD column holding a list: `["a","b"]`.
    static func jsonList(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "" }
        return value.serialized()
    }

    static func selectorText(_ selector: JSONValue?) -> String {
        guard let labels = selector?.objectValue, !labels.isEmpty else { return "<none>" }
        return labels.sortedPairs.map { "\($0.key)=\($0.value.stringValue ?? $0.value.serialized())" }
            .joined(separator: ",")
    }

    static let printers: [String: Printer] = [
        "Namespace": Printer(columns: ["STATUS", "AGE"]) { o, now in
            [o["status"]?["phase"]?.stringValue ?? "Active", age(o, now)]
        },
        "Pod": Printer(
            columns: ["READY", "STATUS", "RESTARTS", "AGE"],
            cells: { o, now in
                // As kubectl (1.29+): native sidecars (restartable init containers, like
                // Istio's istio-proxy) count among the pod's containers, so an injected
                // pod reads 2/2; every container's restarts add up.
                let statuses = o["status"]?["containerStatuses"]?.arrayValue ?? []
                let initStatuses = o["status"]?["initContainerStatuses"]?.arrayValue ?? []
                let sidecars = Set((o["spec"]?["initContainers"]?.arrayValue ?? [])
                    .filter { $0["restartPolicy"] == "Always" }.compactMap { $0["name"]?.stringValue })
                let total = (o["spec"]?["containers"]?.arrayValue?.count ?? statuses.count) + sidecars.count
                let readySidecars = initStatuses.filter {
                    sidecars.contains($0["name"]?.stringValue ?? "") && $0["ready"]?.boolValue == true
                }
                let ready = statuses.filter { $0["ready"]?.boolValue == true }.count + readySidecars.count
                let restarts = (statuses + initStatuses).reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
                return ["\(ready)/\(total)", podStatus(o), String(restarts), age(o, now)]
            },
            wideColumns: ["IP", "NODE"],
            wideCells: { o, _ in [o["status"]?["podIP"]?.stringValue ?? "<none>", o["spec"]?["nodeName"]?.stringValue ?? "<none>"] }
        ),
        "Deployment": Printer(
            columns: ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            cells: { o, now in
                let status = o["status"]
                let ready = status?["readyReplicas"]?.intValue ?? 0
                let desired = o["spec"]?["replicas"]?.intValue ?? 0
                return ["\(ready)/\(desired)", String(status?["updatedReplicas"]?.intValue ?? 0),
                        String(status?["availableReplicas"]?.intValue ?? 0), age(o, now)]
            },
            wideColumns: ["CONTAINERS", "IMAGES", "SELECTOR"],
            wideCells: { o, _ in
                let containers = o["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
                return [containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","),
                        containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","),
                        selectorText(o["spec"]?["selector"]?["matchLabels"])]
            }
        ),
        "Service": Printer(
            columns: ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            cells: { o, now in
                let spec = o["spec"]
                let type = spec?["type"]?.stringValue ?? "ClusterIP"
                let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
                    let number = port["port"]?.intValue.map(String.init) ?? "?"
                    let proto = port["protocol"]?.stringValue ?? "TCP"
                    if let node = port["nodePort"]?.intValue { return "\(number):\(node)/\(proto)" }
                    return "\(number)/\(proto)"
                }
                let external: String =
                    type == "ExternalName" ? (spec?["externalName"]?.stringValue ?? "<none>")
                    : (strings(spec?["externalIPs"]).isEmpty ? "<none>" : strings(spec?["externalIPs"]).joined(separator: ","))
                return [type, spec?["clusterIP"]?.stringValue ?? "<none>", external,
                        ports.isEmpty ? "<none>" : ports.joined(separator: ","), age(o, now)]
            },
            wideColumns: ["SELECTOR"],
            wideCells: { o, _ in [selectorText(o["spec"]?["selector"])] }
        ),
        "ServiceAccount": Printer(columns: ["SECRETS", "AGE"]) { o, now in
            [String(o["secrets"]?.arrayValue?.count ?? 0), age(o, now)]
        },
        "Endpoints": Printer(columns: ["ENDPOINTS", "AGE"]) { o, now in
            var endpoints: [String] = []
            for subset in o["subsets"]?.arrayValue ?? [] {
                let ports = (subset["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
                for address in subset["addresses"]?.arrayValue ?? [] {
                    guard let ip = address["ip"]?.stringValue else { continue }
                    if ports.isEmpty { endpoints.append(ip) }
                    for port in ports { endpoints.append("\(ip):\(port)") }
                }
            }
            let shown = endpoints.prefix(3).joined(separator: ",")
            let text = endpoints.isEmpty ? "<none>"
                : endpoints.count > 3 ? "\(shown) + \(endpoints.count - 3) more..." : shown
            return [text, age(o, now)]
        },
        // kubectl's event printer; its wide form puts SUBOBJECT and SOURCE
        // before MESSAGE, here every wide column follows the narrow ones.
        "Event": Printer(
            columns: ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            cells: { o, now in
                let first = since(o["firstTimestamp"], now) ?? since(o["eventTime"], now) ?? "<unknown>"
                var last = since(o["lastTimestamp"], now) ?? first
                if let series = o["series"]?["lastObservedTime"], let seen = since(series, now) { last = seen }
                let involved = o["involvedObject"]
                let kind = (involved?["kind"]?.stringValue ?? "").lowercased()
                let object = (involved?["name"]?.stringValue).map { $0.isEmpty ? kind : "\(kind)/\($0)" } ?? kind
                return [last, o["type"]?.stringValue ?? "", o["reason"]?.stringValue ?? "", object,
                        trimmed(o["message"]?.stringValue ?? "")]
            },
            wideColumns: ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
            wideCells: { o, now in
                let source = o["source"]
                var component = source?["component"]?.stringValue ?? o["reportingComponent"]?.stringValue ?? ""
                if let host = source?["host"]?.stringValue ?? o["reportingInstance"]?.stringValue, !host.isEmpty {
                    component += ", \(host)"
                }
                let count = o["series"]?["count"]?.intValue ?? o["count"]?.intValue.map { $0 == 0 ? 1 : $0 } ?? 1
                return [o["involvedObject"]?["fieldPath"]?.stringValue ?? "", component,
                        since(o["firstTimestamp"], now) ?? since(o["eventTime"], now) ?? "<unknown>", String(count),
                        o["metadata"]?["name"]?.stringValue ?? ""]
            },
            leadingName: false
        ),
        "ConfigMap": Printer(columns: ["DATA", "AGE"]) { o, now in
            [String((o["data"]?.objectValue?.count ?? 0) + (o["binaryData"]?.objectValue?.count ?? 0)), age(o, now)]
        },
        "MutatingWebhookConfiguration": Printer(columns: ["WEBHOOKS", "AGE"]) { o, now in
            [String(o["webhooks"]?.arrayValue?.count ?? 0), age(o, now)]
        },
        "ValidatingWebhookConfiguration": Printer(columns: ["WEBHOOKS", "AGE"]) { o, now in
            [String(o["webhooks"]?.arrayValue?.count ?? 0), age(o, now)]
        },
        "VirtualService": Printer(columns: ["GATEWAYS", "HOSTS", "AGE"]) { o, now in
            [jsonList(o["spec"]?["gateways"]), jsonList(o["spec"]?["hosts"]), age(o, now)]
        },
        "DestinationRule": Printer(columns: ["HOST", "AGE"]) { o, now in
            [o["spec"]?["host"]?.stringValue ?? "", age(o, now)]
        },
        "ServiceEntry": Printer(columns: ["HOSTS", "LOCATION", "RESOLUTION", "AGE"]) { o, now in
            [jsonList(o["spec"]?["hosts"]), o["spec"]?["location"]?.stringValue ?? "",
             o["spec"]?["resolution"]?.stringValue ?? "", age(o, now)]
        },
        "PeerAuthentication": Printer(columns: ["MODE", "AGE"]) { o, now in
            [o["spec"]?["mtls"]?["mode"]?.stringValue ?? "", age(o, now)]
        },
        "AuthorizationPolicy": Printer(columns: ["ACTION", "AGE"]) { o, now in
            [o["spec"]?["action"]?.stringValue ?? "", age(o, now)]
        },
    ]

    /// kubectl's STATUS for a pod: a container's waiting or terminated reason
    /// when there is one (CrashLoopBackOff, Error, Completed), else the phase.
    static func podStatus(_ pod: JSONValue) -> String {
        if pod["metadata"]?["deletionTimestamp"] != nil { return "Terminating" }
        var reason = pod["status"]?["reason"]?.stringValue ?? pod["status"]?["phase"]?.stringValue ?? "Pending"
        let initStatuses = pod["status"]?["initContainerStatuses"]?.arrayValue ?? []
        let initCount = pod["spec"]?["initContainers"]?.arrayValue?.count ?? initStatuses.count
        for (i, status) in initStatuses.enumerated() {
            if let terminated = status["state"]?["terminated"], terminated["exitCode"]?.intValue == 0 { continue }
            if let terminated = status["state"]?["terminated"] {
                let code = terminated["exitCode"]?.intValue ?? 0
                return "Init:" + (terminated["reason"]?.stringValue ?? "ExitCode:\(code)")
            }
            if let waiting = status["state"]?["waiting"]?["reason"]?.stringValue, waiting != "PodInitializing" {
                return "Init:" + waiting
            }
            // A native sidecar (restartable init container) counts as done once it runs and is ready.
            if status["state"]?["running"] != nil && status["ready"]?.boolValue == true { continue }
            return "Init:\(i)/\(initCount)"
        }
        for status in (pod["status"]?["containerStatuses"]?.arrayValue ?? []).reversed() {
            if let waiting = status["state"]?["waiting"]?["reason"]?.stringValue, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = status["state"]?["terminated"] {
                if let r = terminated["reason"]?.stringValue {
                    reason = r
                } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                    reason = "Signal:\(signal)"
                } else {
                    reason = "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                }
            }
        }
        return reason
    }
}
