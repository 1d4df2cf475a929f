/// Where a pooled connection goes: connections are only reused for the same key.
public struct HTTPDestination: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String = "http", host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}

/// The decisions of a connection pool, without connections or clocks: a pure state
/// machine over idle entries that the pool drives and tests can step through.
///
/// Idle connections are reused most-recent-first (the warmest socket, and the
/// oldest ones age out), at most `maxIdlePerKey` are kept per destination, and
/// one idle longer than `idleTimeout` is never handed out again.
struct HTTPPoolState<Connection> {
    struct Entry {
        let id: Int
        let connection: Connection
        let idleSince: ContinuousClock.Instant
    }

    let maxIdlePerKey: Int
    let idleTimeout: Duration
    private(set) var idle: [HTTPDestination: [Entry]] = [:]
    private var nextID = 0

    init(maxIdlePerKey: Int, idleTimeout: Duration) {
        self.maxIdlePerKey = maxIdlePerKey
        self.idleTimeout = idleTimeout
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    func idleCount(for key: HTTPDestination) -> Int { idle[key]?.count ?? 0 }

    /// The most recently returned live connection for `key`, and those found expired (to close).
    mutating func checkout(_ key: HTTPDestination, now: ContinuousClock.Instant) -> (Connection?, expired: [Connection]) {
        var expired: [Connection] = []
        guard var entries = idle[key] else { return (nil, []) }
        var found: Connection?
        while let entry = entries.popLast() {
            if now - entry.idleSince >= idleTimeout {
                expired.append(entry.connection)
            } else {
                found = entry.connection
                break
            }
        }
        // Anything older than the one handed out is older still: expired ones go too.
        let (keep, old) = entries.partitioned { now - $0.idleSince < idleTimeout }
        expired += old.map(\.connection)
        idle[key] = keep.isEmpty ? nil : keep
        return (found, expired)
    }

    /// Returns a connection to the pool; yields the one to close when the key is full.
    mutating func checkin(_ connection: Connection, for key: HTTPDestination, now: ContinuousClock.Instant) -> Connection? {
        nextID += 1
        var entries = idle[key] ?? []
        entries.append(Entry(id: nextID, connection: connection, idleSince: now))
        var evicted: Connection?
        if entries.count > maxIdlePerKey {
            evicted = entries.removeFirst().connection
        }
        idle[key] = entries
        return evicted
    }

    /// Removes every entry idle for `idleTimeout` or longer and returns their connections.
    mutating func evictExpired(now: ContinuousClock.Instant) -> [Connection] {
        var expired: [Connection] = []
        for (key, entries) in idle {
            let (keep, old) = entries.partitioned { now - $0.idleSince < idleTimeout }
            expired += old.map(\.connection)
            idle[key] = keep.isEmpty ? nil : keep
        }
        return expired
    }

    /// Removes and returns every idle connection (pool shutdown).
    mutating func removeAll() -> [Connection] {
        let all = idle.values.flatMap { $0.map(\.connection) }
        idle.removeAll()
        return all
    }

    /// When the next idle entry expires, for a sweeper to sleep until then.
    var nextExpiry: ContinuousClock.Instant? {
        idle.values.compactMap { $0.first?.idleSince }.min().map { $0 + idleTimeout }
    }
}

extension Array {
    func partitioned(_ keep: (Element) -> Bool) -> (kept: [Element], rest: [Element]) {
        var kept: [Element] = [], rest: [Element] = []
        for element in self { if keep(element) { kept.append(element) } else { rest.append(element) } }
        return (kept, rest)
    }
}
