@testable import MeshApps
import MeshModel
import Testing

/// The load generator's pure parts: histogram, schedule, settings, counters, report.
@Suite struct LoadCoreTests {
    // MARK: Histogram

    @Test func bucketsAreExactBelow128AndWithinOneSixtyFourthAbove() {
        for value in UInt64(0)..<128 {
            #expect(LatencyHistogram.bucketRange(LatencyHistogram.bucketIndex(value)) == value...value)
        }
        var previousUpper: UInt64 = 127
        for index in 128..<2000 {
            let range = LatencyHistogram.bucketRange(index)
            #expect(range.lowerBound == previousUpper + 1, "bucket \(index) leaves a gap")
            #expect(Double(range.upperBound - range.lowerBound + 1) / Double(range.lowerBound) <= 1.0 / 64)
            #expect(LatencyHistogram.bucketIndex(range.lowerBound) == index)
            #expect(LatencyHistogram.bucketIndex(range.upperBound) == index)
            previousUpper = range.upperBound
        }
    }

    @Test func percentilesOfAKnownSpread() {
        var histogram = LatencyHistogram()
        for value in UInt64(1)...10_000 { histogram.record(microseconds: value) }
        #expect(histogram.count == 10_000)
        #expect(histogram.minimum == 1 && histogram.maximum == 10_000)
        for (p, exact) in [(50.0, 5000.0), (90, 9000), (99, 9900), (99.9, 9990)] {
            let value = Double(histogram.percentile(p))
            #expect(value >= exact && value <= exact * (1 + 1.0 / 64), "p\(p) = \(value)")
        }
        #expect(histogram.percentile(100) == 10_000)
        #expect(histogram.percentile(0) == 1)
        #expect(abs(histogram.mean - 5000.5) < 1e-9)
        // Exact range: small values come back exactly.
        var small = LatencyHistogram()
        for value: UInt64 in [3, 5, 7, 9, 11] { small.record(microseconds: value) }
        #expect(small.percentile(50) == 7)
        #expect(small.percentile(80) == 9)
        #expect(LatencyHistogram().percentile(99) == 0)
    }

    @Test func mergingEqualsRecordingEverythingInOne() {
        var all = LatencyHistogram(), first = LatencyHistogram(), second = LatencyHistogram()
        var generator = SplitMix64(seed: 7)
        for index in 0..<5000 {
            let value = generator.next() % 2_000_000
            all.record(microseconds: value)
            if index % 3 == 0 { first.record(microseconds: value) } else { second.record(microseconds: value) }
        }
        first.merge(second)
        #expect(first.counts == all.counts && first.count == all.count)
        #expect(first.minimum == all.minimum && first.maximum == all.maximum)
        #expect(first.percentile(99.9) == all.percentile(99.9))
    }

    @Test func durationsRecordInMicroseconds() {
        var histogram = LatencyHistogram()
        histogram.record(.milliseconds(3))
        histogram.record(.nanoseconds(-5))
        #expect(histogram.maximum == 3000 && histogram.minimum == 0)
    }

    // MARK: Schedule

    @Test func openLoopScheduleSpreadsRequestsOverConnections() {
        let schedule = LoadSchedule(rate: 100, connections: 4, duration: nil, requests: 10)
        #expect(schedule.requestNumber(connection: 1, sequence: 2) == 9)
        #expect(schedule.intendedOffset(request: 0) == .zero)
        #expect(schedule.intendedOffset(request: 9) == .milliseconds(90))
        #expect(schedule.intendedOffset(request: 10) == nil)
        #expect(schedule.plannedRequests == 10)
        let timed = LoadSchedule(rate: 200, connections: 3, duration: .seconds(2), requests: nil)
        #expect(timed.plannedRequests == 400)
        #expect(timed.intendedOffset(request: 399) != nil)
        #expect(timed.intendedOffset(request: 400) == nil)
        // Both bounds: the first one reached ends the run.
        #expect(LoadSchedule(rate: 10, connections: 1, duration: .seconds(1), requests: 50).plannedRequests == 10)
    }

