import MeshModel

/// The three probes kubelet runs.
public enum ProbeKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case startup = "Startup"
    case liveness = "Liveness"
    case readiness = "Readiness"

    public var description: String { rawValue }
}

/// One probe attempt's result. Kubelet's "warning" results (a redirect to
/// another host) count as success.
public enum ProbeOutcome: Sendable, Hashable {
    case success
    /// With the text of the `Unhealthy` event ("HTTP probe failed with statuscode: 503").
    case failure(String)

    public var succeeded: Bool { self == .success }
}

/// The thresholds of one probe (kubelet's prober worker): the result flips
/// to success after `successThreshold` successes in a row and to failure
/// after `failureThreshold` failures in a row. Readiness starts failed
/// (a container is not ready until a probe says so), liveness starts
/// successful (a container is alive until probes say otherwise), startup
/// starts unknown.
public struct ProbeTracker: Sendable, Hashable {
    public let kind: ProbeKind
    public let successThreshold: Int
    public let failureThreshold: Int
    /// The probe's verdict; nil while unknown.
    public private(set) var result: Bool?
    private var lastAttempt: Bool?
    private var run = 0

    public init(kind: ProbeKind, probe: Probe) {
        self.kind = kind
        // Liveness and startup probes must have successThreshold 1 (validation says so; be safe anyway).
        let success = kind == .readiness ? Int(probe.successThreshold ?? 1) : 1
        self.successThreshold = max(success, 1)
        self.failureThreshold = max(Int(probe.failureThreshold ?? 3), 1)
        switch kind {
        case .readiness: result = false
        case .liveness: result = true
        case .startup: result = nil
        }
    }

    /// Records an attempt; returns the new verdict when it changed.
    public mutating func record(_ succeeded: Bool) -> Bool? {
        if succeeded == lastAttempt {
            run += 1
        } else {
            lastAttempt = succeeded
            run = 1
        }
        let threshold = succeeded ? successThreshold : failureThreshold
        guard run >= threshold, result != succeeded else { return nil }
        result = succeeded
        return succeeded
    }
}

/// When a probe runs (kubelet's worker): not before `initialDelaySeconds`
/// after the container started, then every `periodSeconds`; a tick missed
/// while an attempt ran late is skipped, not run twice. Seconds of the spec
/// last `second` (one real second, or less in tests and fast labs).
public struct ProbeSchedule: Sendable, Hashable {
    public let initialDelay: Duration
    public let period: Duration
    public let timeout: Duration
    public private(set) var next: Moment

    public init(probe: Probe, containerStartedAt: Moment, now: Moment, second: Duration = .seconds(1)) {
        initialDelay = second * Int(max(probe.initialDelaySeconds ?? 0, 0))
        period = second * Int(max(probe.periodSeconds ?? 10, 1))
        timeout = second * Int(max(probe.timeoutSeconds ?? 1, 1))
        next = max(containerStartedAt + initialDelay, now)
    }

    /// Moves to the next tick after an attempt that finished at `now`.
    public mutating func advance(now: Moment) {
        next = next + period
        if next < now {
            let missed = Int((now - next) / period) + 1
            next = next + period * missed
        }
    }
}
