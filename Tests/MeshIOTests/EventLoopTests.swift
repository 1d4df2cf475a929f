import MeshIO
import MeshSystem
import Synchronization
import Testing

@Suite struct EventLoopTests {
    @Test func taskWithLoopPreferenceRunsOnTheLoopThreadAcrossAwaits() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let loop = group.loops[1]
            let observed = try await Task(executorPreference: loop) { () -> [Bool] in
                var seen = [loop.inEventLoop]
                try await loop.sleep(for: .milliseconds(1))
                seen.append(loop.inEventLoop)
                await Task.yield()
                seen.append(loop.inEventLoop)
                seen.append(group.loops[0].inEventLoop)
                return seen
            }.value
            #expect(observed == [true, true, true, false])
            #expect(!loop.inEventLoop)
        }
    }

    @Test func codeAfterASocketReadRunsOnTheConnectionsLoop() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            let onLoop = Task(executorPreference: server.eventLoop) { () -> Bool in
                var buffer = ByteBuffer()
                _ = try await server.read(into: &buffer)  // suspends: nothing sent yet
                return server.eventLoop.inEventLoop
            }
            try await Task.sleep(for: .milliseconds(5))
            try await client.write("ping")
            #expect(try await onLoop.value)
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func timersFireInDeadlineOrderAndTiesInSchedulingOrder() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let loop = group.next()
            let fired = Recorder<Int>()
            let done = AsyncStream<Void>.makeStream()
            let delays: [(Int, Int)] = [(1, 30), (2, 10), (3, 20), (4, 10), (5, 0)]
            for (label, milliseconds) in delays {
                loop.schedule(after: .milliseconds(milliseconds)) {
                    let count = fired.append(label)
                    if count == delays.count { done.continuation.finish() }
                }
            }
            for await _ in done.stream {}
            #expect(fired.values == [5, 2, 4, 3, 1])
        }
    }

    @Test func cancelledScheduledWorkDoesNotRun() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let loop = group.next()
            let ran = Atomic<Bool>(false)
            let handle = loop.schedule(after: .milliseconds(20)) { ran.store(true, ordering: .relaxed) }
            handle.cancel()
            try await loop.sleep(for: .milliseconds(40))
            let didRun = ran.load(ordering: .relaxed)
            #expect(!didRun)
        }
    }

    @Test func cancellingASleepThrowsCancellationError() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let loop = group.next()
            let sleeper = Task(executorPreference: loop) { try await loop.sleep(for: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(5))
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            // The loop still runs timers afterwards.
            try await loop.sleep(for: .milliseconds(1))
        }
    }

    @Test func executeRunsOnTheLoopThread() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let loop = group.next()
            let onLoop = await withCheckedContinuation { continuation in
                loop.execute { continuation.resume(returning: loop.inEventLoop) }
            }
            #expect(onLoop)
        }
    }

    @Test func groupSpreadsLoopsRoundRobin() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let picks = (0..<4).map { _ in group.next() }
            #expect(picks[0] !== picks[1])
            #expect(picks[0] === picks[2])
            #expect(picks[1] === picks[3])
        }
    }

    @Test func operationsAfterShutdownFailCleanly() async throws {
        let group = try EventLoopGroup(threads: 1, name: "test-stop")
        let listener = try SocketListener.bind(.loopback(port: 0), group: group)
        let pending = Task { try await listener.accept() }
        try await Task.sleep(for: .milliseconds(5))
        group.shutdown()
        await #expect(throws: IOError.eventLoopShutDown) { _ = try await pending.value }
        await #expect(throws: IOError.eventLoopShutDown) { _ = try await listener.accept() }
    }
}

@Suite struct TimerHeapOrderTests {
    @Test func sleepsOfDifferentLengthsWakeShortestFirst() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let loop = group.next()
            let order = Recorder<Int>()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for milliseconds in [25, 5, 15] {
                    tasks.addTask(executorPreference: loop) {
                        try await loop.sleep(for: .milliseconds(milliseconds))
                        _ = order.append(milliseconds)
                    }
                }
                try await tasks.waitForAll()
            }
            #expect(order.values == [5, 15, 25])
        }
    }
}
