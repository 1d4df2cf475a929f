import Testing

@testable import MeshPod

@Suite struct AgentBackoffTests {
    @Test func doublesFromTenSecondsToFiveMinutes() {
        var backoff = RestartBackoff(policy: .kubernetes)
        var at = moment(.zero)
        var delays: [String] = []
        for _ in 0..<9 {
            let delay = backoff.delay(afterExitAt: at)
            delays.append(delay.goDescription)
            at = at + delay + .seconds(1)  // each run lasts a second
        }
        #expect(delays == ["0s", "10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s", "5m0s"])
    }

    @Test func forgetsExitsMoreThanTenMinutesApart() {
        var backoff = RestartBackoff(policy: .kubernetes)
        #expect(backoff.delay(afterExitAt: moment(.zero)) == .zero)
        #expect(backoff.delay(afterExitAt: moment(.seconds(5))) == .seconds(10))
        // Ran for exactly ten minutes since the last exit: still remembered.
        #expect(backoff.delay(afterExitAt: moment(.seconds(605))) == .seconds(20))
        // Ran longer than ten minutes: starts over.
        #expect(backoff.delay(afterExitAt: moment(.seconds(1206))) == .zero)
        #expect(backoff.delay(afterExitAt: moment(.seconds(1207))) == .seconds(10))
    }

    @Test func aShorterBaseForTestsAndFastLabs() {
        var backoff = RestartBackoff(policy: RestartBackoff.Policy(initial: .milliseconds(100), maximum: .milliseconds(300)))
        #expect(backoff.policy.reset == .milliseconds(600))
        let delays = (0..<5).map { _ in backoff.delay(afterExitAt: moment(.zero)).goDescription }
        #expect(delays == ["0s", "100ms", "200ms", "300ms", "300ms"])
    }

    @Test func aFailedStartNeverRetriesAtOnce() {
        var backoff = RestartBackoff(policy: .kubernetes)
        #expect(backoff.delay(afterFailedStartAt: moment(.zero)) == .seconds(10))
        #expect(backoff.delay(afterFailedStartAt: moment(.seconds(10))) == .seconds(20))
    }

    @Test(arguments: [
        (Duration.zero, "0s"), (.seconds(10), "10s"), (.seconds(80), "1m20s"), (.seconds(300), "5m0s"),
        (.milliseconds(200), "200ms"), (.milliseconds(1600), "1.6s"), (.milliseconds(102_400), "1m42.4s"),
        (.seconds(3600 + 2), "1h0m2s"), (.microseconds(1500), "1.5ms"), (.nanoseconds(999), "999ns"),
        (.nanoseconds(1500), "1.5µs"), (.seconds(-10), "-10s"),
    ])
    func durationsReadAsGoWritesThem(_ duration: Duration, _ text: String) {
        #expect(duration.goDescription == text)
    }
}
