import MeshHTTP
import MeshModel
import MeshTestSupport
import Synchronization
import Testing
@testable import MeshApps

/// go-httpbin's answers, shapes checked against golden transcripts.
@Suite struct HttpbinTests {
    /// Requests with fixed headers (X-Forwarded-For fixes `origin`) and their answers, as one text.
    static func transcript(_ app: HttpbinApp, _ requests: [(HTTPMethod, String, HTTPHeaders, String)]) async throws -> String {
        try await withServedApp(app) { port in
            var text = ""
            for (method, target, extra, body) in requests {
                var headers: HTTPHeaders = ["Host": "httpbin:8000", "User-Agent": "curl/8.16.0", "X-Forwarded-For": "10.1.0.7"]
                for field in extra { headers.add(name: field.name, value: field.value) }
                let response = try await send(port, method, target, headers: headers, body: Array(body.utf8))
                text += "\(method) \(target)\n\(response.status.code)\n"
                for field in response.headers where !["date", "content-length"].contains(field.name.lowercased()) {
                    text += "\(field.name): \(field.value)\n"
                }
                text += response.body.allSatisfy({ $0 == 9 || $0 == 10 || ($0 >= 32 && $0 < 127) })
                    ? response.bodyText : "<\(response.body.count) bytes: \(response.body.prefix(8).map { String($0) }.joined(separator: " "))...>"
                text += "\n----\n"
            }
            return text
        }
    }