    // MARK: Settings

    @Test func everyRunIsBounded() throws {
        let url = try LoadURL(parsing: "http://127.0.0.1:8080/")
        #expect(try LoadSettings(url: url).duration == LoadSettings.defaultDuration)
        #expect(try LoadSettings(url: url, requests: 5).duration == nil)
        #expect(throws: LoadError.self) { try LoadSettings(url: url, duration: .seconds(7200)) }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, requests: 0) }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, rate: -1) }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, rate: .infinity) }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, connections: 0) }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, countBody: "(unclosed") }
        #expect(throws: LoadError.self) { try LoadSettings(url: url, countHeader: "bad header") }
        #expect(try LoadSettings(url: url, rate: 0).schedule == nil)
        // The send window: the planned length plus one timeout, at most an hour.
        #expect(try LoadSettings(url: url, rate: 100, requests: 50, timeout: .seconds(1)).sendWindow == .milliseconds(1500))
        #expect(try LoadSettings(url: url, duration: .seconds(10)).sendWindow == .seconds(15))
        #expect(try LoadSettings(url: url, rate: 0, requests: 10).sendWindow == LoadSettings.maxDuration)
    }

    @Test(arguments: [
        ("http://helloworld:5000/hello", "helloworld", 5000, "/hello"),
        ("http://Productpage:9080", "productpage", 9080, "/"),
        ("fortio:8080/echo?status=503:50", "fortio", 8080, "/echo?status=503:50"),
        ("http://10.96.0.12?x=1#frag", "10.96.0.12", 80, "/?x=1"),
    ])
    func urlsParse(text: String, host: String, port: Int, target: String) throws {
        let url = try LoadURL(parsing: text)
        #expect(url.host == host && url.port == port && url.target == target)
    }

    @Test(arguments: ["https://a/", "http://a:0/", "http://a:99999/", "http:///x", "http://[::1]/", "http://u@a/", "http://a/b c"])
    func badURLsAreRefused(text: String) {
        #expect(throws: LoadError.self) { try LoadURL(parsing: text) }
    }

    @Test func headersParseAsCurlWritesThem() throws {
        #expect(try LoadHeader(parsing: "end-user:  jason") == LoadHeader(name: "end-user", value: "jason"))
        #expect(try LoadHeader(parsing: "Cookie: user=jason; a=b").value == "user=jason; a=b")
        #expect(throws: LoadError.self) { try LoadHeader(parsing: "no colon") }
        #expect(throws: LoadError.self) { try LoadHeader(parsing: "bad name: x") }
        #expect(throws: LoadError.self) { try LoadHeader(parsing: "x: a\u{1}b") }
    }

    @Test func durationsReadAsGoWritesThem() {
        #expect(LoadSettings.parseDuration("1m30s") == .seconds(90))
        #expect(LoadSettings.parseDuration("250ms") == .milliseconds(250))
        #expect(LoadSettings.parseDuration("2") == .seconds(2))
        #expect(LoadSettings.parseDuration("soon") == nil)
    }

    // MARK: Counting

    @Test func bodyMatcherKeysByFirstGroupOrWholeMatch() throws {
        let version = try BodyMatcher(pattern: "Hello version: (v[0-9]+)")
        #expect(version.key(in: "Hello version: v2, instance: helloworld-v2-abc\n") == "v2")
        #expect(version.key(in: "nothing here") == nil)
        #expect(try BodyMatcher(pattern: "v[0-9]").key(in: "xx v7 v8") == "v7")
    }

