import MeshModel

/// How one try ended, in the terms Envoy's retry conditions use.
public enum TryOutcome: Sendable, Equatable {
    /// A response head arrived with this status.
    case response(status: Int)
    /// No connection could be made (refused, unreachable, connect timeout).
    case connectFailure
    /// Connected, but the upstream closed or reset before a response head.
    case reset
    /// The per-try timeout passed before a response head.
    case perTryTimeout
}

/// Envoy's retry decisions for one request, as a value: the proxy asks it after
/// every try, and it answers from the policy, the tries so far and the time left.
///
/// Conditions (Envoy's router filter): `5xx` retries any 5xx, resets, connect
/// failures and per-try timeouts; `gateway-error` only 502/503/504 (and per-try
/// timeouts, which Envoy answers as 504); `reset` resets and per-try timeouts;
/// `connect-failure` connect failures; `retriable-4xx` 409;
/// `retriable-status-codes` the listed codes; Istio's bare numbers are codes too.
/// Backoff is fully jittered exponential from `backoffBaseMs` (25) capped at
/// `backoffMaxMs` (10x base): try n waits `random(0 ..< min(base·2^(n-1), max))`.
public struct RetryState: Sendable {
    public let policy: RetryPolicy?
    /// Retries done so far (tries - 1).
    public private(set) var retriesDone = 0

    public init(policy: RetryPolicy?) {
        self.policy = policy
    }

    /// The status codes `retriable-status-codes` (and bare numbers in retryOn) name.
    var retriableCodes: Set<Int> {
        var codes = Set(policy?.retriableStatusCodes ?? [])
        for condition in policy?.retryOn ?? [] { if let code = Int(condition) { codes.insert(code) } }
        return codes
    }

    /// Whether `outcome` is one the policy retries (regardless of retries left).
    public func isRetriable(_ outcome: TryOutcome) -> Bool {
        guard let policy else { return false }
        let conditions = Set(policy.retryOn.map { $0.trimmingSpaces.lowercased() })
        switch outcome {
        case .connectFailure:
            return !conditions.isDisjoint(with: ["5xx", "gateway-error", "connect-failure", "reset"])
        case .reset:
            return !conditions.isDisjoint(with: ["5xx", "reset"])
        case .perTryTimeout:
            return !conditions.isDisjoint(with: ["5xx", "gateway-error", "reset"])
        case .response(let status):
            if conditions.contains("5xx") && (500...599).contains(status) { return true }
            if conditions.contains("gateway-error") && (502...504).contains(status) { return true }
            if conditions.contains("retriable-4xx") && status == 409 { return true }
            let codes = retriableCodes
            if (conditions.contains("retriable-status-codes") || !codes.isEmpty) && codes.contains(status) { return true }
            return false
        }
    }

    /// Whether another try is allowed now: the outcome is retriable and retries are left.
    public func shouldRetry(after outcome: TryOutcome) -> Bool {
        guard let policy else { return false }
        return retriesDone < policy.numRetries && isRetriable(outcome)
    }

    /// Counts a retry and returns how long to wait before it.
    public mutating func nextBackoff(random: inout some RandomNumberGenerator) -> Duration {
        retriesDone += 1
        let base = max(1, policy?.backoffBaseMs ?? 25)
        let cap = max(base, policy?.backoffMaxMs ?? base * 10)
        let shift = min(retriesDone - 1, 30)
        let ceiling = min(cap, base << shift)
        return .milliseconds(Int64(random.next() % UInt64(ceiling)))
    }

    /// Whether the policy wants endpoints already tried to be avoided (Istio's default: yes).
    public var avoidsPreviousHosts: Bool {
        guard let policy else { return false }
        return policy.retryPreviousHosts ?? true
    }
}

/// The time budget of one request: the route timeout bounds all tries, the per-try
/// timeout each one. Pure arithmetic on instants the caller supplies.
public struct RequestDeadline: Sendable {
    /// When the whole request must be answered; nil: no route timeout.
    public let overall: ContinuousClock.Instant?
    public let perTry: Duration?

    public init(start: ContinuousClock.Instant, routeTimeout: Duration?, perTryTimeout: Duration?) {
        overall = routeTimeout.flatMap { $0 > .zero ? start + $0 : nil }
        perTry = perTryTimeout.flatMap { $0 > .zero ? $0 : nil }
    }

    /// How long the next try may wait for its response head, from `now`, and whether
    /// hitting that limit means the route timeout (UT, no retry) rather than the per-try one.
    public func tryBudget(now: ContinuousClock.Instant) -> (limit: Duration?, isRouteTimeout: Bool) {
        let remaining = overall.map { max(.zero, $0 - now) }
        switch (remaining, perTry) {
        case (nil, nil): return (nil, false)
        case (let remaining?, nil): return (remaining, true)
        case (nil, let perTry?): return (perTry, false)
        case (let remaining?, let perTry?): return remaining <= perTry ? (remaining, true) : (perTry, false)
        }
    }

    /// Whether the route timeout has passed (or would, after `backoff`).
    public func isExpired(now: ContinuousClock.Instant, after backoff: Duration = .zero) -> Bool {
        guard let overall else { return false }
        return now + backoff >= overall
    }
}

extension String {
    var trimmingSpaces: Substring {
        var text = self[...]
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
