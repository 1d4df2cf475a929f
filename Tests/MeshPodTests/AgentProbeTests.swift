import MeshModel
import Testing

@testable import MeshPod

@Suite struct AgentProbeTests {
    func probe(success: Int32 = 1, failure: Int32 = 3, delay: Int32 = 0, period: Int32 = 10, timeout: Int32 = 1) -> Probe {
        var probe = Probe(tcpSocket: TCPSocketAction(port: 80))
        probe.successThreshold = success
        probe.failureThreshold = failure
        probe.initialDelaySeconds = delay
        probe.periodSeconds = period
        probe.timeoutSeconds = timeout
        return probe
    }

    @Test func readinessStartsFailedAndNeedsItsSuccessThreshold() {
        var tracker = ProbeTracker(kind: .readiness, probe: probe(success: 2, failure: 2))
        #expect(tracker.result == false)
        #expect(tracker.record(true) == nil)
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(true) == nil)
        #expect(tracker.record(true) == true)
        #expect(tracker.record(true) == nil)
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(false) == false)
        #expect(tracker.result == false)
    }

    @Test func livenessStartsAliveAndFailsAfterItsThresholdInARow() {
        var tracker = ProbeTracker(kind: .liveness, probe: probe(success: 5, failure: 3))
        #expect(tracker.result == true)
        #expect(tracker.successThreshold == 1)  // liveness must be 1
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(true) == nil)  // the run is broken
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(false) == false)
    }

    @Test func startupIsUnknownUntilOneSuccess() {
        var tracker = ProbeTracker(kind: .startup, probe: probe(failure: 30))
        #expect(tracker.result == nil)
        #expect(tracker.record(false) == nil)
        #expect(tracker.record(true) == true)
    }

    @Test func theScheduleWaitsTheInitialDelayThenTicksEveryPeriod() {
        let started = moment(.seconds(100))
        var schedule = ProbeSchedule(probe: probe(delay: 5, period: 3, timeout: 2), containerStartedAt: started,
                                     now: started, second: .milliseconds(10))
        #expect(schedule.timeout == .milliseconds(20))
        #expect(schedule.next == started + .milliseconds(50))
        schedule.advance(now: started + .milliseconds(55))
        #expect(schedule.next == started + .milliseconds(80))
        // An attempt that ran late skips the ticks it missed.
        schedule.advance(now: started + .milliseconds(150))
        #expect(schedule.next == started + .milliseconds(170))
    }

    @Test func aProbeBeginningLateRunsAtOnce() {
        // Readiness after a startup probe: the initial delay is long over.
        let started = moment(.seconds(1))
        let schedule = ProbeSchedule(probe: probe(delay: 2), containerStartedAt: started, now: moment(.seconds(30)))
        #expect(schedule.next == moment(.seconds(30)))
    }
}
