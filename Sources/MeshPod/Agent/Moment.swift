import MeshModel

/// A point in the agent's time. Decisions compare the monotonic part (a
/// wall clock can jump); what a person reads (`startedAt`, event times)
/// uses the wall-clock part taken at the same moment.
public struct Moment: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Monotonic time since the agent's clock started.
    public var offset: Duration
    /// Seconds since the Unix epoch at that moment.
    public var epochSeconds: Int

    public init(offset: Duration, epochSeconds: Int) {
        self.offset = offset
        self.epochSeconds = epochSeconds
    }

    /// RFC 3339, as Kubernetes writes times in status and events.
    public var timestamp: String { Timestamp.format(epochSeconds: epochSeconds) }

    public static func < (a: Moment, b: Moment) -> Bool { a.offset < b.offset }
    public static func == (a: Moment, b: Moment) -> Bool { a.offset == b.offset }
    public func hash(into hasher: inout Hasher) { hasher.combine(offset) }

    /// The moment `duration` later (the wall clock moved by its whole seconds).
    public static func + (moment: Moment, duration: Duration) -> Moment {
        Moment(offset: moment.offset + duration, epochSeconds: moment.epochSeconds + Int(duration.components.seconds))
    }

    /// How long from `b` to `a`.
    public static func - (a: Moment, b: Moment) -> Duration { a.offset - b.offset }

    public var description: String { "t+\(offset)" }
}

/// The agent's clock: `now()` for decisions, `sleep(until:)` for timers.
/// Built over any `Clock` so tests drive it with a `ManualClock`.
public struct AgentClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void
    private let wall: @Sendable () -> Int

    /// - Parameters:
    ///   - clock: the monotonic clock; offsets count from its `now` at this call.
    ///   - wallSeconds: seconds since the epoch (a test passes one derived from its manual clock).
    public init<C: Clock>(_ clock: C, wallSeconds: @escaping @Sendable () -> Int = { Timestamp.now() })
    where C.Duration == Duration, C: Sendable, C.Instant: Sendable {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
        wall = wallSeconds
    }

    /// The system's monotonic clock and real time.
    public static func system() -> AgentClock { AgentClock(ContinuousClock()) }

    public func now() -> Moment { Moment(offset: elapsed(), epochSeconds: wall()) }

    /// Suspends until `moment` (at once if it has passed). Throws `CancellationError` when cancelled.
    public func sleep(until moment: Moment) async throws { try await sleeper(moment.offset) }

    public func sleep(for duration: Duration) async throws { try await sleep(until: now() + duration) }
}
