import MeshSystem
import Synchronization

/// A fixed set of event loops, one thread each: by default one per core.
///
/// Connections are spread over the loops round robin (`next()`); a connection stays on
/// its loop for life. Shut a group down only after the work on it has finished:
/// waiters still parked on its sockets fail with `IOError.eventLoopShutDown`.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    /// Starts `threads` loops named "NAME-0", "NAME-1", ...
    public init(threads: Int = SystemInfo.coreCount, name: String = "meshlab-io") throws {
        precondition(threads > 0, "an event loop group needs at least one thread")
        var loops: [EventLoop] = []
        for index in 0..<threads {
            loops.append(try EventLoop(name: "\(name)-\(index)"))
        }
        for loop in loops { try loop.start() }
        self.loops = loops
    }

    /// A process-wide group with one loop per core, started on first use and never shut
    /// down: for code that does not manage its own group (tools, tests).
    public static let shared: EventLoopGroup = {
        do {
            return try EventLoopGroup(name: "meshlab-shared")
        } catch {
            fatalError("cannot start the shared event loop group: \(error)")
        }
    }()

    /// The next loop, round robin.
    public func next() -> EventLoop {
        if loops.count == 1 { return loops[0] }
        let index = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[index % loops.count]
    }

    /// The loop whose thread is calling, if any.
    public var current: EventLoop? {
        loops.first { $0.inEventLoop }
    }

    /// Stops every loop and waits for their threads. Blocks the caller: never call it
    /// from one of the group's own loops. Calling it twice does nothing.
    public func shutdown() {
        precondition(current == nil, "an event loop group cannot be shut down from its own loop")
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops { loop.requestStop() }
        for loop in loops { loop.join() }
    }
}
