import MeshApps

/// One row of the result table.
struct AssertionResult: Sendable, Equatable {
    var position: String
    var assertion: String
    var expected: String
    var measured: String
    var passed: Bool
}

/// Checks an assertion against what was measured: pure, so every rule is
/// tested without a lab.
enum AssertionEvaluator {
    /// - Parameters:
    ///   - report: the load the assertion is about (nil when there was none).
    ///   - log: the log text an `accessLog` check reads (nil when it could not be read).
    static func evaluate(_ assertion: ExperimentAssertion, report: LoadReport?, log: String? = nil) -> AssertionResult {
        func result(_ bound: Bound, unit: String, _ value: Double?, note: String? = nil, digits: Int = 2) -> AssertionResult {
            let expected = bound.text(unit: unit)
            guard let value else {
                return AssertionResult(position: assertion.position, assertion: assertion.label, expected: expected,
                                       measured: note ?? "no measurement", passed: false)
            }
            var measured = LoadReport.fixed(value, digits) + (unit.isEmpty ? "" : " " + unit)
            if let note { measured += " " + note }
            return AssertionResult(position: assertion.position, assertion: assertion.label, expected: expected,
                                   measured: measured, passed: bound.holds(value))
        }
        if case .accessLog(_, _, _, let text, let bound) = assertion.check {
            guard let log else { return result(bound, unit: "", nil, note: "log not readable") }
            let lines = log.split(separator: "\n").filter { $0.contains(text) }.count
            return result(bound, unit: "", Double(lines), note: "of \(log.split(separator: "\n").count) lines", digits: 0)
        }
        guard let report else {
            let bound: Bound = switch assertion.check {
            case .share(_, _, let b), .successRate(let b), .status(_, let b), .statusShare(_, let b), .latency(_, let b),
                 .requests(let b), .errors(_, let b), .accessLog(_, _, _, _, let b): b
            }
            return result(bound, unit: "", nil, note: "no load ran")
        }
        let tally = report.tally
        let total = tally.requests
        let of = "of \(total)"
        switch assertion.check {
        case .share(let key, let by, let bound):
            let source = by ?? (report.settings.countBody != nil ? .body : report.settings.countHeader != nil ? .header : nil)
            guard let source else { return result(bound, unit: "%", nil, note: "the load counted neither body nor header") }
            let counts = source == .body ? tally.bodyCounts : tally.headerCounts
            if source == .body && report.settings.countBody == nil || source == .header && report.settings.countHeader == nil {
                return result(bound, unit: "%", nil, note: "the load did not count by \(source.rawValue)")
            }
            let count = counts[key] ?? 0
            return result(bound, unit: "%", total == 0 ? nil : LoadTally.percent(count, of: total),
                          note: total == 0 ? "no requests" : "(\(count) \(of))")
        case .successRate(let bound):
            return result(bound, unit: "%", total == 0 ? nil : tally.successPercent,
                          note: total == 0 ? "no requests" : "(\(tally.successes) \(of))")
        case .status(let code, let bound):
            return result(bound, unit: "", Double(tally.statusCounts[code] ?? 0), note: of, digits: 0)
        case .statusShare(let code, let bound):
            let count = tally.statusCounts[code] ?? 0
            return result(bound, unit: "%", total == 0 ? nil : LoadTally.percent(count, of: total),
                          note: total == 0 ? "no requests" : "(\(count) \(of))")
        case .latency(let percentile, let bound):
            return result(bound, unit: "ms", report.latency.count == 0 ? nil : report.latencyMilliseconds(percentile: percentile),
                          note: report.latency.count == 0 ? "no responses" : nil, digits: 3)
        case .requests(let bound):
            return result(bound, unit: "", Double(total), digits: 0)
        case .errors(let kind, let bound):
            let count = kind.map { tally.errorCounts[$0] ?? 0 } ?? tally.errors
            return result(bound, unit: "", Double(count), note: of, digits: 0)
        case .accessLog:
            preconditionFailure("handled above")
        }
    }
}
