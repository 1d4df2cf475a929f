#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A thread of our own that may switch network namespaces while it runs a
/// job, and returns to the one it started in before the next.
///
/// A network namespace belongs to a thread, not a process. An async task
/// must never setns (its thread runs other tasks next), so work that has to
/// happen *inside* a network namespace — creating one, opening a netlink
/// socket in it, spawning a program that should run in it — is handed to
/// this thread. Sockets keep the namespace they were made in, and a child
/// process starts in its spawning thread's namespaces, so the results stay
/// useful once the thread has gone home.
///
/// If the thread cannot get back home it stops taking jobs (every later
/// `run` throws) rather than run one in the wrong namespace.
public final class NamespaceThread: Sendable {
    /// The process's shared instance, started on first use (in the network
    /// namespace of the thread that first touches it).
    public static let shared: NamespaceThread = {
        do { return try NamespaceThread(name: "meshlab-netns") } catch { fatalError("cannot start a thread: \(error)") }
    }()

    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var broken: SystemError?
    }

    /// Shared with the thread (a class: a Mutex cannot be captured by value).
    private final class Queue: Sendable {
        let state = Mutex(State())
        /// Counts queued jobs; the thread sleeps on it (a POSIX semaphore: no busy wait, no pipe).
        let semaphore = PosixSemaphore()
    }

    private let queue = Queue()

    public init(name: String) throws {
        let queue = self.queue
        let home = Mutex<Result<FileDescriptor, SystemError>?>(nil)
        let started = PosixSemaphore()
        _ = try OSThread(name: name) {
            let state = queue
            let opened = Result { () throws(SystemError) in try Namespaces.openCurrent(.network) }
            home.withLock { $0 = opened }
            started.post()
            guard case .success(let descriptor) = opened else { return }
            while true {
                queue.semaphore.wait()
                guard let job = state.state.withLock({ $0.jobs.isEmpty ? nil : $0.jobs.removeFirst() }) else { continue }
                job()
                do throws(SystemError) {
                    try Namespaces.enter(descriptor, kind: .network, name: "home network namespace")
                } catch {
                    let pending = state.state.withLock { state in
                        state.broken = error
                        defer { state.jobs.removeAll() }
                        return state.jobs
                    }
                    for job in pending { job() }  // each sees `broken` and fails
                    return
                }
            }
        }
        started.wait()
        if case .failure(let error) = home.withLock({ $0 }) { throw error }
    }

    /// Runs `body` on the thread and returns its result. `body` may setns
    /// anywhere: the thread goes home afterwards.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit { result in continuation.resume(with: result) } body: { try body() }
        }
    }

    /// `run` for synchronous callers (a launcher before its event loop
    /// exists): blocks the calling thread until the job is done.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let done = PosixSemaphore()
        let outcome = Mutex<Result<T, any Error>?>(nil)
        submit { result in
            outcome.withLock { $0 = result }
            done.post()
        } body: { try body() }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    private func submit<T>(_ finish: @escaping @Sendable (Result<T, any Error>) -> Void,
                           body: @escaping @Sendable () throws -> T) {
        let job: @Sendable () -> Void = { [queue] in
            if let broken = queue.state.withLock({ $0.broken }) {
                finish(.failure(SystemError(errno: broken.errno, function: "namespace thread unusable: \(broken.function)")))
                return
            }
            finish(Result { try body() })
        }
        let accepted = queue.state.withLock { state -> Bool in
            if state.broken != nil { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { queue.semaphore.post() } else { job() }
    }
}

/// A POSIX semaphore (sem_init/sem_wait/sem_post) on the heap.
private final class PosixSemaphore: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<sem_t>

    init(value: UInt32 = 0) {
        pointer = .allocate(capacity: 1)
        sem_init(pointer, 0, value)
    }

    deinit {
        sem_destroy(pointer)
        pointer.deallocate()
    }

    func post() { sem_post(pointer) }

    func wait() {
        while sem_wait(pointer) != 0 && errno == EINTR {}
    }
}
