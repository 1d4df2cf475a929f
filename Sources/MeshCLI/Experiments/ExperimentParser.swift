import MeshApps
import MeshModel

/// A problem in an experiment file, at its line: `canary/experiment.yaml:14: steps[2].load.qps: must be a number`.
struct ExperimentFileError: Error, Sendable, Equatable, CustomStringConvertible {
    var position: String
    var message: String
    var description: String { "\(position): \(message)" }
}

/// Every problem found in one experiment file.
struct ExperimentFileErrors: Error, Sendable, Equatable, CustomStringConvertible {
    var errors: [ExperimentFileError]
    var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Reads an experiment file (YAML, through MeshModel's reader) into an
/// `Experiment`, collecting every problem with its file and line instead of
/// stopping at the first. Pure but for `fileExists`, which the caller passes
/// (the real file system, or a fake in tests).
struct ExperimentParser {
    static let fileName = "experiment.yaml"
    /// The prefix that names a file of Istio's samples folder.
    static let samplePrefix = "sample:"

    var file: String
    var directory: String
    /// Istio's samples folder, for `sample:` references; nil when it cannot be found.
    var samples: String?
    var fileExists: (String) -> Bool

    private var locations = SourceLocations()
    private var errors: [ExperimentFileError] = []

    init(file: String, directory: String, samples: String?, fileExists: @escaping (String) -> Bool) {
        self.file = file
        self.directory = directory
        self.samples = samples
        self.fileExists = fileExists
    }

    func parse(_ bytes: [UInt8]) -> Result<Experiment, ExperimentFileErrors> {
        var parser = self
        return parser.run(bytes)
    }

    private mutating func run(_ bytes: [UInt8]) -> Result<Experiment, ExperimentFileErrors> {
        let document: YAMLDocument
        do {
            document = try YAML.load(utf8: bytes, file: file)
        } catch {
            return .failure(ExperimentFileErrors(errors: [
                ExperimentFileError(position: "\(file):\(error.mark.line)", message: error.message)
            ]))
        }
        locations = document.locations
        for duplicate in document.duplicateKeys {
            fail(duplicate.path, "duplicate key")
        }
        let root = FieldPath.root
        guard let top = object(document.value, at: root, allowed: ["name", "description", "namespace", "steps"]) else {
            return .failure(ExperimentFileErrors(errors: errors))
        }
        let defaultName = Self.lastComponent(directory)
        let name = string(top["name"], at: root.appending("name")) ?? defaultName
        let description = string(top["description"], at: root.appending("description"))
        let namespace = namespaceName(top["namespace"], at: root.appending("namespace")) ?? "default"
        var steps: [ExperimentStep] = []
        let stepsPath = root.appending("steps")
        if let list = top["steps"] {
            if let items = list.arrayValue {
                var loadNames: Set<String> = []
                for (index, item) in items.enumerated() {
                    if let step = step(item, at: stepsPath.appending(index: index), namespace: namespace, loads: &loadNames) {
                        steps.append(step)
                    }
                }
            } else {
                fail(stepsPath, "must be a list of steps")
            }
        }
        if steps.isEmpty && errors.isEmpty { fail(stepsPath, "an experiment needs at least one step") }
        guard errors.isEmpty else { return .failure(ExperimentFileErrors(errors: errors)) }
        return .success(Experiment(name: name, description: description, file: file, directory: directory,
                                   namespace: namespace, steps: steps))
    }

    // MARK: Steps

    static let actions = ["apply", "delete", "wait", "sleep", "load", "assert"]

    private mutating func step(_ value: JSONValue, at path: FieldPath, namespace defaultNamespace: String,
                               loads: inout Set<String>) -> ExperimentStep? {
        guard let fields = object(value, at: path, allowed: Self.actions + ["name", "namespace"]) else { return nil }
        let present = Self.actions.filter { fields[$0] != nil }
        guard present.count == 1, let action = present.first else {
            fail(path, present.isEmpty ? "a step needs one of: \(Self.actions.joined(separator: ", "))"
                                       : "a step does one thing; found \(present.joined(separator: " and "))")
            return nil
        }
        let title = string(fields["name"], at: path.appending("name"))
        let namespace = namespaceName(fields["namespace"], at: path.appending("namespace")) ?? defaultNamespace
        let actionPath = path.appending(action)
        let body = fields[action]!
        let position = locations.position(of: path)
        func made(_ action: ExperimentStep.Action?) -> ExperimentStep? {
            action.map { ExperimentStep(position: position, title: title, action: $0) }
        }
        switch action {
        case "apply":
            return made(manifests(body, at: actionPath).map { .apply($0, namespace: namespace) })
        case "delete":
            return made(manifests(body, at: actionPath).map { .delete($0, namespace: namespace) })
        case "sleep":
            return made(duration(body, at: actionPath).map { .sleep($0) })
        case "wait":
            return made(wait(body, at: actionPath, namespace: namespace).map { .wait($0) })
        case "load":
            guard let load = load(body, at: actionPath, namespace: namespace, index: loads.count) else { return nil }
            if !loads.insert(load.name).inserted { fail(actionPath.appending("name"), "another load is named \(load.name)") }
            return made(.load(load))
        default:
            guard let items = body.arrayValue, !items.isEmpty else {
                fail(actionPath, "must be a list of conditions")
                return nil
            }
            var checks: [ExperimentAssertion] = []
            for (index, item) in items.enumerated() {
                if let check = assertion(item, at: actionPath.appending(index: index), namespace: namespace, loads: loads) {
                    checks.append(check)
                }
            }
            return checks.count == items.count ? made(.assert(checks)) : nil
        }
    }

    private mutating func manifests(_ value: JSONValue, at path: FieldPath) -> [ManifestReference]? {
        let items: [(JSONValue, FieldPath)]
        if let list = value.arrayValue {
            items = list.enumerated().map { ($0.element, path.appending(index: $0.offset)) }
        } else {
            items = [(value, path)]
        }
        var references: [ManifestReference] = []
        for (item, itemPath) in items {
            guard let written = item.stringValue, !written.isEmpty else {
                fail(itemPath, "must be a manifest path (relative to the experiment folder) or sample:PATH")
                continue
            }
            let resolved: String
            if written.hasPrefix(Self.samplePrefix) {
                guard let samples else {
                    fail(itemPath, "cannot find Istio's samples for \(written): set MESHLAB_SAMPLES to the folder that holds bookinfo/, helloworld/")
                    continue
                }
                resolved = samples + "/" + written.dropFirst(Self.samplePrefix.count)
            } else {
                resolved = written.hasPrefix("/") ? written : directory + "/" + written
            }
            guard fileExists(resolved) else {
                fail(itemPath, "no such manifest: \(resolved)")
                continue
            }
            references.append(ManifestReference(written: written, path: resolved))
        }
        return references.count == items.count && !items.isEmpty ? references : nil
    }

    private mutating func wait(_ value: JSONValue, at path: FieldPath, namespace: String) -> WaitCondition? {
        guard let fields = object(value, at: path, allowed: ["deployments", "pods", "proxies", "timeout", "settle"]) else {
            return nil
        }
        var condition = WaitCondition(namespace: namespace)
        if let deployments = fields["deployments"] {
            let list = deployments.arrayValue ?? [deployments]
            for (index, item) in list.enumerated() {
                let itemPath = deployments.arrayValue == nil ? path.appending("deployments") : path.appending("deployments").appending(index: index)
                if let name = item.stringValue, !name.isEmpty { condition.deployments.append(name) } else { fail(itemPath, "must be a deployment name") }
            }
        }
        if let pods = fields["pods"] {
            if let selector = string(pods, at: path.appending("pods")) {
                if case .failure(let error) = Result(catching: { try LabelSelector(parsing: selector) }) {
                    fail(path.appending("pods"), "not a label selector: \(error)")
                }
                condition.pods = selector
            }
        }
        if let proxies = fields["proxies"] {
            if proxies.stringValue == "synced" { condition.proxiesSynced = true } else { fail(path.appending("proxies"), "the only value is synced") }
        }
        if let timeout = fields["timeout"], let parsed = duration(timeout, at: path.appending("timeout")) { condition.timeout = parsed }
        if let settle = fields["settle"], let parsed = duration(settle, at: path.appending("settle")) { condition.settle = parsed }
        if condition.deployments.isEmpty && condition.pods == nil && !condition.proxiesSynced {
            fail(path, "wait needs deployments, pods or proxies: synced")
            return nil
        }
        return condition
    }

    static let loadFields = ["name", "from", "container", "url", "qps", "duration", "requests", "connections", "headers",
                             "countHeader", "countBody", "timeout"]

    private mutating func load(_ value: JSONValue, at path: FieldPath, namespace: String, index: Int) -> LoadStep? {
        guard let fields = object(value, at: path, allowed: Self.loadFields) else { return nil }
        let errorsBefore = errors.count
        let name = string(fields["name"], at: path.appending("name")) ?? "load-\(index + 1)"
        let from = string(fields["from"], at: path.appending("from"))
        let container = string(fields["container"], at: path.appending("container"))
        guard let urlText = string(fields["url"], at: path.appending("url")) else {
            if fields["url"] == nil { fail(path, "a load needs a url") }
            return nil
        }
        let url: LoadURL
        do { url = try LoadURL(parsing: urlText) } catch {
            fail(path.appending("url"), error.message)
            return nil
        }
        let rate = fields["qps"].flatMap { number($0, at: path.appending("qps")) } ?? 100
        let loadDuration = fields["duration"].flatMap { duration($0, at: path.appending("duration")) }
        let requests = fields["requests"].flatMap { integer($0, at: path.appending("requests")) }
        let connections = fields["connections"].flatMap { integer($0, at: path.appending("connections")) } ?? 4
        let timeout = fields["timeout"].flatMap { duration($0, at: path.appending("timeout")) } ?? .seconds(5)
        var headers: [LoadHeader] = []
        if let headerValue = fields["headers"] {
            let headersPath = path.appending("headers")
            if let map = headerValue.objectValue {
                for (key, value) in map {
                    let text = value.stringValue ?? value.doubleValue.map(LoadReport.trimmed) ?? ""
                    do { headers.append(try LoadHeader(parsing: "\(key): \(text)")) } catch { fail(headersPath.appending(key: key), error.message) }
                }
            } else if let list = headerValue.arrayValue {
                for (index, item) in list.enumerated() {
                    do { headers.append(try LoadHeader(parsing: item.stringValue ?? "")) } catch {
                        fail(headersPath.appending(index: index), error.message)
                    }
                }
            } else {
                fail(headersPath, "must map header names to values, or list 'Name: value' lines")
            }
        }
        let countHeader = string(fields["countHeader"], at: path.appending("countHeader"))
        let countBody = string(fields["countBody"], at: path.appending("countBody"))
        guard errors.count == errorsBefore else { return nil }
        do {
            let settings = try LoadSettings(url: url, rate: rate, duration: loadDuration, requests: requests, connections: connections,
                                            headers: headers, countHeader: countHeader, countBody: countBody, timeout: timeout)
            return LoadStep(name: name, from: from, container: container, namespace: namespace, settings: settings)
        } catch {
            fail(path, error.message)
            return nil
        }
    }

    // MARK: Assertions

    static let checks = ["share", "successRate", "status", "statusShare", "latency", "requests", "errors", "accessLog"]
    static let boundFields = ["equals", "tolerance", "atLeast", "atMost"]

    private mutating func assertion(_ value: JSONValue, at path: FieldPath, namespace: String, loads: Set<String>)
        -> ExperimentAssertion?
    {
        guard let fields = object(value, at: path, allowed: Self.checks + ["load"]) else { return nil }
        let present = Self.checks.filter { fields[$0] != nil }
        guard present.count == 1, let kind = present.first else {
            fail(path, present.isEmpty ? "a condition needs one of: \(Self.checks.joined(separator: ", "))"
                                       : "one condition per list item; found \(present.joined(separator: " and "))")
            return nil
        }
        let load = string(fields["load"], at: path.appending("load"))
        if let load, !loads.contains(load) { fail(path.appending("load"), "no load named \(load) runs before this step") }
        let checkPath = path.appending(kind)
        let position = locations.position(of: path)
        var allowed = Self.boundFields
        switch kind {
        case "share": allowed += ["key", "by"]
        case "status", "statusShare": allowed += ["code"]
        case "latency": allowed += ["percentile"]
        case "errors": allowed += ["kind"]
        case "accessLog": allowed += ["pod", "container", "contains", "namespace"]
        default: break
        }
        guard let body = object(fields[kind]!, at: checkPath, allowed: allowed),
              let bound = bound(body, at: checkPath, milliseconds: kind == "latency", defaultAtLeast: kind == "accessLog" ? 1 : nil)
        else { return nil }
        let check: ExperimentAssertion.Check
        switch kind {
        case "share":
            guard let key = string(body["key"], at: checkPath.appending("key")) else {
                if body["key"] == nil { fail(checkPath, "share needs a key (the version counted, e.g. v1)") }
                return nil
            }
            var by: ExperimentAssertion.CountSource?
            if let text = string(body["by"], at: checkPath.appending("by")) {
                guard let source = ExperimentAssertion.CountSource(rawValue: text) else {
                    fail(checkPath.appending("by"), "must be body or header")
                    return nil
                }
                by = source
            }
            check = .share(key: key, by: by, bound)
        case "successRate":
            check = .successRate(bound)
        case "status", "statusShare":
            guard let code = body["code"].flatMap({ integer($0, at: checkPath.appending("code")) }), (100...999).contains(code) else {
                if body["code"] == nil { fail(checkPath, "\(kind) needs a code (an HTTP status)") }
                else { fail(checkPath.appending("code"), "must be an HTTP status from 100 to 999") }
                return nil
            }
            check = kind == "status" ? .status(code: code, bound) : .statusShare(code: code, bound)
        case "latency":
            guard let percentile = body["percentile"].flatMap({ number($0, at: checkPath.appending("percentile")) }),
                  percentile > 0, percentile <= 100 else {
                fail(checkPath.appending("percentile"), "latency needs a percentile above 0 and at most 100")
                return nil
            }
            check = .latency(percentile: percentile, bound)
        case "requests":
            check = .requests(bound)
        case "errors":
            var errorKind: LoadErrorKind?
            if let text = string(body["kind"], at: checkPath.appending("kind")) {
                guard let parsed = LoadErrorKind(rawValue: text) else {
                    fail(checkPath.appending("kind"), "must be one of \(LoadErrorKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    return nil
                }
                errorKind = parsed
            }
            check = .errors(kind: errorKind, bound)
        default:
            guard let pod = string(body["pod"], at: checkPath.appending("pod")),
                  let text = string(body["contains"], at: checkPath.appending("contains")) else {
                fail(checkPath, "accessLog needs pod and contains")
                return nil
            }
            let container = string(body["container"], at: checkPath.appending("container")) ?? "istio-proxy"
            let logNamespace = namespaceName(body["namespace"], at: checkPath.appending("namespace")) ?? namespace
            check = .accessLog(pod: pod, container: container, namespace: logNamespace, contains: text, bound)
        }
        if kind != "accessLog" && load == nil && loads.isEmpty {
            fail(path, "no load runs before this condition")
            return nil
        }
        return ExperimentAssertion(position: position, load: load, check: check)
    }

    private mutating func bound(_ fields: JSONObject, at path: FieldPath, milliseconds: Bool, defaultAtLeast: Double?) -> Bound? {
        var bound = Bound()
        let errorsBefore = errors.count
        func read(_ key: String) -> Double? {
            guard let value = fields[key] else { return nil }
            if milliseconds, let text = value.stringValue {
                guard let parsed = LoadSettings.parseDuration(text) else {
                    fail(path.appending(key), "must be a duration (250ms, 1.5s) or a number of milliseconds")
                    return nil
                }
                return LoadReport.seconds(parsed) * 1000
            }
            return number(value, at: path.appending(key))
        }
        bound.equals = read("equals")
        bound.atLeast = read("atLeast")
        bound.atMost = read("atMost")
        if let tolerance = read("tolerance") {
            guard bound.equals != nil else {
                fail(path.appending("tolerance"), "tolerance goes with equals")
                return nil
            }
            guard tolerance >= 0 else {
                fail(path.appending("tolerance"), "must be >= 0")
                return nil
            }
            bound.tolerance = tolerance
        }
        guard errors.count == errorsBefore else { return nil }
        if bound.equals == nil && bound.atLeast == nil && bound.atMost == nil {
            guard let defaultAtLeast else {
                fail(path, "needs equals (with tolerance), atLeast or atMost")
                return nil
            }
            bound.atLeast = defaultAtLeast
        }
        if let low = bound.atLeast, let high = bound.atMost, low > high {
            fail(path, "atLeast \(LoadReport.trimmed(low)) is above atMost \(LoadReport.trimmed(high))")
            return nil
        }
        return bound
    }

    // MARK: Values

    private mutating func fail(_ path: FieldPath, _ message: String) {
        let field = path.isRoot ? "" : "\(path): "
        errors.append(ExperimentFileError(position: locations.position(of: path), message: field + message))
    }

    private mutating func object(_ value: JSONValue, at path: FieldPath, allowed: [String]) -> JSONObject? {
        guard let fields = value.objectValue else {
            fail(path, "must be a mapping, not \(value.typeName)")
            return nil
        }
        for key in fields.keys where !allowed.contains(key) {
            fail(path.appending(key), "unknown field (expected one of: \(allowed.joined(separator: ", ")))")
        }
        return fields
    }

    private mutating func string(_ value: JSONValue?, at path: FieldPath) -> String? {
        guard let value else { return nil }
        guard let text = value.stringValue, !text.isEmpty else {
            fail(path, "must be a non-empty string")
            return nil
        }
        return text
    }

    private mutating func namespaceName(_ value: JSONValue?, at path: FieldPath) -> String? {
        guard let text = string(value, at: path) else { return nil }
        guard text.count <= 63, text.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }),
              text.first != "-", text.last != "-" else {
            fail(path, "\"\(text)\" is not a namespace name (lower case letters, digits and '-')")
            return nil
        }
        return text
    }

    private mutating func number(_ value: JSONValue, at path: FieldPath) -> Double? {
        guard let number = value.doubleValue, number.isFinite else {
            fail(path, "must be a number")
            return nil
        }
        return number
    }

    private mutating func integer(_ value: JSONValue, at path: FieldPath) -> Int? {
        guard let number = value.intValue else {
            fail(path, "must be a whole number")
            return nil
        }
        return number
    }

    private mutating func duration(_ value: JSONValue, at path: FieldPath) -> Duration? {
        if let seconds = value.doubleValue, seconds > 0 { return .nanoseconds(Int64(seconds * 1e9)) }
        guard let text = value.stringValue, let parsed = LoadSettings.parseDuration(text), parsed > .zero else {
            fail(path, "must be a duration (10s, 2m, 500ms)")
            return nil
        }
        return parsed
    }

    static func lastComponent(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
    }
}
