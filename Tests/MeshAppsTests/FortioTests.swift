import MeshHTTP
import MeshSystem
import MeshTestSupport
import Synchronization
import Testing
@testable import MeshApps

@Suite struct FortioTests {
    @Test func probabilityListsPickByRunningSum() throws {
        let list = try #require(ProbabilityList("503:20,404:10,403:0.5%", value: { Int($0) }))
        #expect(list.pick(roll: 0) == 503)
        #expect(list.pick(roll: 20) == 503)  // a roll equal to the sum still hits, as fortio's `<=`
        #expect(list.pick(roll: 20.01) == 404)
        #expect(list.pick(roll: 30.4) == 403)
        #expect(list.pick(roll: 30.6) == nil)  // the remaining 69.5 %: the default
        #expect(ProbabilityList("503", value: { Int($0) })?.pick(roll: 99.9) == 503)
        #expect(ProbabilityList("503:60,404:50", value: { Int($0) }) == nil)  // over 100 %
        #expect(ProbabilityList("503:-1", value: { Int($0) }) == nil)
        #expect(ProbabilityList("503:1:2", value: { Int($0) }) == nil)
        #expect(ProbabilityList("abc:1", value: { Int($0) }) == nil)
        #expect(ProbabilityList("33.333:33.333,1:33.333,2:33.334", value: { Double($0) }) != nil)  // sums to 100 after rounding
    }

    @Test func parameterFallbacksAreFortios() {
        let random = RandomSource.seeded(1)
        #expect(FortioApp.status(nil, random) == 200)
        #expect(FortioApp.status("abc", random) == 400)
        #expect(FortioApp.status("503:50:1", random) == 400)
        #expect(FortioApp.status("99", random) == 400)
        #expect(FortioApp.delay("soon", random) == nil)
        #expect(FortioApp.delay("5s", random) == .milliseconds(1500))  // capped by -max-echo-delay
        #expect(FortioApp.size("x", random) == nil)  // echo the body instead
        #expect(FortioApp.size("999999999", random) == 256 * 1024)
    }

    /// With a seeded generator the draw is reproducible: a distribution check that cannot flake.
    @Test func seededDrawsFollowThePercentages() {
        func counts(seed: UInt64) -> [Int: Int] {
            let random = RandomSource.seeded(seed)
            var counts: [Int: Int] = [:]
            for _ in 0..<10_000 { counts[FortioApp.status("503:50,429:10", random), default: 0] += 1 }
            return counts
        }
        let first = counts(seed: 2024)
        #expect(first == counts(seed: 2024))
        #expect((4850...5150).contains(first[503] ?? 0), "\(first)")
        #expect((900...1100).contains(first[429] ?? 0), "\(first)")
        #expect((3850...4150).contains(first[200] ?? 0), "\(first)")

        let random = RandomSource.seeded(5)
        var delayed = 0, sized = 0
        for _ in 0..<10_000 {
            if FortioApp.delay("10ms:20", random) == .milliseconds(10) { delayed += 1 }
            if FortioApp.size("1024:25", random) == 1024 { sized += 1 }
        }
        #expect((1850...2150).contains(delayed), "\(delayed)")
        #expect((2350...2650).contains(sized), "\(sized)")
    }

    @Test func echoShapesTheAnswer() async throws {
        let slept = Mutex<[Duration]>([])
        let app = FortioApp(hostname: "fortio-pod", random: .seeded(3), sleep: { d in slept.withLock { $0.append(d) } })
        try await withServedApp(app) { port in
            let echoed = try await send(port, .post, "/anything?x=1", headers: ["Content-Type": "text/plain"],
                                        body: Array("hello".utf8))
            #expect(echoed.status == .ok)
            #expect(echoed.bodyText == "hello")
            #expect(echoed.headers["content-type"] == "text/plain")

            let shaped = try await send(port, .get, "/echo?status=503&delay=10ms&size=1024&header=x-test:yes&header=x-other:1")
            #expect(shaped.status == .serviceUnavailable)
            #expect(shaped.body.count == 1024)
            #expect(shaped.headers["X-Test"] == "yes")
            #expect(shaped.headers["X-Other"] == "1")
            #expect(shaped.headers["content-type"] == "application/octet-stream")
            #expect(slept.withLock { $0 } == [.milliseconds(10)])

            let zero = try await send(port, .post, "/?size=0", body: Array("ignored".utf8))
            #expect(zero.body.isEmpty)
            #expect(try await send(port, .get, "/fortio/").status == .notFound)
        }
    }

    @Test func debugDescribesTheRequest() async throws {
        let clock = ManualInstant()
        let app = FortioApp(hostname: "fortio-deploy-7dcd84c469-xdggz", environment: ["HOSTNAME": "fortio-deploy-7dcd84c469-xdggz"],
                            now: { clock.now })
        clock.advance(.milliseconds(83_260))
        let request = AppRequest(
            method: .post, target: "/debug?env=dump",
            headers: ["Host": "fortio:8080", "user-agent": "fortio.org/fortio-1.69.5", "X-B3-Sampled": "1", "x-multi": "a",
                      "X-Multi": "b"],
            body: Array("a \"quoted\"\nbody\u{1}".utf8), peer: .ipv4(IPv4Address(10, 1, 0, 9), port: 40512))
        let response = await app.handle(request)
        #expect(response.headers["content-type"] == "text/plain; charset=UTF-8")
        try Golden.check(response.bodyText, against: "fortio-debug.txt")
        #expect(FortioApp.debugSummary(Array(repeating: UInt8(ascii: "x"), count: 600), max: 10) == "600: \"xxxxx\"...\"xxxxx\"")
    }

    @Test func uptimeReadsAsGoPrintsIt() {
        #expect(DurationText.goRoundedToTenths(.milliseconds(40)) == "0s")
        #expect(DurationText.goRoundedToTenths(.milliseconds(1240)) == "1.2s")
        #expect(DurationText.goRoundedToTenths(.seconds(62)) == "1m2s")
        #expect(DurationText.goRoundedToTenths(.seconds(3600)) == "1h0m0s")
    }
}
