import MeshApps

/// One experiment of `meshlab lab run`, as read from its `experiment.yaml`
/// (the format is documented in Lab/README.md). Paths are resolved and checked
/// when the file is read, so a broken reference stops the run before it starts.
struct Experiment: Sendable, Equatable {
    var name: String
    var description: String?
    /// The experiment file, as named to the runner.
    var file: String
    /// The folder relative manifest paths are read from.
    var directory: String
    /// The namespace steps use unless they name another.
    var namespace: String
    var steps: [ExperimentStep]

    var assertionCount: Int {
        steps.reduce(0) { count, step in
            if case .assert(let checks) = step.action { return count + checks.count }
            return count
        }
    }
}

/// One step, where it was written, and what it does.
struct ExperimentStep: Sendable, Equatable {
    /// `file:line` of the step.
    var position: String
    /// The step's `name:`, if it has one.
    var title: String?
    var action: Action

    enum Action: Sendable, Equatable {
        /// `meshlab apply -f` each manifest, in order.
        case apply([ManifestReference], namespace: String)
        /// `meshlab delete -f` each manifest (missing objects are fine).
        case delete([ManifestReference], namespace: String)
        case wait(WaitCondition)
        /// A fixed pause (a settle time a condition cannot express).
        case sleep(Duration)
        case load(LoadStep)
        case assert([ExperimentAssertion])
    }

    /// What the step prints as its header.
    var summary: String {
        switch action {
        case .apply(let manifests, let namespace):
            return "apply \(manifests.map(\.written).joined(separator: ", ")) (namespace \(namespace))"
        case .delete(let manifests, let namespace):
            return "delete \(manifests.map(\.written).joined(separator: ", ")) (namespace \(namespace))"
        case .wait(let condition):
            return "wait for \(condition.summary) (timeout \(LoadReport.trimmed(LoadReport.seconds(condition.timeout)))s)"
        case .sleep(let duration):
            return "sleep \(LoadReport.trimmed(LoadReport.seconds(duration)))s"
        case .load(let load):
            var text = "load \(load.name): \(load.settings.url)"
            if let from = load.from { text += " from \(from)" }
            text += load.settings.isClosedLoop ? ", max rate" : ", \(LoadReport.trimmed(load.settings.rate)) qps"
            if let requests = load.settings.requests { text += ", \(requests) requests" }
            if let duration = load.settings.duration { text += ", \(LoadReport.trimmed(LoadReport.seconds(duration)))s" }
            return text
        case .assert(let checks):
            return "assert \(checks.count) condition(s)"
        }
    }
}

/// A manifest as written (`route.yaml`, `sample:bookinfo/...`) and the file it names.
struct ManifestReference: Sendable, Equatable {
    var written: String
    var path: String
}

/// What a `wait` step waits for; every part must hold at once.
struct WaitCondition: Sendable, Equatable {
    var namespace: String
    /// Deployments whose available replicas reach the wanted count.
    var deployments: [String] = []
    /// A label selector: at least one pod matches and every matching pod is Ready.
    var pods: String?
    /// Every sidecar of the namespace has acknowledged meshd's latest push (`/debug/syncz`).
    var proxiesSynced = false
    /// How long to wait instead when the lab cannot report proxy sync status.
    var settle: Duration = .seconds(2)
    var timeout: Duration = .seconds(120)

    var summary: String {
        var parts: [String] = []
        if !deployments.isEmpty { parts.append("deployments \(deployments.joined(separator: ", ")) available") }
        if let pods { parts.append("pods \(pods) ready") }
        if proxiesSynced { parts.append("proxies synced") }
        return parts.joined(separator: ", ") + " in \(namespace)"
    }
}

/// A `load` step: `meshlab load` with a name assertions can refer to.
struct LoadStep: Sendable, Equatable {
    var name: String
    /// The pod to send from (NAME, pod/NAME, deploy/NAME); nil: from the CLI's own network.
    var from: String?
    var container: String?
    var namespace: String
    var settings: LoadSettings
}
