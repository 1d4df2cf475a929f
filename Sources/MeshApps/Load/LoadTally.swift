/// Why a request got no response.
public enum LoadErrorKind: String, Sendable, CaseIterable, Comparable {
    /// Nothing listened: ECONNREFUSED.
    case connectRefused = "connect-refused"
    /// The connect did not finish within the timeout (or the host was unreachable).
    case connectTimeout = "connect-timeout"
    /// The response (or the next bytes of it) did not come within the timeout.
    case timeout
    /// The peer reset the connection (ECONNRESET, EPIPE).
    case reset
    /// The peer closed the connection before the response was complete.
    case closed
    /// The response was not HTTP/1.1.
    case protocolError = "protocol"
    case other

    public static func < (lhs: LoadErrorKind, rhs: LoadErrorKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Counts over a run: statuses, the chosen header's values, the body pattern's
/// matches, errors by kind. Each connection keeps its own and they are merged at
/// the end, so counting takes no lock.
public struct LoadTally: Sendable, Equatable {
    /// The key for a response without the counted header.
    public static let missingHeader = "(none)"
    /// The key for a body the pattern does not match.
    public static let noMatch = "(no match)"

    public var statusCounts: [Int: Int] = [:]
    public var headerCounts: [String: Int] = [:]
    public var bodyCounts: [String: Int] = [:]
    public var errorCounts: [LoadErrorKind: Int] = [:]
    public var bytesReceived = 0
    public var connectionsOpened = 0
    /// Open-loop requests still due when the send window closed (the server was too slow).
    public var notSent = 0

    public init() {}

    /// One response: its status, the counted header's value and the body key when counted.
    public mutating func recordResponse(status: Int, headerValue: String?? = nil, bodyKey: String?? = nil, bytes: Int = 0) {
        statusCounts[status, default: 0] += 1
        if let headerValue { headerCounts[headerValue ?? Self.missingHeader, default: 0] += 1 }
        if let bodyKey { bodyCounts[bodyKey ?? Self.noMatch, default: 0] += 1 }
        bytesReceived += bytes
    }

    public mutating func recordError(_ kind: LoadErrorKind) {
        errorCounts[kind, default: 0] += 1
    }

    public mutating func merge(_ other: LoadTally) {
        statusCounts.merge(other.statusCounts, uniquingKeysWith: +)
        headerCounts.merge(other.headerCounts, uniquingKeysWith: +)
        bodyCounts.merge(other.bodyCounts, uniquingKeysWith: +)
        errorCounts.merge(other.errorCounts, uniquingKeysWith: +)
        bytesReceived += other.bytesReceived
        connectionsOpened += other.connectionsOpened
        notSent += other.notSent
    }

    public var responses: Int { statusCounts.values.reduce(0, +) }
    public var errors: Int { errorCounts.values.reduce(0, +) }
    /// Every request that ended, with a response or an error.
    public var requests: Int { responses + errors }
    /// Requests answered 2xx.
    public var successes: Int { statusCounts.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    /// Share of requests answered 2xx, in percent (0 when nothing ran).
    public var successPercent: Double { Self.percent(successes, of: requests) }

    public static func percent(_ part: Int, of whole: Int) -> Double {
        whole == 0 ? 0 : Double(part) * 100 / Double(whole)
    }
}

/// Finds the key a body counts under.
public struct BodyMatcher {
    let regex: Regex<AnyRegexOutput>

    /// Regex is not Sendable: each connection makes its own matcher.
    public init(pattern: String) throws {
        regex = try Regex(pattern)
    }

    /// The first capture group of the first match (the whole match when the pattern has
    /// no group); nil when nothing matches.
    public func key(in body: String) -> String? {
        guard let match = body.firstMatch(of: regex) else { return nil }
        let output = match.output
        if output.count > 1, let group = output[1].substring { return String(group) }
        return String(output[0].substring ?? "")
    }
}
