/// When each request of an open-loop run is meant to go out.
///
/// Request number k (0, 1, 2, ...) is due at k / rate after the start, and
/// connection c carries requests c, c + C, c + 2C, ... (C connections): the
/// rate is held by the clock, not by how fast answers come back. A connection
/// that falls behind sends its overdue requests at once, and each request's
/// latency is measured from when it was due (wrk2's and fortio's correction
/// for coordinated omission), so a server that stalls shows up in every
/// request that waited for it instead of in one slow sample.
public struct LoadSchedule: Sendable, Equatable {
    public var rate: Double
    public var connections: Int
    public var duration: Duration?
    public var requests: Int?

    public init(rate: Double, connections: Int, duration: Duration?, requests: Int?) {
        precondition(rate > 0 && connections > 0, "an open-loop schedule needs a rate and a connection")
        self.rate = rate
        self.connections = connections
        self.duration = duration
        self.requests = requests
    }

    /// The number of the `sequence`-th request (from 0) that `connection` sends.
    public func requestNumber(connection: Int, sequence: Int) -> Int {
        sequence * connections + connection
    }

    /// When request `number` is due, from the start; nil when the run ends before it.
    public func intendedOffset(request number: Int) -> Duration? {
        if let requests, number >= requests { return nil }
        let offset = Duration.nanoseconds(Int64((Double(number) * 1e9 / rate).rounded(.down)))
        if let duration, offset >= duration { return nil }
        return offset
    }

    /// How many requests the run sends in all.
    public var plannedRequests: Int {
        var planned = requests ?? Int.max
        if let duration {
            let (seconds, attoseconds) = duration.components
            let total = (Double(seconds) + Double(attoseconds) * 1e-18) * rate
            planned = min(planned, Int(total.rounded(.up)))
        }
        return planned
    }
}
