#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// Identifies a thread, for "am I on the event loop's thread?" checks.
public struct ThreadID: Equatable, Sendable {
    /// pthread_self()'s value; never 0 for a running thread.
    public let rawValue: UInt

    /// The calling thread.
    @inlinable
    public static var current: ThreadID { ThreadID(rawValue: UInt(pthread_self())) }

    public init(rawValue: UInt) { self.rawValue = rawValue }
}

/// A joinable OS thread (event loops, the signal reader).
public final class OSThread: @unchecked Sendable {
    private var handle: pthread_t
    /// The thread's id, as `ThreadID.current` returns it on that thread.
    public let id: ThreadID

    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// pthread_create(3) running `body`; `name` (first 15 bytes) shows in `ps -T` and debuggers.
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            _ = meshlab_set_thread_name(String(decoding: start.name.utf8.prefix(15), as: UTF8.self))
            start.body()
            return nil
        }, start)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SystemError(errno: result, function: "pthread_create")
        }
        handle = thread
        id = ThreadID(rawValue: UInt(thread))
    }

    /// pthread_join(3): waits for the thread to end. Call once, never from the thread itself.
    public func join() {
        precondition(ThreadID.current != id, "a thread cannot join itself")
        _ = pthread_join(handle, nil)
    }
}

/// Facts about the machine.
public enum SystemInfo {
    /// CPUs this process may run on (sched_getaffinity, so cpusets and `taskset` count), at least 1.
    public static var coreCount: Int {
        let count = Int(meshlab_cpu_count())
        return count > 0 ? count : max(1, Int(sysconf(CInt(_SC_NPROCESSORS_ONLN))))
    }
}

/// CLOCK_MONOTONIC, the clock event-loop timers run on.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot); never goes back.
    @inlinable
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
