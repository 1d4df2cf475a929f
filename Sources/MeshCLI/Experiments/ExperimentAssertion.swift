import MeshApps

/// One condition on measured results.
struct ExperimentAssertion: Sendable, Equatable {
    var position: String
    /// The load it is about (its `name`); nil: the latest load before it.
    var load: String?
    var check: Check

    enum Check: Sendable, Equatable {
        /// Percent of requests whose counted key (body match or header value) is `key`.
        case share(key: String, by: CountSource?, Bound)
        /// Percent of requests answered 2xx.
        case successRate(Bound)
        /// Number of responses with `code`.
        case status(code: Int, Bound)
        /// Percent of requests answered with `code`.
        case statusShare(code: Int, Bound)
        /// The latency at `percentile`, in milliseconds.
        case latency(percentile: Double, Bound)
        /// Requests that ended (answered or failed).
        case requests(Bound)
        /// Requests that got no response (of one kind, or all).
        case errors(kind: LoadErrorKind?, Bound)
        /// Lines of a container's log (`meshlab logs`) that contain `text`.
        case accessLog(pod: String, container: String, namespace: String, contains: String, Bound)
    }

    /// Which of a load's counts a `share` reads.
    enum CountSource: String, Sendable, Equatable {
        case body, header
    }

    /// Whether the check reads a load report (all but `accessLog`).
    var needsLoad: Bool {
        if case .accessLog = check { return false }
        return true
    }

    /// How the assertion reads in the result table.
    var label: String {
        let suffix = load.map { " [\($0)]" } ?? ""
        switch check {
        case .share(let key, let by, _): return "share \(key)\(by.map { " by \($0.rawValue)" } ?? "")\(suffix)"
        case .successRate: return "success rate\(suffix)"
        case .status(let code, _): return "status \(code) count\(suffix)"
        case .statusShare(let code, _): return "status \(code) share\(suffix)"
        case .latency(let percentile, _): return "latency p\(LoadReport.trimmed(percentile))\(suffix)"
        case .requests: return "requests\(suffix)"
        case .errors(let kind, _): return "errors\(kind.map { " \($0.rawValue)" } ?? "")\(suffix)"
        case .accessLog(let pod, let container, _, let text, _): return "log \(pod) -c \(container) lines with \"\(text)\""
        }
    }
}

/// The range a measured number must fall in: `equals` ± `tolerance`, and/or
/// `atLeast` / `atMost` (both ends inclusive).
struct Bound: Sendable, Equatable {
    var equals: Double?
    var tolerance: Double = 0
    var atLeast: Double?
    var atMost: Double?

    func holds(_ value: Double) -> Bool {
        // A hair of slack, so that 90.0 measured against 90 is not lost to binary fractions.
        let slack = 1e-9
        if let equals, abs(value - equals) > tolerance + slack { return false }
        if let atLeast, value < atLeast - slack { return false }
        if let atMost, value > atMost + slack { return false }
        return true
    }

    /// `90 ± 3 %`, `≥ 93 %`, `40..60 %`, `≤ 250 ms`.
    func text(unit: String) -> String {
        let unitText = unit.isEmpty ? "" : " " + unit
        var parts: [String] = []
        if let equals {
            parts.append(tolerance > 0 ? "\(number(equals)) ± \(number(tolerance))\(unitText)" : "= \(number(equals))\(unitText)")
        }
        if let atLeast, let atMost {
            parts.append("\(number(atLeast))..\(number(atMost))\(unitText)")
        } else if let atLeast {
            parts.append("≥ \(number(atLeast))\(unitText)")
        } else if let atMost {
            parts.append("≤ \(number(atMost))\(unitText)")
        }
        return parts.joined(separator: ", ")
    }

    private func number(_ x: Double) -> String { LoadReport.trimmed(x) }
}
