import MeshModel

/// The outcome of one run: what was asked, what came back, how long it took.
/// Renders as fortio-like text and as JSON, and reads back from that JSON (a
/// run inside a pod hands its report to the CLI that way).
public struct LoadReport: Sendable, Equatable {
    public var settings: LoadSettings
    /// From the first request due to the last answer.
    public var elapsed: Duration
    public var tally: LoadTally
    /// Latency of every response (any status), from when the request was due.
    public var latency: LatencyHistogram

    /// The percentiles every report shows.
    public static let percentiles: [Double] = [50, 75, 90, 99, 99.9]

    public init(settings: LoadSettings, elapsed: Duration, tally: LoadTally, latency: LatencyHistogram) {
        self.settings = settings
        self.elapsed = elapsed
        self.tally = tally
        self.latency = latency
    }

    public var elapsedSeconds: Double { Self.seconds(elapsed) }
    /// Requests ended per second of the run.
    public var actualRate: Double { elapsedSeconds > 0 ? Double(tally.requests) / elapsedSeconds : 0 }

    /// Latency at percentile `p` in milliseconds.
    public func latencyMilliseconds(percentile p: Double) -> Double { Double(latency.percentile(p)) / 1000 }

    // MARK: JSON

    public var json: JSONValue {
        var settingsObject: JSONObject = [
            "url": .string(settings.url.description), "qps": Self.number(settings.rate),
            "connections": .int(settings.connections), "timeoutSeconds": Self.number(Self.seconds(settings.timeout)),
        ]
        if let duration = settings.duration { settingsObject["durationSeconds"] = Self.number(Self.seconds(duration)) }
        if let requests = settings.requests { settingsObject["requests"] = .int(requests) }
        if !settings.headers.isEmpty { settingsObject["headers"] = .array(settings.headers.map { .string($0.text) }) }
        if let header = settings.countHeader { settingsObject["countHeader"] = .string(header) }
        if let body = settings.countBody { settingsObject["countBody"] = .string(body) }

        var latencyObject: JSONObject = [
            "min": Self.number(Double(latency.minimum) / 1000), "mean": Self.number(latency.mean / 1000),
            "stddev": Self.number(latency.standardDeviation / 1000), "max": Self.number(Double(latency.maximum) / 1000),
        ]
        for p in Self.percentiles { latencyObject["p\(Self.trimmed(p))"] = Self.number(latencyMilliseconds(percentile: p)) }
        let histogram: JSONObject = [
            "count": .int(Int(latency.count)), "minMicros": .int(Int(latency.minimum)), "maxMicros": .int(Int(latency.maximum)),
            "sumMicros": Self.number(latency.sum), "sumSquares": Self.number(latency.sumOfSquares),
            "buckets": .array(latency.buckets.map {
                ["fromMicros": .int(Int($0.range.lowerBound)), "toMicros": .int(Int($0.range.upperBound)), "count": .int(Int($0.count))]
            }),
        ]
        func counts(_ dictionary: [String: Int]) -> JSONValue {
            .object(JSONObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) }))
        }
        return .object([
            "settings": .object(settingsObject),
            "elapsedSeconds": Self.number(elapsedSeconds),
            "requests": .int(tally.requests),
            "actualQPS": Self.number(actualRate),
            "successPercent": Self.number(tally.successPercent),
            "statusCodes": counts(Dictionary(uniqueKeysWithValues: tally.statusCounts.map { (String($0.key), $0.value) })),
            "headerCounts": counts(tally.headerCounts),
            "bodyCounts": counts(tally.bodyCounts),
            "errors": counts(Dictionary(uniqueKeysWithValues: tally.errorCounts.map { ($0.key.rawValue, $0.value) })),
            "connectionsOpened": .int(tally.connectionsOpened),
            "notSent": .int(tally.notSent),
            "bytesReceived": .int(tally.bytesReceived),
            "latencyMs": .object(latencyObject),
            "histogram": .object(histogram),
        ])
    }

    /// Reads a report back from `json`.
    public init(json: JSONValue) throws(LoadError) {
        func fail(_ what: String) -> LoadError { LoadError("load report: \(what)") }
        guard let settingsObject = json["settings"], let urlText = settingsObject["url"]?.stringValue else {
            throw fail("no settings.url")
        }
        let seconds = { (key: String) -> Duration? in
            settingsObject[key]?.doubleValue.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
        }
        var headers: [LoadHeader] = []
        for text in settingsObject["headers"]?.arrayValue ?? [] {
            headers.append(try LoadHeader(parsing: text.stringValue ?? ""))
        }
        let settings = try LoadSettings(
            url: LoadURL(parsing: urlText), rate: settingsObject["qps"]?.doubleValue ?? 0,
            duration: seconds("durationSeconds"), requests: settingsObject["requests"]?.intValue,
            connections: settingsObject["connections"]?.intValue ?? 1, headers: headers,
            countHeader: settingsObject["countHeader"]?.stringValue, countBody: settingsObject["countBody"]?.stringValue,
            timeout: seconds("timeoutSeconds") ?? .seconds(5))
        func counts(_ key: String) throws(LoadError) -> [String: Int] {
            var result: [String: Int] = [:]
            for (name, value) in json[key]?.objectValue ?? JSONObject() {
                guard let count = value.intValue, count >= 0 else { throw fail("\(key).\(name) is not a count") }
                result[name] = count
            }
            return result
        }
        var tally = LoadTally()
        for (code, count) in try counts("statusCodes") {
            guard let status = Int(code) else { throw fail("statusCodes: \(code) is not a status") }
            tally.statusCounts[status] = count
        }
        tally.headerCounts = try counts("headerCounts")
        tally.bodyCounts = try counts("bodyCounts")
        for (name, count) in try counts("errors") {
            tally.errorCounts[LoadErrorKind(rawValue: name) ?? .other, default: 0] += count
        }
        tally.connectionsOpened = json["connectionsOpened"]?.intValue ?? 0
        tally.notSent = json["notSent"]?.intValue ?? 0
        tally.bytesReceived = json["bytesReceived"]?.intValue ?? 0
        let histogram = json["histogram"]
        var buckets: [(lowest: UInt64, count: UInt64)] = []
        for bucket in histogram?["buckets"]?.arrayValue ?? [] {
            guard let from = bucket["fromMicros"]?.intValue, let count = bucket["count"]?.intValue, from >= 0, count >= 0 else {
                throw fail("a histogram bucket lacks fromMicros or count")
            }
            buckets.append((UInt64(from), UInt64(count)))
        }
        guard let latency = LatencyHistogram(
            buckets: buckets, minimum: UInt64(max(0, histogram?["minMicros"]?.intValue ?? 0)),
            maximum: UInt64(max(0, histogram?["maxMicros"]?.intValue ?? 0)),
            sum: histogram?["sumMicros"]?.doubleValue ?? 0, sumOfSquares: histogram?["sumSquares"]?.doubleValue ?? 0)
        else { throw fail("the histogram's buckets do not fit its bucket layout") }
        self.init(settings: settings, elapsed: .nanoseconds(Int64(((json["elapsedSeconds"]?.doubleValue ?? 0) * 1e9).rounded())),
                  tally: tally, latency: latency)
    }

    // MARK: Text

    /// A summary in fortio's manner.
    public var text: String {
        var lines: [String] = []
        let mode = settings.isClosedLoop ? "at max rate (closed loop)" : "at \(Self.trimmed(settings.rate)) qps"
        var bound = ""
        if let duration = settings.duration { bound += " for \(Self.trimmed(Self.seconds(duration)))s" }
        if let requests = settings.requests { bound += ", \(requests) requests at most" }
        lines.append("Starting \(mode) with \(settings.connections) connection(s)\(bound): GET \(settings.url)")
        lines.append("Ended after \(Self.fixed(elapsedSeconds, 3))s: \(tally.requests) requests, \(Self.fixed(actualRate, 1)) qps, \(tally.connectionsOpened) connection(s) opened")
        let from = settings.isClosedLoop ? "" : ", from the intended send time"
        lines.append("Latency (ms\(from)): count \(latency.count) avg \(Self.fixed(latency.mean / 1000, 3)) +/- \(Self.fixed(latency.standardDeviation / 1000, 3)) min \(Self.fixed(Double(latency.minimum) / 1000, 3)) max \(Self.fixed(Double(latency.maximum) / 1000, 3))")
        if latency.count > 0 {
            for p in Self.percentiles {
                lines.append("# target \(Self.trimmed(p))% \(Self.fixed(latencyMilliseconds(percentile: p), 3))")
            }
            lines.append("Histogram (ms):")
            for (range, count) in octaves {
                lines.append("> \(Self.fixed(Double(range.lowerBound) / 1000, 3)) <= \(Self.fixed(Double(range.upperBound + 1) / 1000, 3)) : \(count) (\(Self.fixed(LoadTally.percent(count, of: Int(latency.count)), 1)) %)")
            }
        }
        let total = tally.requests
        for (status, count) in tally.statusCounts.sorted(by: { $0.key < $1.key }) {
            lines.append("Code \(status) : \(count) (\(Self.fixed(LoadTally.percent(count, of: total), 1)) %)")
        }
        for (kind, count) in tally.errorCounts.sorted(by: { $0.key < $1.key }) {
            lines.append("Error \(kind.rawValue) : \(count) (\(Self.fixed(LoadTally.percent(count, of: total), 1)) %)")
        }
        if tally.notSent > 0 {
            lines.append("Not sent : \(tally.notSent) (still due when the send window closed: the server could not keep up)")
        }
        if let header = settings.countHeader {
            lines.append("Header \(header):")
            lines += Self.keyLines(tally.headerCounts, total: total)
        }
        if let pattern = settings.countBody {
            lines.append("Body /\(pattern)/:")
            lines += Self.keyLines(tally.bodyCounts, total: total)
        }
        lines.append("Success rate: \(Self.fixed(tally.successPercent, 2)) % (2xx of \(total) requests)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The histogram folded into powers of two (a few lines instead of hundreds).
    var octaves: [(range: ClosedRange<UInt64>, count: Int)] {
        var folded: [(range: ClosedRange<UInt64>, count: Int)] = []
        for (range, count) in latency.buckets {
            let value = range.lowerBound
            let low: UInt64 = value == 0 ? 0 : 1 << UInt64(UInt64.bitWidth - 1 - value.leadingZeroBitCount)
            let high = value == 0 ? 0 : low * 2 - 1
            if let last = folded.last, last.range.lowerBound == low {
                folded[folded.count - 1].count += Int(count)
            } else {
                folded.append((low...high, Int(count)))
            }
        }
        return folded
    }

    static func keyLines(_ counts: [String: Int], total: Int) -> [String] {
        counts.sorted { $0.key < $1.key }.map { "  \($0.key) : \($0.value) (\(fixed(LoadTally.percent($0.value, of: total), 1)) %)" }
    }

    // MARK: Numbers

    public static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// `x` with exactly `digits` decimals (no Foundation formatting in MeshApps).
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        let whole = Int(scaled / scale)
        var fraction = String(Int(scaled - Double(whole) * scale))
        while fraction.count < digits { fraction = "0" + fraction }
        let sign = x < 0 && scaled != 0 ? "-" : ""
        return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// `x` without a trailing `.0` (`100`, `99.9`).
    public static func trimmed(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    static func number(_ x: Double) -> JSONValue {
        x == x.rounded() && abs(x) < 1e15 ? .int(Int(x)) : .double(x)
    }
}
