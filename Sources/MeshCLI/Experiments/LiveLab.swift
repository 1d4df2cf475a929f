import MeshApps
import MeshClient
import MeshModel
import MeshSystem

/// A step the lab could not carry out, in words.
struct LabStepFailure: Error, CustomStringConvertible {
    var description: String
}

/// The running lab as the experiment runner sees it: manifests go through
/// `meshlab apply`/`delete`/`logs` run in-process (the same code, the same
/// messages), conditions are polled over the API socket, loads run inside
/// pods as `meshlab load --from` runs them.
struct LiveLab: LabDriver {
    let context: CommandContext
    /// How often a wait looks again.
    var pollInterval = Duration.milliseconds(250)

    func apply(_ manifest: ManifestReference, namespace: String) async throws -> String {
        let (code, out, err) = try await runQuietly(ApplyCommand.self, ["-f", manifest.path, "-n", namespace])
        guard code == .success else { throw LabStepFailure(description: "apply \(manifest.written): \(Self.lines(err))") }
        return "\(manifest.written): " + Self.verbs(out)
    }

    func delete(_ manifest: ManifestReference, namespace: String) async throws -> String {
        let (code, out, err) = try await runQuietly(DeleteCommand.self, ["-f", manifest.path, "-n", namespace, "--ignore-not-found"])
        guard code == .success else { throw LabStepFailure(description: "delete \(manifest.written): \(Self.lines(err))") }
        return "\(manifest.written): " + Self.verbs(out)
    }

    func log(pod: String, container: String, namespace: String) async throws -> String {
        let (code, out, err) = try await runQuietly(LogsCommand.self, [pod, "-c", container, "-n", namespace])
        guard code == .success else { throw LabStepFailure(description: Self.lines(err)) }
        return out
    }

    func sleep(_ duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }

    func load(_ step: LoadStep) async throws -> LoadReport {
        guard let from = step.from else { return try await LoadGenerator(settings: step.settings).run() }
        return try await PodLoad.run(step.settings, pod: from, namespace: step.namespace, container: step.container,
                                     context: context)
    }

    func wait(_ condition: WaitCondition) async throws -> String {
        let client = try context.client()
        let clock = ContinuousClock()
        let deadline = clock.now + condition.timeout
        // A push follows a change after meshd's debounce: give it that long to start, so that
        // "synced" is not read off the records of the push before.
        if condition.proxiesSynced { try await Task.sleep(for: Self.pushGrace) }
        var syncStatusReadable = true
        while true {
            var pending = try await unmet(condition, client: client)
            if condition.proxiesSynced && syncStatusReadable {
                switch try await proxiesPending(namespace: condition.namespace, client: client) {
                case .none: break
                case .some(.none): syncStatusReadable = false
                case .some(.some(let reason)): pending.append(reason)
                }
            }
            if pending.isEmpty { break }
            guard clock.now < deadline else {
                throw LabStepFailure(description: "timed out after \(condition.timeout): " + pending.joined(separator: "; "))
            }
            try await Task.sleep(for: pollInterval)
        }
        var seen: [String] = []
        if !condition.deployments.isEmpty { seen.append("\(condition.deployments.count) deployment(s) available") }
        if let pods = condition.pods { seen.append("pods \(pods) ready") }
        if condition.proxiesSynced {
            if syncStatusReadable {
                seen.append("every sidecar in \(condition.namespace) ACKed meshd's latest push")
            } else {
                // This lab's meshd serves no /debug/syncz: wait a settle time instead, and say so.
                try await Task.sleep(for: condition.settle)
                seen.append("proxy sync status not readable (no /debug/syncz): waited the \(LoadReport.trimmed(LoadReport.seconds(condition.settle)))s settle time")
            }
        }
        return seen.joined(separator: ", ")
    }

    /// Longer than meshd's push debounce (10 ms by default).
    static let pushGrace = Duration.milliseconds(200)

    /// Why the sidecars of `namespace` are not all synced: nil when they are, `.some(nil)` when
    /// meshd's sync status cannot be read (no `/debug/syncz` on this lab's API).
    func proxiesPending(namespace: String, client: APIClient) async throws -> String?? {
        let syncz: JSONValue
        do {
            syncz = try await client.get("/debug/syncz")
        } catch let status as StatusObject where status.code == 404 {
            return .some(nil)
        }
        let pods = try await client.get(APIClient.path(Pod.descriptor, namespace: namespace))["items"]?.arrayValue ?? []
        return Self.proxiesPending(syncz: syncz, pods: pods).map { .some($0) } ?? .none
    }

