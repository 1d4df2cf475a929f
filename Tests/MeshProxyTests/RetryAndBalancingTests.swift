import MeshModel
import Testing
@testable import MeshProxy

@Suite struct RetryDecisionTests {
    @Test(arguments: [
        (["5xx"], TryOutcome.response(status: 503), true),
        (["5xx"], .response(status: 404), false),
        (["5xx"], .reset, true),
        (["5xx"], .connectFailure, true),
        (["5xx"], .perTryTimeout, true),
        (["gateway-error"], .response(status: 500), false),
        (["gateway-error"], .response(status: 502), true),
        (["gateway-error"], .perTryTimeout, true),
        (["reset"], .reset, true),
        (["reset"], .response(status: 503), false),
        (["connect-failure"], .connectFailure, true),
        (["connect-failure"], .reset, false),
        (["retriable-4xx"], .response(status: 409), true),
        (["retriable-4xx"], .response(status: 404), false),
        (["retriable-status-codes", "418"], .response(status: 418), true),
        (["418"], .response(status: 418), true),
        (["connect-failure", "refused-stream"], .response(status: 503), false),
    ] as [([String], TryOutcome, Bool)])
    func conditions(retryOn: [String], outcome: TryOutcome, retriable: Bool) {
        #expect(RetryState(policy: RetryPolicy(numRetries: 2, retryOn: retryOn)).isRetriable(outcome) == retriable)
    }

    @Test func retriesRunOutAndNoPolicyNeverRetries() {
        var state = RetryState(policy: RetryPolicy(numRetries: 2, retryOn: ["5xx"]))
        var random = SplitMix64(seed: 7)
        #expect(state.shouldRetry(after: .response(status: 503)))
        _ = state.nextBackoff(random: &random)
        #expect(state.shouldRetry(after: .response(status: 503)))
        _ = state.nextBackoff(random: &random)
        #expect(!state.shouldRetry(after: .response(status: 503)))
        #expect(!RetryState(policy: nil).shouldRetry(after: .connectFailure))
    }

    @Test func backoffIsJitteredExponentialAndCapped() {
        var random = SplitMix64(seed: 99)
        var ceilings: [Duration] = []
        for _ in 0..<500 {
            var state = RetryState(policy: RetryPolicy(numRetries: 10, retryOn: ["5xx"]))
            var worst: [Duration] = []
            for _ in 0..<6 { worst.append(state.nextBackoff(random: &random)) }
            if ceilings.isEmpty { ceilings = worst } else { ceilings = zip(ceilings, worst).map { max($0, $1) } }
        }
        // Try n draws below min(25ms * 2^(n-1), 250ms): observed maxima sit just under those bounds.
        let bounds: [Duration] = [25, 50, 100, 200, 250, 250].map { .milliseconds($0) }
        for (observed, bound) in zip(ceilings, bounds) {
            #expect(observed < bound)
            #expect(observed >= bound * 0.8, "observed \(observed) for bound \(bound)")
        }
    }

    @Test func routeTimeoutBoundsAllTries() {
        let start = ContinuousClock.now
        let both = RequestDeadline(start: start, routeTimeout: .milliseconds(1000), perTryTimeout: .milliseconds(300))
        #expect(both.tryBudget(now: start) == (.milliseconds(300), false))
        let late = start + .milliseconds(800)
        #expect(both.tryBudget(now: late) == (.milliseconds(200), true))
        #expect(both.isExpired(now: late, after: .milliseconds(250)))
        #expect(!both.isExpired(now: late, after: .milliseconds(100)))
        let none = RequestDeadline(start: start, routeTimeout: nil, perTryTimeout: nil)
        #expect(none.tryBudget(now: late).limit == nil)
        let zero = RequestDeadline(start: start, routeTimeout: .zero, perTryTimeout: .milliseconds(50))
        #expect(zero.tryBudget(now: late) == (.milliseconds(50), false))  // 0s: no route timeout (Istio)
    }
}

@Suite struct LoadBalancerTests {
    func candidates(_ active: [Int], unhealthy: Set<Int> = []) -> [LoadBalancer.Candidate] {
        active.enumerated().map { LoadBalancer.Candidate(healthy: !unhealthy.contains($0.offset), activeRequests: $0.element) }
    }

    @Test func leastRequestPrefersIdleEndpoints() {
        var random = SplitMix64(seed: 3)
        var cursor = 0
        var counts = [0, 0, 0]
        for _ in 0..<3000 {
            let index = LoadBalancer.pick(.leastRequest, candidates: candidates([5, 0, 5]), cursor: &cursor, random: &random)!
            counts[index] += 1
        }
        // The idle one wins whenever it is one of the two drawn: 1 - (2/3)^2 = 5/9 of picks.
        #expect(counts[1] > 1500 && counts[1] < 1850, "\(counts)")
        // Equal load spreads evenly.
        counts = [0, 0, 0]
        for _ in 0..<3000 {
            counts[LoadBalancer.pick(.leastRequest, candidates: candidates([0, 0, 0]), cursor: &cursor, random: &random)!] += 1
        }
        #expect(counts.allSatisfy { $0 > 850 && $0 < 1150 }, "\(counts)")
    }

    @Test func roundRobinRandomHealthAndExclusions() {
        var random = SplitMix64(seed: 5)
        var cursor = 0
        let picks = (0..<6).map { _ in
            LoadBalancer.pick(.roundRobin, candidates: candidates([0, 0, 0]), cursor: &cursor, random: &random)!
        }
        #expect(picks == [0, 1, 2, 0, 1, 2])
        for policy in [Cluster.LoadBalancer.leastRequest, .roundRobin, .random] {
            for _ in 0..<50 {
                let pick = LoadBalancer.pick(policy, candidates: candidates([0, 0, 0], unhealthy: [0, 2]), cursor: &cursor, random: &random)
                #expect(pick == 1)
                let avoided = LoadBalancer.pick(policy, candidates: candidates([0, 0, 0]), excluded: [0, 1], cursor: &cursor, random: &random)
                #expect(avoided == 2)
            }
            #expect(LoadBalancer.pick(policy, candidates: candidates([0], unhealthy: [0]), cursor: &cursor, random: &random) == nil)
            // Everything tried already: any healthy one rather than none.
            #expect(LoadBalancer.pick(policy, candidates: candidates([0]), excluded: [0], cursor: &cursor, random: &random) == 0)
        }
    }
}
