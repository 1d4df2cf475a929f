/// Kubelet's crash-loop back-off for one container (pkg/kubelet's
/// `doBackOff` over client-go's `flowcontrol.Backoff`).
///
/// The first exit restarts at once; each later one waits the current delay,
/// which starts at `initial` and doubles up to `maximum`. When two exits are
/// further apart than `reset` (twice the maximum: ten minutes by default, so
/// a container that ran that long), the count starts over. The delay applies
/// to every exit, successful or not: a `restartPolicy: Always` container that
/// exits 0 backs off too, as in Kubernetes.
public struct RestartBackoff: Sendable, Hashable {
    public struct Policy: Sendable, Hashable {
        public var initial: Duration
        public var maximum: Duration
        /// Exits further apart than this forget earlier ones.
        public var reset: Duration

        /// `reset` defaults to twice `maximum`, as kubelet's expiry rule.
        public init(initial: Duration, maximum: Duration, reset: Duration? = nil) {
            self.initial = initial
            self.maximum = max(initial, maximum)
            self.reset = reset ?? self.maximum * 2
        }

        /// Kubelet's: 10 s doubling to 5 min, forgotten after 10 min.
        public static let kubernetes = Policy(initial: .seconds(10), maximum: .seconds(300))
    }

    public let policy: Policy
    /// The delay the next exit waits; nil while no exit is remembered (the next one restarts at once).
    public private(set) var current: Duration?
    private var lastExit: Moment?

    public init(policy: Policy) { self.policy = policy }

    /// Records an exit at `exitedAt` and returns how long to wait before restarting.
    public mutating func delay(afterExitAt exitedAt: Moment) -> Duration {
        if let lastExit, exitedAt - lastExit > policy.reset { current = nil }
        lastExit = exitedAt
        guard let delay = current else {
            current = policy.initial
            return .zero
        }
        current = min(delay * 2, policy.maximum)
        return delay
    }

    /// A start that could not happen (a configuration error): waits like a
    /// crash but never restarts at once, so a missing ConfigMap is not
    /// asked for in a tight loop.
    public mutating func delay(afterFailedStartAt at: Moment) -> Duration {
        let delay = self.delay(afterExitAt: at)
        return delay == .zero ? self.delay(afterExitAt: at) : delay
    }
}