    @Test func tallyCountsAndMerges() {
        var first = LoadTally()
        first.recordResponse(status: 200, headerValue: .some("v1"), bodyKey: .some("v1"), bytes: 10)
        first.recordResponse(status: 503, headerValue: .some(nil), bodyKey: .some(nil))
        var second = LoadTally()
        second.recordResponse(status: 200)
        second.recordError(.timeout)
        first.merge(second)
        #expect(first.statusCounts == [200: 2, 503: 1])
        #expect(first.headerCounts == ["v1": 1, LoadTally.missingHeader: 1])
        #expect(first.bodyCounts == ["v1": 1, LoadTally.noMatch: 1])
        #expect(first.requests == 4 && first.errors == 1 && first.successes == 2)
        #expect(first.successPercent == 50)
        #expect(LoadTally().successPercent == 0)
    }

    // MARK: Report

    static func sampleReport() throws -> LoadReport {
        let settings = try LoadSettings(url: LoadURL(parsing: "http://helloworld:5000/hello"), rate: 200,
                                        duration: .seconds(10), requests: 2000, connections: 4,
                                        headers: [LoadHeader(name: "x-canary", value: "v2")], countHeader: "x-version",
                                        countBody: "Hello version: (v[0-9]+)", timeout: .milliseconds(1500))
        var tally = LoadTally()
        var latency = LatencyHistogram()
        for index in 0..<2000 {
            if index % 100 == 99 {
                tally.recordError(.reset)
                continue
            }
            let version = index % 10 == 0 ? "v2" : "v1"
            tally.recordResponse(status: index % 50 == 1 ? 503 : 200, headerValue: .some(version), bodyKey: .some(version), bytes: 40)
            latency.record(microseconds: UInt64(300 + index * 7))
        }
        tally.connectionsOpened = 4
        tally.notSent = 3
        return LoadReport(settings: settings, elapsed: .milliseconds(10_004), tally: tally, latency: latency)
    }

    @Test func reportReadsBackFromItsJSON() throws {
        let report = try Self.sampleReport()
        let text = report.json.serialized(JSONFormat(indent: 2))
        let again = try LoadReport(json: JSONValue(parsing: text))
        #expect(again == report)
        #expect(report.json["statusCodes"]?["503"] == .int(40))
        #expect(report.json["latencyMs"]?["p99"]?.doubleValue == report.latencyMilliseconds(percentile: 99))
        #expect(throws: LoadError.self) { try LoadReport(json: ["settings": ["qps": 1]]) }
        var broken = report.json
        broken[path: "histogram.buckets[0].fromMicros"] = .int(129)  // not a bucket's first value
        #expect(throws: LoadError.self) { try LoadReport(json: broken) }
    }

    @Test func textSummaryReadsLikeFortio() throws {
        let text = try Self.sampleReport().text
        #expect(text.hasPrefix("Starting at 200 qps with 4 connection(s) for 10s, 2000 requests at most: GET http://helloworld:5000/hello\n"))
        #expect(text.contains("Ended after 10.004s: 2000 requests, 199.9 qps, 4 connection(s) opened\n"))
        #expect(text.contains("# target 50% "))
        #expect(text.contains("# target 99.9% "))
        #expect(text.contains("Code 200 : 1940 (97.0 %)\n"))
        #expect(text.contains("Code 503 : 40 (2.0 %)\n"))
        #expect(text.contains("Error reset : 20 (1.0 %)\n"))
        #expect(text.contains("Body /Hello version: (v[0-9]+)/:\n  v1 : 1780 (89.0 %)\n  v2 : 200 (10.0 %)\n"))
        #expect(text.hasSuffix("Success rate: 97.00 % (2xx of 2000 requests)\n"))
    }

    @Test func fixedFormatting() {
        #expect(LoadReport.fixed(1.23456, 3) == "1.235")
        #expect(LoadReport.fixed(0.05, 1) == "0.1")
        #expect(LoadReport.fixed(99.999, 2) == "100.00")
        #expect(LoadReport.fixed(-2.5, 0) == "-3")
        #expect(LoadReport.fixed(7, 2) == "7.00")
        #expect(LoadReport.trimmed(99.9) == "99.9" && LoadReport.trimmed(100) == "100")
    }
}
