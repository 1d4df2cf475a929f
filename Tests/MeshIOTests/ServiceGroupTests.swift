import MeshIO
import MeshSystem
import MeshTestSupport
import Synchronization
import Testing

/// A service that records its steps and stops on graceful shutdown.
private struct PoliteService: Service {
    let name: String
    let journal: Recorder<String>

    func run() async throws {
        _ = journal.append("start \(name)")
        try await gracefulShutdown()
        _ = journal.append("stop \(name)")
    }
}

/// A service that ignores graceful shutdown and stops only when cancelled.
private struct StubbornService: Service {
    let journal: Recorder<String>

    func run() async throws {
        _ = journal.append("start stubborn")
        do {
            while true { try await Task.sleep(for: .seconds(3600)) }
        } catch {
            _ = journal.append("cancelled stubborn")
            throw error
        }
    }
}

private struct FailingService: Service {
    struct Broken: Error, Equatable {}
    let journal: Recorder<String>

    func run() async throws {
        _ = journal.append("start failing")
        throw Broken()
    }
}

/// Polls (briefly) until `condition` holds.
private func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
}

@Suite struct ServiceGroupTests {
    @Test func gracefulShutdownStopsServicesInReverseOrder() async throws {
        let journal = Recorder<String>()
        let group = ServiceGroup(
            services: ["store", "api", "dns"].map { PoliteService(name: $0, journal: journal) },
            names: ["store", "api", "dns"])
        let running = Task { try await group.run() }
        try await eventually { journal.values.count == 3 }
        #expect(Set(journal.values) == ["start store", "start api", "start dns"])
        group.triggerGracefulShutdown()
        try await running.value
        #expect(Array(journal.values.suffix(3)) == ["stop dns", "stop api", "stop store"])
    }

    @Test func deadlineCancelsServicesThatDoNotStop() async throws {
        let journal = Recorder<String>()
        let clock = ManualClock()
        let group = ServiceGroup(
            services: [PoliteService(name: "store", journal: journal), StubbornService(journal: journal)],
            names: ["store", "stubborn"],
            gracefulShutdownTimeout: .seconds(10), clock: clock)
        let running = Task { try await group.run() }
        try await eventually { journal.values.count == 2 }
        group.triggerGracefulShutdown()
        await clock.waitForSleepers(1)  // the deadline timer
        #expect(!journal.values.contains("cancelled stubborn"))
        clock.advance(by: .seconds(10))
        await #expect(throws: ServiceGroupError.gracefulShutdownTimedOut(remaining: ["store", "stubborn"])) { try await running.value }
        #expect(journal.values.contains("cancelled stubborn"))
        // The store was never asked: services stop one by one, last first.
        #expect(!journal.values.contains("stop store"))
    }

    @Test func aFailingServiceStopsTheOthersAndItsErrorIsThrown() async throws {
        let journal = Recorder<String>()
        let group = ServiceGroup(
            services: [PoliteService(name: "store", journal: journal), FailingService(journal: journal)])
        await #expect(throws: FailingService.Broken()) { try await group.run() }
        #expect(journal.values.contains("stop store"))
    }

    @Test func aServiceReturningEarlyIsAnError() async throws {
        struct Quick: Service { func run() async throws {} }
        let group = ServiceGroup(services: [Quick()], names: ["quick"])
        await #expect(throws: ServiceGroupError.serviceFinishedUnexpectedly(service: "quick")) { try await group.run() }
    }

    @Test func cancellingTheGroupCancelsEveryService() async throws {
        let journal = Recorder<String>()
        let group = ServiceGroup(services: [StubbornService(journal: journal)])
        let running = Task { try await group.run() }
        try await eventually { journal.values.count == 1 }
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(journal.values.contains("cancelled stubborn"))
    }

    @Test func aListedSignalTriggersGracefulShutdown() async throws {
        let journal = Recorder<String>()
        let group = ServiceGroup(
            services: [PoliteService(name: "api", journal: journal)], gracefulShutdownSignals: [.user2])
        let running = Task { try await group.run() }
        try await eventually { journal.values.count == 1 }
        try Signals.send(.user2, to: CurrentProcess.id)
        try await running.value
        #expect(journal.values == ["start api", "stop api"])
    }

    @Test func cancelWhenGracefulShutdownEndsALoopingOperation() async throws {
        let token = GracefulShutdownToken()
        let loop = Task {
            try await token.withCurrent {
                try await cancelWhenGracefulShutdown {
                    while true { try await Task.sleep(for: .seconds(3600)) }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(5))
        token.trigger()
        await #expect(throws: CancellationError.self) { try await loop.value }
    }

    @Test func handlerRunsAtOnceWhenShutdownWasAlreadyRequested() async {
        let token = GracefulShutdownToken()
        token.trigger()
        let ran = Recorder<Bool>()
        await token.withCurrent {
            await withGracefulShutdownHandler {
                #expect(Task.isShuttingDownGracefully)
            } onGracefulShutdown: {
                _ = ran.append(true)
            }
        }
        #expect(ran.values == [true])
    }
}
