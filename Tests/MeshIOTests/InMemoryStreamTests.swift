import MeshIO
import MeshSystem
import MeshTestSupport
import Testing

@Suite struct InMemoryStreamTests {
    @Test func bytesFlowBothWaysAndReadsRespectMaxBytes() async throws {
        let (client, server) = InMemoryStream.pair()
        try await client.write("hello world")
        var buffer = ByteBuffer()
        #expect(try await server.read(into: &buffer, maxBytes: 5) == 5)
        #expect(buffer.readString() == "hello")
        #expect(try await server.read(into: &buffer, maxBytes: 100) == 6)
        #expect(buffer.readString() == " world")
        try await server.write([ByteBuffer(string: "a"), ByteBuffer(string: "b")])
        #expect(try await client.read()?.readableArray == Array("ab".utf8))
    }

    @Test func halfCloseGivesEOFWhileThePeerCanStillSend() async throws {
        let (client, server) = InMemoryStream.pair()
        try await client.write("request")
        try await client.shutdownWrite()
        let request = try await server.readAll()
        #expect(request == ByteBuffer(string: "request"))
        #expect(try await server.read() == nil)
        try await server.write("response")
        await server.close()
        #expect(try await client.readAll() == ByteBuffer(string: "response"))
        await #expect(throws: SystemError.self) { try await client.write("more") }  // we shut down
    }

    @Test func aReaderWaitsForData() async throws {
        let (client, server) = InMemoryStream.pair()
        async let received = server.read()
        try await Task.sleep(for: .milliseconds(5))
        try await client.write("late")
        #expect(try await received == ByteBuffer(string: "late"))
    }

    @Test func writingToAClosedPeerIsEPIPEAndClosedStreamsThrow() async throws {
        let (client, server) = InMemoryStream.pair()
        await server.close()
        await #expect(throws: SystemError(errno: 32, function: "write")) { try await client.write("x") }
        await #expect(throws: IOError.closed(.read)) { _ = try await server.read() }
        #expect(try await client.read() == nil)  // the peer closed: EOF
    }

    @Test func readTimeoutRunsOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let (_, server) = InMemoryStream.pair(clock: clock)
        let outcome = Task { try await server.read(timeout: .seconds(30)) }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(30))
        await #expect(throws: IOError.timedOut(.read)) { _ = try await outcome.value }
    }

    @Test func cancellingAReadThrowsCancellationError() async throws {
        let (_, server) = InMemoryStream.pair()
        let reader = Task { try await server.read() }
        try await Task.sleep(for: .milliseconds(5))
        reader.cancel()
        await #expect(throws: CancellationError.self) { _ = try await reader.value }
    }

    @Test func closeWakesItsOwnPendingRead() async throws {
        let (_, server) = InMemoryStream.pair()
        let reader = Task { try await server.read() }
        try await Task.sleep(for: .milliseconds(5))
        await server.close()
        await #expect(throws: IOError.closed(.read)) { _ = try await reader.value }
    }
}

@Suite struct ManualClockTests {
    @Test func sleepersWakeOnlyWhenTimeReachesThem() async throws {
        let clock = ManualClock()
        let first = Task { try await clock.sleep(for: .seconds(1)) }
        let second = Task { try await clock.sleep(for: .seconds(5)) }
        await clock.waitForSleepers(2)
        clock.advance(by: .seconds(2))
        try await first.value
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(3))
        try await second.value
        #expect(clock.now.offset == .seconds(5))
    }
}
