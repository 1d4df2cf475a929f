import Synchronization

/// Graceful shutdown as a service sees it (swift-service-lifecycle's shape).
///
/// A `ServiceGroup` runs each service with its own token in a task local; code in the
/// service reacts with `gracefulShutdown()`, `withGracefulShutdownHandler` or
/// `cancelWhenGracefulShutdown`. Graceful shutdown is a request ("finish what you are
/// doing, take no new work"); cancellation is the hard stop that follows if the
/// deadline passes.
public final class GracefulShutdownToken: Sendable {
    @TaskLocal static var current: GracefulShutdownToken?

    private struct State {
        var triggered = false
        var nextID = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var isTriggered: Bool { state.withLock { $0.triggered } }

    /// Requests graceful shutdown: runs every handler once. Later calls do nothing.
    public func trigger() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.triggered else { return [] }
            state.triggered = true
            defer { state.handlers = [:] }
            return state.handlers.sorted { $0.key < $1.key }.map(\.value)
        }
        for handler in handlers { handler() }
    }

    /// Adds a handler; runs it at once (returning nil) if shutdown was already requested.
    func addHandler(_ handler: @escaping @Sendable () -> Void) -> Int? {
        let id = state.withLock { state -> Int? in
            if state.triggered { return nil }
            state.nextID += 1
            state.handlers[state.nextID] = handler
            return state.nextID
        }
        if id == nil { handler() }
        return id
    }

    func removeHandler(_ id: Int) {
        state.withLock { _ = $0.handlers.removeValue(forKey: id) }
    }

    /// Runs `body` with this token as the current task's graceful-shutdown token
    /// (what `ServiceGroup` does for each service; useful in tests).
    public func withCurrent<T>(_ body: () async throws -> T) async rethrows -> T {
        try await GracefulShutdownToken.$current.withValue(self, operation: body)
    }
}

/// Runs `operation`; when graceful shutdown is requested meanwhile, calls `onGracefulShutdown`
/// (at once if it already was). Outside a service (no token) the handler never runs.
public func withGracefulShutdownHandler<T>(
    operation: () async throws -> T,
    onGracefulShutdown handler: @escaping @Sendable () -> Void
) async rethrows -> T {
    guard let token = GracefulShutdownToken.current, let id = token.addHandler(handler) else {
        return try await operation()
    }
    defer { token.removeHandler(id) }
    return try await operation()
}

/// Suspends until graceful shutdown is requested. Throws `CancellationError` if the task
/// is cancelled first (and waits forever outside a service, until cancelled).
public func gracefulShutdown() async throws {
    let token = GracefulShutdownToken.current
    let stream = AsyncStream<Void>.makeStream()
    let id = token?.addHandler { stream.continuation.finish() }
    defer { if let token, let id { token.removeHandler(id) } }
    await withTaskCancellationHandler {
        for await _ in stream.stream {}
    } onCancel: {
        stream.continuation.finish()
    }
    try Task.checkCancellation()
}

/// Runs `operation` in a child task that is cancelled when graceful shutdown is requested:
/// for services whose natural way to stop is cancellation (an accept loop, a sleep loop).
public func cancelWhenGracefulShutdown<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    return try await withThrowingTaskGroup(of: GracefulOutcome<T>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await gracefulShutdown()
            return .shutdownRequested
        }
        defer { group.cancelAll() }
        while let outcome = try await group.next() {
            switch outcome {
            case .finished(let value): return value
            case .shutdownRequested: group.cancelAll()  // the operation ends by cancellation
            }
        }
        throw CancellationError()
    }
}

private enum GracefulOutcome<T: Sendable>: Sendable {
    case finished(T)
    case shutdownRequested
}

extension Task where Success == Never, Failure == Never {
    /// Whether graceful shutdown was requested for the service this task belongs to.
    public static var isShuttingDownGracefully: Bool {
        GracefulShutdownToken.current?.isTriggered ?? false
    }
}