    @Test func echoEndpointsMatchTheGoldenFile() async throws {
        let text = try await Self.transcript(HttpbinApp(random: .seeded(1)), [
            (.get, "/get?b=2&a=1&a=3", ["X-Request-Id": "r1", "x-b3-sampled": "1"], ""),
            (.head, "/get", [:], ""),
            (.post, "/get", [:], ""),
            (.post, "/anything/path?x=y", ["Content-Type": "application/json"], #"{"n": 1.0, "list": [1, "two"]}"#),
            (.put, "/put", ["Content-Type": "application/x-www-form-urlencoded"], "k=v&k=w&e=%20x"),
            (.patch, "/anything", ["Content-Type": "text/plain"], "plain text"),
            (.delete, "/delete", ["Content-Type": "image/png"], "PNG"),
            (.post, "/post", ["Content-Type": "application/json"], "{not json"),
            (.get, "/headers", ["Accept": "*/*", "accept": "text/plain"], ""),
            (.get, "/ip", [:], ""),
            (.get, "/user-agent", [:], ""),
            (.get, "/uuid", [:], ""),
            (.get, "/hostname", [:], ""),
            (.get, "/cookies", ["Cookie": "b=2; a=1"], ""),
            (.options, "/anything", ["Access-Control-Request-Headers": "x-custom", "Origin": "http://site"], ""),
        ])
        try Golden.check(text, against: "httpbin-echo.txt")
    }

    @Test func statusRedirectBytesAndErrorsMatchTheGoldenFile() async throws {
        let text = try await Self.transcript(HttpbinApp(random: .seeded(2), sleep: { _ in }), [
            (.get, "/status/200", [:], ""),
            (.get, "/status/418", [:], ""),
            (.get, "/status/302", [:], ""),
            (.get, "/status/406", [:], ""),
            (.get, "/status/600", [:], ""),
            (.get, "/status/abc", [:], ""),
            (.get, "/status/100", [:], ""),
            (.get, "/status/200:0,503:1", [:], ""),
            (.get, "/status/200:x,503", [:], ""),
            (.get, "/status", [:], ""),
            (.get, "/delay/0.5?q=1", [:], ""),
            (.get, "/delay/11", [:], ""),
            (.get, "/delay/soon", [:], ""),
            (.get, "/bytes/16?seed=3", [:], ""),
            (.get, "/bytes/0", [:], ""),
            (.get, "/bytes/-1", [:], ""),
            (.get, "/response-headers?X-Test=1&X-Test=2&Server=httpbin", [:], ""),
            (.get, "/redirect/3", [:], ""),
            (.get, "/redirect/1", [:], ""),
            (.get, "/redirect/2?absolute=true", [:], ""),
            (.get, "/absolute-redirect/1", [:], ""),
            (.get, "/redirect/0", [:], ""),
            (.get, "/redirect-to?url=http%3A%2F%2Fexample.com%2F&status_code=307", [:], ""),
            (.get, "/redirect-to", [:], ""),
            (.get, "/unstable?seed=1&failure_rate=1", [:], ""),
            (.get, "/no-such-endpoint", [:], ""),
        ])
        try Golden.check(text, against: "httpbin-status.txt")
    }

    @Test func delayWaitsTheAskedTimeAndStaysBounded() async {
        let slept = Mutex<[Duration]>([])
        let app = HttpbinApp(sleep: { duration in slept.withLock { $0.append(duration) } })
        for target in ["/delay/1.5", "/delay/250ms", "/delay/10", "/delay/10.5", "/delay/-1"] {
            _ = await app.handle(AppRequest(target: target, headers: ["Host": "h"]))
        }
        #expect(slept.withLock { $0 } == [.milliseconds(1500), .milliseconds(250), .seconds(10)])
    }

    @Test func seededBytesRepeatAndDifferBySeed() async {
        let app = HttpbinApp()
        let a = await app.handle(AppRequest(target: "/bytes/64?seed=42")).body
        let b = await app.handle(AppRequest(target: "/bytes/64?seed=42")).body
        let c = await app.handle(AppRequest(target: "/bytes/64?seed=43")).body
        #expect(a.count == 64 && a == b && a != c)
        #expect(await app.handle(AppRequest(target: "/bytes/1000000")).body.count == 100 * 1024)
    }

    @Test func weightedStatusFollowsTheWeights() async {
        let app = HttpbinApp(random: .seeded(11))
        var counts: [Int: Int] = [:]
        for _ in 0..<2000 {
            counts[await app.handle(AppRequest(target: "/status/200:0.5,503:0.25,404:0.25")).status.code, default: 0] += 1
        }
        #expect(Set(counts.keys) == [200, 503, 404])
        #expect((900...1100).contains(counts[200]!), "\(counts)")
        #expect((400...600).contains(counts[503]!), "\(counts)")
        // The choice itself is exact for a given roll.
        let choices = HttpbinApp.weightedChoices("200:0.5,503:0.5")!
        #expect(HttpbinApp.pick(choices, roll: 0.49) == 200)
        #expect(HttpbinApp.pick(choices, roll: 0.5) == 503)
        #expect(HttpbinApp.weightedChoices("200,503") != nil)  // weights default to 1
        #expect(HttpbinApp.weightedChoices("200:0,503:0") == nil)
    }

    @Test func originIsTheTCPPeerWithoutAProxy() async throws {
        try await withServedApp(HttpbinApp()) { port in
            let response = try await send(port, .get, "/ip")
            let origin = try JSONValue(parsing: response.body)["origin"]?.stringValue ?? ""
            #expect(origin.hasPrefix("127.0.0.1:"))
        }
    }

    @Test func goHeaderNamesAreCanonical() {
        #expect(GoConventions.canonicalHeaderName("x-request-id") == "X-Request-Id")
        #expect(GoConventions.canonicalHeaderName("CONTENT-TYPE") == "Content-Type")
        #expect(GoConventions.canonicalHeaderName("bad header") == "bad header")
        #expect(Base64URL.encode(Array("PNG?>".utf8)) == "UE5HPz4=")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8=")
    }

    @Test func goDurations() {
        #expect(GoDuration.parse("1.5s") == .milliseconds(1500))
        #expect(GoDuration.parse("2h45m") == .seconds(9900))
        #expect(GoDuration.parse("10us") == .microseconds(10))
        #expect(GoDuration.parse("0") == .zero)
        #expect(GoDuration.parse("-3ms") == .milliseconds(-3))
        #expect(GoDuration.parse("3") == nil)
        #expect(GoDuration.parse("ms") == nil)
        #expect(GoDuration.parse("1.2.3s") == nil)
        #expect(GoDuration.parseOrSeconds("3") == .seconds(3))
        #expect(GoDuration.parseOrSeconds("nan") == nil)
    }
}
