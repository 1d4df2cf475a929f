#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (waiting for a child, reading a pipe to its end) on a
/// thread of its own while the caller suspends.
///
/// Swift Testing runs tests as tasks on the cooperative pool, which has one
/// thread per core: two on CI. A test that blocks one of them for seconds (a
/// `meshlab up` to completion) starves every other test's timers and I/O, and
/// their deadlines then fail tests that did nothing wrong.
public func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let job = OffloadedJob { continuation.resume(with: Result { try body() }) }
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<OffloadedJob>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, Unmanaged.passRetained(job).toOpaque())
        if started == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged.passUnretained(job).release()  // the thread never took it
            job.body()  // no thread to spare: block here rather than fail the test
        }
    }
}

private final class OffloadedJob: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
