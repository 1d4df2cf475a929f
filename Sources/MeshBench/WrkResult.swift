/// What one wrk run measured, read from its `--latency` report.
struct WrkResult: Sendable {
    var requestsPerSecond: Double
    var p50: Double  // seconds
    var p99: Double  // seconds
    var requests: Int
    var non2xx: Int
    var socketErrors: Int

    /// Parses wrk 4's text output; nil when the numbers are missing (wrk failed).
    static func parse(_ output: String) -> WrkResult? {
        var result = WrkResult(requestsPerSecond: 0, p50: 0, p99: 0, requests: 0, non2xx: 0, socketErrors: 0)
        var sawRPS = false, sawP50 = false, sawP99 = false
        for rawLine in output.split(separator: "\n") {
            let words = rawLine.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            switch first {
            case "Requests/sec:":
                if words.count > 1, let value = Double(words[1]) { result.requestsPerSecond = value; sawRPS = true }
            case "50%":
                if words.count > 1, let value = seconds(words[1]) { result.p50 = value; sawP50 = true }
            case "99%":
                if words.count > 1, let value = seconds(words[1]) { result.p99 = value; sawP99 = true }
            case "Non-2xx":
                // "Non-2xx or 3xx responses: N"
                if let last = words.last, let value = Int(last) { result.non2xx = value }
            case "Socket":
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                result.socketErrors = words.compactMap { Int($0.trimmingCharacters(in: ",")) }.reduce(0, +)
            default:
                if words.count > 2, words[1] == "requests", words[2] == "in", let value = Int(first) { result.requests = value }
            }
        }
        return sawRPS && sawP50 && sawP99 ? result : nil
    }

    /// The per-field median of several runs (each field on its own).
    static func median(_ results: [WrkResult]) -> WrkResult {
        func mid<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        return WrkResult(requestsPerSecond: mid(results.map(\.requestsPerSecond)), p50: mid(results.map(\.p50)),
                         p99: mid(results.map(\.p99)), requests: results.map(\.requests).reduce(0, +),
                         non2xx: results.map(\.non2xx).reduce(0, +), socketErrors: results.map(\.socketErrors).reduce(0, +))
    }

    /// "123.45us" / "1.20ms" / "2.00s" / "1.5m" in seconds.
    static func seconds(_ text: Substring) -> Double? {
        let units: [(String, Double)] = [("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)) else { return nil }
            return value * scale
        }
        return Double(text)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        return text
    }
}