    /// Why the sidecars of `pods` are not synced by meshd's `/debug/syncz`; nil when every pod
    /// with an `istio-proxy` container is connected and no type is STALE or ERROR (as
    /// `istioctl proxy-status` reads it; NOT SENT is a type the proxy has not asked for).
    static func proxiesPending(syncz: JSONValue, pods: [JSONValue]) -> String? {
        var entries: [String: JSONValue] = [:]
        for entry in syncz.arrayValue ?? [] {
            if let proxy = entry["proxy"]?.stringValue { entries[proxy] = entry }
        }
        var problems: [String] = []
        for pod in pods where pod["metadata"]?["deletionTimestamp"] == nil {
            let containers = (pod["spec"]?["containers"]?.arrayValue ?? []) + (pod["spec"]?["initContainers"]?.arrayValue ?? [])
            guard containers.contains(where: { $0["name"] == "istio-proxy" }) else { continue }
            let name = "\(pod["metadata"]?["name"]?.stringValue ?? "").\(pod["metadata"]?["namespace"]?.stringValue ?? "")"
            guard let entry = entries[name], entry["meshlab"]?["connected"] != false else {
                problems.append("\(name) not connected to meshd")
                continue
            }
            let types = entry["meshlab"]?["types"]?.objectValue ?? JSONObject()
            let behind = types.sortedPairs.compactMap { pair -> String? in
                let status = pair.value["status"]?.stringValue ?? ""
                return status == "SYNCED" || status == "NOT SENT" ? nil : "\(pair.key) \(status)"
            }
            if !behind.isEmpty { problems.append("\(name): " + behind.joined(separator: ", ")) }
        }
        return problems.isEmpty ? nil : "proxies " + problems.joined(separator: "; ")
    }

    /// What of `condition` does not hold yet, one phrase each.
    func unmet(_ condition: WaitCondition, client: APIClient) async throws -> [String] {
        var pending: [String] = []
        for name in condition.deployments {
            let object: JSONValue
            do {
                object = try await client.get(APIClient.path(Deployment.descriptor, namespace: condition.namespace, name: name))
            } catch let status as StatusObject where status.code == 404 {
                pending.append("deployment \(name) not found")
                continue
            }
            if let reason = Self.deploymentPending(object) { pending.append("deployment \(name): \(reason)") }
        }
        if let selector = condition.pods {
            let list = try await client.get(APIClient.path(Pod.descriptor, namespace: condition.namespace,
                                                           query: [("labelSelector", selector)]))
            if let reason = Self.podsPending(list["items"]?.arrayValue ?? []) { pending.append("pods \(selector): \(reason)") }
        }
        return pending
    }

    /// Why a Deployment is not available yet; nil when it is (as `kubectl rollout status` judges).
    static func deploymentPending(_ deployment: JSONValue) -> String? {
        let wanted = deployment["spec"]?["replicas"]?.intValue ?? 1
        let status = deployment["status"]
        let generation = deployment["metadata"]?["generation"]?.intValue ?? 0
        if (status?["observedGeneration"]?.intValue ?? 0) < generation { return "its controller has not seen the latest spec" }
        let updated = status?["updatedReplicas"]?.intValue ?? 0
        let available = status?["availableReplicas"]?.intValue ?? 0
        if updated < wanted { return "\(updated) of \(wanted) replicas updated" }
        if available < wanted { return "\(available) of \(wanted) replicas available" }
        return nil
    }

    /// Why a set of pods is not ready yet; nil when there is one and all are Ready.
    static func podsPending(_ pods: [JSONValue]) -> String? {
        let live = pods.filter { $0["metadata"]?["deletionTimestamp"] == nil }
        guard !live.isEmpty else { return "no pod yet" }
        let notReady = live.filter { pod in
            !(pod["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
        }
        guard notReady.isEmpty else {
            return "\(notReady.count) of \(live.count) not ready (\(notReady.compactMap { $0["metadata"]?["name"]?.stringValue }.joined(separator: ", ")))"
        }
        return nil
    }

    /// Runs a meshlab command in-process with its output captured.
    func runQuietly<Command: ParsableCommand>(_ command: Command.Type, _ words: [String]) async throws
        -> (ExitCode, String, String)
    {
        let out = CapturedOutput()
        let err = CapturedOutput()
        let quiet = CommandContext(stdout: out, stderr: err, environment: context.environment, global: context.global,
                                   apiTransport: context.apiTransport, now: context.now)
        let parsed = try ArgumentParser(specs: Command.arguments + GlobalOptions.specs).parse(words)
        let code = try await Command(parsed, context: quiet).run(quiet)
        return (code, out.text, err.text)
    }

    /// `deployment.apps/x created` and `deployment.apps "x" deleted` lines, as counts per verb.
    static func verbs(_ output: String) -> String {
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let verb = line.split(separator: " ").last.map(String.init) ?? "done"
            counts[verb, default: 0] += 1
        }
        return counts.isEmpty ? "nothing to do" : counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    static func lines(_ text: String) -> String {
        text.split(separator: "\n").joined(separator: "; ")
    }
}
