import MeshApps
import MeshModel

/// What the runner needs from a lab. `LiveLab` talks to the running lab's API
/// and runs loads inside pods; tests pass a fake that answers from memory.
protocol LabDriver: Sendable {
    /// Applies one manifest; returns what happened in a few words.
    func apply(_ manifest: ManifestReference, namespace: String) async throws -> String
    /// Deletes one manifest's objects (missing ones are fine).
    func delete(_ manifest: ManifestReference, namespace: String) async throws -> String
    /// Returns once the condition holds (what it saw), or throws at its timeout.
    func wait(_ condition: WaitCondition) async throws -> String
    func load(_ step: LoadStep) async throws -> LoadReport
    /// A container's log, as `meshlab logs POD -c CONTAINER` prints it.
    func log(pod: String, container: String, namespace: String) async throws -> String
    func sleep(_ duration: Duration) async throws
}

/// How one step went.
struct StepResult: Sendable, Equatable {
    var number: Int
    var position: String
    var summary: String
    var seconds: Double
    var passed: Bool
    var detail: String
}

/// How a whole experiment went.
struct ExperimentResult: Sendable, Equatable {
    var experiment: String
    var file: String
    var steps: [StepResult] = []
    var assertions: [AssertionResult] = []
    var loads: [(name: String, report: LoadReport)] = []
    /// Why the run stopped early (a step that could not be carried out).
    var error: String?
    var seconds: Double = 0

    var passed: Bool { error == nil && assertions.allSatisfy(\.passed) }

    static func == (lhs: ExperimentResult, rhs: ExperimentResult) -> Bool {
        lhs.experiment == rhs.experiment && lhs.steps == rhs.steps && lhs.assertions == rhs.assertions
            && lhs.error == rhs.error && lhs.loads.map(\.name) == rhs.loads.map(\.name)
    }

    /// The result table: one row per assertion.
    var table: String {
        ResourceTable(columns: ["ASSERTION", "EXPECTED", "MEASURED", "RESULT", "WHERE"],
                      rows: assertions.map { [$0.assertion, $0.expected, $0.measured, $0.passed ? "PASS" : "FAIL", $0.position] })
            .rendered()
    }

    /// The JSON report (`--json FILE`). No timestamps, so that two runs compare.
    var json: JSONValue {
        var object: JSONObject = [
            "experiment": .string(experiment), "file": .string(file), "passed": .bool(passed),
            "seconds": .double(seconds),
            "steps": .array(steps.map {
                ["number": .int($0.number), "position": .string($0.position), "step": .string($0.summary),
                 "seconds": .double($0.seconds), "passed": .bool($0.passed), "detail": .string($0.detail)]
            }),
            "assertions": .array(assertions.map {
                ["position": .string($0.position), "assertion": .string($0.assertion), "expected": .string($0.expected),
                 "measured": .string($0.measured), "passed": .bool($0.passed)]
            }),
            "loads": .object(JSONObject(loads.map { ($0.name, $0.report.json) })),
        ]
        if let error { object["error"] = .string(error) }
        return .object(object)
    }
}

/// Carries out an experiment's steps in order against a `LabDriver`: prints
/// each step with its timing, checks assertions as they come (a failed
/// assertion does not stop the run, a step that cannot be carried out does).
struct ExperimentRunner: Sendable {
    var driver: any LabDriver
    var output: @Sendable (String) -> Void
    var now: @Sendable () -> ContinuousClock.Instant = { .now }

