import MeshSystem
import Synchronization

/// A long-running part of a daemon: an API server, a store, a controller.
///
/// `run()` returns when the service has stopped: after graceful shutdown was requested
/// (see `gracefulShutdown()`, `withGracefulShutdownHandler`) or the task was cancelled.
public protocol Service: Sendable {
    func run() async throws
}

/// Why a `ServiceGroup` stopped abnormally.
public enum ServiceGroupError: Error, Equatable, CustomStringConvertible {
    /// A service's `run()` returned before shutdown was requested.
    case serviceFinishedUnexpectedly(service: String)
    /// The services did not stop within the graceful shutdown timeout and were cancelled.
    case gracefulShutdownTimedOut(remaining: [String])

    public var description: String {
        switch self {
        case .serviceFinishedUnexpectedly(let service):
            return "service \(service) stopped before shutdown was requested"
        case .gracefulShutdownTimedOut(let remaining):
            return "graceful shutdown timed out; cancelled \(remaining.joined(separator: ", "))"
        }
    }
}

/// Runs services together and stops them in order (swift-service-lifecycle's shape).
///
/// - Start: services start in the order given (each in its own child task).
/// - Graceful shutdown — from `triggerGracefulShutdown()`, one of the
///   `gracefulShutdownSignals`, or a service ending early — asks the services to stop
///   one at a time in *reverse* order (an API server stops before the store under it),
///   waiting for each `run()` to return.
/// - Deadline: if `gracefulShutdownTimeout` passes before all have stopped, the rest are
///   cancelled and `run()` throws `gracefulShutdownTimedOut`.
/// - Cancellation of the task running `run()` is the hard stop: every service is
///   cancelled at once. A second graceful signal during shutdown does the same.
/// - Signals are only handled if the caller lists them: the group subscribes through
///   `Signals.stream` while it runs and restores their dispositions afterwards.
/// - Errors: the first service error (or `serviceFinishedUnexpectedly`) is thrown after
///   every service has stopped.
public final class ServiceGroup: Sendable {
    private let services: [(name: String, service: any Service)]
    private let gracefulShutdownSignals: [Signal]
    private let gracefulShutdownTimeout: Duration?
    private let clock: any Clock<Duration>
    private let triggers = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    private let log: @Sendable (String) -> Void

    /// - Parameters:
    ///   - services: in start order; names (for errors and logs) default to the type name.
    ///   - clock: times the shutdown deadline (a `ManualClock` in tests).
    ///   - log: receives one line per lifecycle step ("stopping api"), e.g. for `--verbose`.
    public init(
        services: [any Service],
        names: [String]? = nil,
        gracefulShutdownSignals: [Signal] = [],
        gracefulShutdownTimeout: Duration? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        precondition(names == nil || names!.count == services.count, "one name per service")
        self.services = services.enumerated().map { index, service in
            (names?[index] ?? String(describing: type(of: service)), service)
        }
        self.gracefulShutdownSignals = gracefulShutdownSignals
        self.gracefulShutdownTimeout = gracefulShutdownTimeout
        self.clock = clock
        self.log = log
    }

    /// Requests graceful shutdown (from any task, any number of times).
    public func triggerGracefulShutdown() {
        triggers.continuation.yield()
    }

    private enum Event: Sendable {
        case finished(Int)
        case failed(Int, any Error)
        case shutdownRequested(String)
        case cancellationRequested(String)
        case deadlineReached
    }

    /// Runs until every service has stopped.
    public func run() async throws {
        let signals = gracefulShutdownSignals.isEmpty ? nil : try Signals.stream(gracefulShutdownSignals)
        let tokens = services.map { _ in GracefulShutdownToken() }
        var firstError: (any Error)?

        await withThrowingTaskGroup(of: Event.self) { group in
            for (index, entry) in services.enumerated() {
                log("starting \(entry.name)")
                let token = tokens[index]
                group.addTask {
                    do {
                        try await token.withCurrent { try await entry.service.run() }
                        return .finished(index)
                    } catch {
                        return .failed(index, error)
                    }
                }
            }
            let triggers = self.triggers.stream
            group.addTask {
                for await _ in triggers { return .shutdownRequested("requested") }
                try await parkUntilCancelled()
                return .deadlineReached  // not reached: cancelled when the group ends
            }
            if let signals {
                // One watcher for the group's life: the first signal asks for graceful
                // shutdown, a second one escalates to cancellation.
                group.addTask { [self] in
                    var seen = 0
                    for await signal in signals {
                        seen += 1
                        if seen > 1 { return .cancellationRequested("\(signal) during shutdown") }
                        log("received \(signal)")
                        triggerGracefulShutdown()
                    }
                    try await parkUntilCancelled()
                    return .deadlineReached  // not reached: cancelled when the group ends
                }
            }

            var running = Set(services.indices)
            var shuttingDown = false
            var deadlineTask = false

            func stopNext() {
                // Ask the last running service; the next one is asked once it has stopped.
                guard let last = running.max() else { return }
                log("stopping \(services[last].name)")
                tokens[last].trigger()
            }

            func beginShutdown(_ reason: String) {
                guard !shuttingDown else { return }
                shuttingDown = true
                log("graceful shutdown (\(reason))")
                if let timeout = gracefulShutdownTimeout, !deadlineTask {
                    deadlineTask = true
                    let clock = self.clock
                    group.addTask {
                        try await clock.sleep(for: timeout)
                        return .deadlineReached
                    }
                }
                stopNext()
            }

            while !running.isEmpty {
                let event: Event
                do {
                    guard let next = try await group.next() else { break }
                    event = next
                } catch {
                    continue  // a watcher cancelled during teardown
                }
                switch event {
                case .finished(let index), .failed(let index, _):
                    running.remove(index)
                    if case .failed(_, let error) = event {
                        log("\(services[index].name) failed: \(error)")
                        if firstError == nil && !(error is CancellationError && Task.isCancelled) { firstError = error }
                    } else {
                        log("\(services[index].name) stopped")
                        if !shuttingDown && firstError == nil {
                            firstError = ServiceGroupError.serviceFinishedUnexpectedly(service: services[index].name)
                        }
                    }
                    if shuttingDown {
                        stopNext()
                    } else {
                        beginShutdown("\(services[index].name) ended")
                    }
                case .shutdownRequested(let reason):
                    beginShutdown(reason)
                case .cancellationRequested(let reason):
                    log("cancelling all services (\(reason))")
                    if firstError == nil { firstError = CancellationError() }
                    group.cancelAll()
                case .deadlineReached:
                    let remaining = running.sorted().map { services[$0].name }
                    log("graceful shutdown timed out; cancelling \(remaining.joined(separator: ", "))")
                    if firstError == nil { firstError = ServiceGroupError.gracefulShutdownTimedOut(remaining: remaining) }
                    group.cancelAll()
                }
            }
            group.cancelAll()  // the watchers
        }
        withExtendedLifetime(signals) {}
        if let firstError { throw firstError }
        try Task.checkCancellation()
    }
}

/// Suspends until the task is cancelled, then throws `CancellationError`.
private func parkUntilCancelled() async throws {
    let stream = AsyncStream<Void>.makeStream()
    await withTaskCancellationHandler {
        for await _ in stream.stream {}
    } onCancel: {
        stream.continuation.finish()
    }
    throw CancellationError()
}
