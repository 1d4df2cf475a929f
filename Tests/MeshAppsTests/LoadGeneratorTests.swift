@testable import MeshApps
import MeshHTTP
import MeshIO
import MeshSystem
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An app whose answers depend on arrival order only, so that counts over a run are exact:
/// every 4th request gets 503, versions alternate v1/v2 (in the body and in `x-version`).
final class CountingApp: HTTPApp {
    private let arrivals = Mutex(0)
    /// The first request waits this long (a stalled server).
    let firstStall: Duration?
    init(firstStall: Duration? = nil) { self.firstStall = firstStall }
    var identity: String { "counting" }
    func handle(_ request: AppRequest) async -> HTTPResponse {
        let index = arrivals.withLock { value in
            defer { value += 1 }
            return value
        }
        if index == 0, let firstStall { try? await Task.sleep(for: firstStall) }
        let version = index % 2 == 0 ? "v1" : "v2"
        var headers = HTTPHeaders()
        headers.add(name: "x-version", value: version)
        return HTTPResponse(status: HTTPStatus(code: index % 4 == 3 ? 503 : 200), headers: headers,
                            text: "Hello version: \(version), instance: test\n")
    }
}

/// The generator against local MeshHTTP servers on 127.0.0.1 port 0.
@Suite struct LoadGeneratorTests {
    static func settings(port: Int, path: String = "/hello", rate: Double, requests: Int?, connections: Int,
                         timeout: Duration = .seconds(60)) throws -> LoadSettings {
        // A long timeout (and so send window): on a busy 2-core machine running the
        // whole suite, a run may wait seconds for a thread; the counts must not change.
        try LoadSettings(url: LoadURL(parsing: "http://127.0.0.1:\(port)\(path)"), rate: rate, requests: requests,
                         connections: connections, countHeader: "x-version", countBody: "Hello version: (v[0-9]+)",
                         timeout: timeout)
    }

    @Test func closedLoopCountsStatusesHeadersAndBodies() async throws {
        try await withServedApp(CountingApp()) { port in
            let report = try await LoadGenerator(settings: Self.settings(port: port, rate: 0, requests: 200, connections: 3)).run()
            let tally = report.tally
            #expect(tally.requests == 200)
            #expect(tally.statusCounts == [200: 150, 503: 50])
            #expect(tally.bodyCounts == ["v1": 100, "v2": 100])
            #expect(tally.headerCounts == ["v1": 100, "v2": 100])
            #expect(tally.errors == 0)
            // Keep-alive: one connection each, reused for every request.
            #expect(tally.connectionsOpened == 3)
            #expect(report.latency.count == 200)
            #expect(tally.successPercent == 75)
        }
    }

    @Test func openLoopHoldsTheRateRoughly() async throws {
        try await withServedApp(CountingApp()) { port in
            let report = try await LoadGenerator(settings: Self.settings(port: port, rate: 200, requests: 100, connections: 2)).run()
            #expect(report.tally.requests == 100)
            // The last request is due at 99/200 s: the run cannot end sooner, so the rate
            // cannot exceed the one asked for. No lower bound: a loaded machine is slow, not
            // a broken generator.
            #expect(report.elapsed >= .milliseconds(495))
            #expect(report.actualRate <= 205)
        }
    }

    @Test func aStalledServerShowsInTheRequestsThatWaited() async throws {
        // Request k (of 30, one connection, 100 qps) is due at k*10 ms ≤ 290 ms and cannot be
        // answered before the first request's 500 ms stall ends, so every latency measured from
        // the intended send time is at least 210 ms. Measured from the actual send (coordinated
        // omission) all but one would be well under a millisecond.
        try await withServedApp(CountingApp(firstStall: .milliseconds(500))) { port in
            let report = try await LoadGenerator(settings: Self.settings(port: port, rate: 100, requests: 30, connections: 1)).run()
            #expect(report.tally.requests == 30)
            #expect(report.latency.percentile(50) >= 210_000)
            #expect(report.latency.minimum >= 210_000)
        }
    }

    @Test func anOpenLoopRunThatFallsBehindStopsAtItsSendWindow() async throws {
        // 50 requests due within 0.5 s, one connection, each answer takes 0.5 s, timeout 1 s:
        // the window closes 1.5 s after the start, when at most 4 have been sent.
        try await withServedApp(FixedApp(status: .ok, hang: .milliseconds(500))) { port in
            let settings = try Self.settings(port: port, rate: 100, requests: 50, connections: 1, timeout: .seconds(1))
            #expect(settings.sendWindow == .milliseconds(1500))
            let report = try await LoadGenerator(settings: settings).run()
            #expect(report.tally.requests + report.tally.notSent == 50)
            #expect(report.tally.notSent >= 45)
            #expect(report.text.contains("Not sent : \(report.tally.notSent) "))
        }
    }

    @Test func refusedConnectionsAreCountedByKind() async throws {
        try await withRefusingPort { port in
            let report = try await LoadGenerator(settings: Self.settings(port: port, rate: 200, requests: 6, connections: 2)).run()
            #expect(report.tally.errorCounts == [.connectRefused: 6])
            #expect(report.tally.responses == 0)
            #expect(report.latency.count == 0)
        }
    }

    @Test func aHungServerTimesOut() async throws {
        try await withServedApp(FixedApp(status: .ok, hang: .seconds(2))) { port in
            let report = try await LoadGenerator(settings: Self.settings(port: port, rate: 0, requests: 2, connections: 2,
                                                                       timeout: .milliseconds(100))).run()
            #expect(report.tally.errorCounts == [.timeout: 2])
        }
    }

    @Test func theRequestCarriesTheUsersHeaders() throws {
        let settings = try LoadSettings(url: LoadURL(parsing: "http://web:8080/x?y=1"), requests: 1,
                                        headers: [LoadHeader(name: "Host", value: "other"), LoadHeader(name: "x-a", value: "1"),
                                                  LoadHeader(name: "x-a", value: "2")])
        let request = LoadGenerator(settings: settings).request
        #expect(request.target == "/x?y=1")
        #expect(request.headers.values(for: "host") == ["other"])
        #expect(request.headers.values(for: "x-a") == ["1", "2"])
        #expect(request.headers["user-agent"] == "meshlab-load")
    }

    @Test func unresolvableHostsFailTheRun() async throws {
        let settings = try LoadSettings(url: LoadURL(parsing: "http://nowhere.invalid/"), requests: 1)
        let generator = LoadGenerator(settings: settings, resolve: { host in throw ResolveError.notFound(host) })
        await #expect(throws: LoadError.self) { try await generator.run() }
    }

    @Test func errorsAreClassified() {
        #expect(LoadGenerator.classify(SystemError(errno: ECONNREFUSED, function: "connect"), connecting: true) == .connectRefused)
        #expect(LoadGenerator.classify(SystemError(errno: ECONNRESET, function: "read"), connecting: false) == .reset)
        #expect(LoadGenerator.classify(IOError.timedOut(.connect), connecting: true) == .connectTimeout)
        #expect(LoadGenerator.classify(IOError.timedOut(.read), connecting: false) == .timeout)
        #expect(LoadGenerator.classify(HTTPError.connectionClosed, connecting: false) == .closed)
        #expect(LoadGenerator.classify(HTTPError.timedOut("read"), connecting: false) == .timeout)
    }
}