    func run(_ experiment: Experiment) async -> ExperimentResult {
        var result = ExperimentResult(experiment: experiment.name, file: experiment.file)
        let started = now()
        func elapsed(since instant: ContinuousClock.Instant) -> Double { LoadReport.seconds(now() - instant) }
        output("lab \(experiment.name): \(experiment.description.map { $0 + " " } ?? "")(\(experiment.file))")
        var latestLoad: String?
        var reports: [String: LoadReport] = [:]
        for (index, step) in experiment.steps.enumerated() {
            let number = index + 1
            let title = step.title.map { "\($0): " } ?? ""
            output("[\(pad(LoadReport.fixed(elapsed(since: started), 1)))s] step \(number)/\(experiment.steps.count) \(title)\(step.summary)")
            let stepStart = now()
            var passed = true
            var detail = ""
            do {
                switch step.action {
                case .apply(let manifests, let namespace):
                    var done: [String] = []
                    for manifest in manifests { done.append(try await driver.apply(manifest, namespace: namespace)) }
                    detail = done.joined(separator: "; ")
                case .delete(let manifests, let namespace):
                    var done: [String] = []
                    for manifest in manifests { done.append(try await driver.delete(manifest, namespace: namespace)) }
                    detail = done.joined(separator: "; ")
                case .wait(let condition):
                    detail = try await driver.wait(condition)
                case .sleep(let duration):
                    try await driver.sleep(duration)
                    detail = "slept"
                case .load(let load):
                    let report = try await driver.load(load)
                    reports[load.name] = report
                    result.loads.append((load.name, report))
                    latestLoad = load.name
                    detail = Self.loadSummary(report)
                case .assert(let checks):
                    var failed = 0
                    for check in checks {
                        let reportName = check.load ?? latestLoad
                        var log: String?
                        if case .accessLog(let pod, let container, let namespace, _, _) = check.check {
                            do {
                                log = try await driver.log(pod: pod, container: container, namespace: namespace)
                            } catch {
                                output("         cannot read the log of \(pod) -c \(container): \(error)")
                            }
                        }
                        let outcome = AssertionEvaluator.evaluate(check, report: reportName.flatMap { reports[$0] }, log: log)
                        result.assertions.append(outcome)
                        if !outcome.passed { failed += 1 }
                        output("         \(outcome.passed ? "PASS" : "FAIL") \(outcome.assertion): \(outcome.measured) (expected \(outcome.expected))")
                    }
                    passed = failed == 0
                    detail = "\(checks.count - failed) of \(checks.count) passed"
                }
            } catch {
                passed = false
                detail = "\(error)"
                result.error = "step \(number) (\(step.position)): \(error)"
            }
            let seconds = elapsed(since: stepStart)
            result.steps.append(StepResult(number: number, position: step.position, summary: step.summary, seconds: seconds,
                                           passed: passed, detail: detail))
            output("         \(passed ? "ok" : "FAILED") in \(LoadReport.fixed(seconds, 1))s\(detail.isEmpty ? "" : ": " + detail)")
            if result.error != nil { break }
        }
        result.seconds = elapsed(since: started)
        return result
    }

    /// One line about a load: how many, how fast, how well, and its counts.
    static func loadSummary(_ report: LoadReport) -> String {
        let tally = report.tally
        var parts = ["\(tally.requests) requests in \(LoadReport.fixed(report.elapsedSeconds, 1))s (\(LoadReport.fixed(report.actualRate, 1)) qps)",
                     "success \(LoadReport.fixed(tally.successPercent, 2)) %",
                     "p50 \(LoadReport.fixed(report.latencyMilliseconds(percentile: 50), 2)) ms",
                     "p99 \(LoadReport.fixed(report.latencyMilliseconds(percentile: 99), 2)) ms"]
        let codes = tally.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if !codes.isEmpty { parts.append("codes " + codes.joined(separator: " ")) }
        let keys = (report.settings.countBody != nil ? tally.bodyCounts : tally.headerCounts).sorted { $0.key < $1.key }
        if !keys.isEmpty { parts.append("counted " + keys.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) }
        let errors = tally.errorCounts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }
        if !errors.isEmpty { parts.append("errors " + errors.joined(separator: " ")) }
        return parts.joined(separator: ", ")
    }

    private func pad(_ text: String) -> String { String(repeating: " ", count: max(0, 6 - text.count)) + text }
}
