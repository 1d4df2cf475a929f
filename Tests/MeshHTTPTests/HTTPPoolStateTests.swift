import Testing
@testable import MeshHTTP

@Suite struct HTTPPoolStateTests {
    let a = HTTPDestination(host: "a", port: 80)
    let b = HTTPDestination(host: "b", port: 80)
    let start = ContinuousClock.Instant.now

    @Test func reusesMostRecentFirstPerKey() {
        var pool = HTTPPoolState<String>(maxIdlePerKey: 4, idleTimeout: .seconds(30))
        #expect(pool.checkin("a1", for: a, now: start) == nil)
        #expect(pool.checkin("a2", for: a, now: start + .seconds(1)) == nil)
        #expect(pool.checkin("b1", for: b, now: start) == nil)
        #expect(pool.checkout(a, now: start + .seconds(2)).0 == "a2")
        #expect(pool.checkout(a, now: start + .seconds(2)).0 == "a1")
        #expect(pool.checkout(a, now: start + .seconds(2)).0 == nil)
        #expect(pool.checkout(b, now: start + .seconds(2)).0 == "b1")
    }

    @Test func keepsAtMostMaxIdlePerKey() {
        var pool = HTTPPoolState<Int>(maxIdlePerKey: 2, idleTimeout: .seconds(30))
        #expect(pool.checkin(1, for: a, now: start) == nil)
        #expect(pool.checkin(2, for: a, now: start) == nil)
        #expect(pool.checkin(3, for: a, now: start) == 1)
        #expect(pool.checkin(4, for: b, now: start) == nil)
        #expect(pool.idleCount(for: a) == 2)
        #expect(pool.idleCount == 3)
    }

    @Test func expiredConnectionsAreNeverHandedOut() {
        var pool = HTTPPoolState<Int>(maxIdlePerKey: 4, idleTimeout: .seconds(10))
        _ = pool.checkin(1, for: a, now: start)
        _ = pool.checkin(2, for: a, now: start + .seconds(5))
        let (found, expired) = pool.checkout(a, now: start + .seconds(12))
        #expect(found == 2)
        #expect(expired == [1])
        #expect(pool.idleCount == 0)
        _ = pool.checkin(3, for: a, now: start)
        _ = pool.checkin(4, for: b, now: start + .seconds(8))
        #expect(pool.nextExpiry == start + .seconds(10))
        #expect(pool.evictExpired(now: start + .seconds(10)) == [3])
        #expect(pool.idleCount == 1)
        #expect(pool.checkout(a, now: start + .seconds(10)).0 == nil)
        #expect(pool.removeAll() == [4])
    }
}
