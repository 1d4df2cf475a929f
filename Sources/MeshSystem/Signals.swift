#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A POSIX signal number.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt

    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let hangup = Signal(rawValue: SIGHUP)
    public static let interrupt = Signal(rawValue: SIGINT)
    public static let quit = Signal(rawValue: SIGQUIT)
    public static let kill = Signal(rawValue: SIGKILL)
    public static let user1 = Signal(rawValue: SIGUSR1)
    public static let user2 = Signal(rawValue: SIGUSR2)
    public static let brokenPipe = Signal(rawValue: SIGPIPE)
    public static let terminate = Signal(rawValue: SIGTERM)
    public static let child = Signal(rawValue: SIGCHLD)
    public static let stop = Signal(rawValue: SIGSTOP)
    public static let `continue` = Signal(rawValue: SIGCONT)

    private static let names: [CInt: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGSTOP: "SIGSTOP",
        SIGCONT: "SIGCONT", SIGABRT: "SIGABRT", SIGSEGV: "SIGSEGV", SIGALRM: "SIGALRM", SIGBUS: "SIGBUS",
        SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGTRAP: "SIGTRAP",
    ]

    /// "SIGTERM", or "signal 42" for numbers without a name here.
    public var description: String { Signal.names[rawValue] ?? "signal \(rawValue)" }
}

/// Signals for daemons, opt-in only: nothing in meshlab installs a handler unless its
/// caller asks (`Signals.stream`, `Signals.ignoreBrokenPipe`).
///
/// Delivery uses the self-pipe pattern: a minimal handler (async-signal-safe: one
/// write(2)) puts the signal number into a pipe, and one reader thread turns it into
/// values on `AsyncStream`s. Unlike signalfd this needs no signal mask in every thread
/// (impossible to guarantee in a process whose runtime starts threads of its own), and
/// spawned children start with default dispositions (`SpawnConfiguration` resets them).
public enum Signals {
    /// kill(2): sends `signal` to process `pid` (a negative pid: to that process group).
    /// Expect ESRCH (no such process), EPERM.
    public static func send(_ signal: Signal, to pid: pid_t) throws {
        _ = try Posix.call("kill(\(pid), \(signal))") { Glibc.kill(pid, signal.rawValue) }
    }

    /// Ignores SIGPIPE for the whole process. MeshIO never needs this (its sends use
    /// MSG_NOSIGNAL); call it in `main` if other code writes to pipes or sockets with
    /// plain write(2), so a vanished reader gives EPIPE instead of killing the process.
    public static func ignoreBrokenPipe() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        _ = try Posix.call("sigaction(SIGPIPE)") { sigaction(SIGPIPE, &action, nil) }
    }

    /// The given signals, as they arrive, until the stream is dropped or cancelled.
    ///
    /// The first subscription to a signal installs meshlab's handler for it; when its
    /// last stream ends, the signal's previous disposition is restored (so a SIGTERM
    /// nobody listens for terminates the process again). Several streams may watch the
    /// same signal: each gets every delivery. Like all signals, several deliveries of
    /// one signal before the reader runs may arrive as one.
    public static func stream(_ signals: [Signal]) throws -> AsyncStream<Signal> {
        try SignalHub.shared.subscribe(Set(signals))
    }
}

/// Write end of the signal pipe, read by the handler (a plain global: no locks in a handler).
nonisolated(unsafe) private var signalPipeWriteEnd: CInt = -1

/// The handler: async-signal-safe (one write, errno preserved).
private let signalHandler: @convention(c) (CInt) -> Void = { number in
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = savedErrno
}

/// The process's one signal pipe, its reader thread and the subscribers.
private final class SignalHub: Sendable {
    static let shared = SignalHub()

    private struct Subscriber {
        let signals: Set<Signal>
        let continuation: AsyncStream<Signal>.Continuation
    }

    private struct State {
        var readEnd: FileDescriptor?
        var writeEnd: FileDescriptor?
        var thread: OSThread?
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:]
        /// Dispositions to restore when a signal's last subscriber leaves.
        var previous: [Signal: sigaction] = [:]
    }

    private let state = Mutex(State())

    func subscribe(_ signals: Set<Signal>) throws -> AsyncStream<Signal> {
        let (stream, continuation) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = try state.withLock { state -> Int in
            try startIfNeeded(&state)
            for signal in signals where state.previous[signal] == nil {
                precondition(signal != .kill && signal != .stop, "\(signal) cannot be caught")
                var action = sigaction()
                action.__sigaction_handler.sa_handler = signalHandler
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART | (signal == .child ? SA_NOCLDSTOP : 0)
                var old = sigaction()
                _ = try Posix.call("sigaction(\(signal))") { sigaction(signal.rawValue, &action, &old) }
                state.previous[signal] = old
            }
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(signals: signals, continuation: continuation)
            return state.nextID
        }
        continuation.onTermination = { [self] _ in unsubscribe(id) }
        return stream
    }

    private func unsubscribe(_ id: Int) {
        state.withLock { state in
            guard let leaving = state.subscribers.removeValue(forKey: id) else { return }
            let stillWatched = state.subscribers.values.reduce(into: Set<Signal>()) { $0.formUnion($1.signals) }
            for signal in leaving.signals where !stillWatched.contains(signal) {
                if var old = state.previous.removeValue(forKey: signal) {
                    _ = sigaction(signal.rawValue, &old, nil)
                }
            }
        }
    }

    private func startIfNeeded(_ state: inout State) throws {
        guard state.thread == nil else { return }
        let pipe = try Posix.pipe()
        // The handler must never block: a full pipe drops the byte (signals coalesce anyway).
        try Posix.setNonBlocking(pipe.write)
        signalPipeWriteEnd = pipe.write.rawValue
        state.readEnd = pipe.read
        state.writeEnd = pipe.write
        let readEnd = pipe.read
        state.thread = try OSThread(name: "meshlab-signals") { [self] in
            var bytes = [UInt8](repeating: 0, count: 64)
            while true {
                guard case .done(let count) = try? Posix.read(readEnd, into: &bytes, range: 0..<bytes.count), count > 0 else {
                    return
                }
                for byte in bytes[0..<count] { deliver(Signal(rawValue: CInt(byte))) }
            }
        }
    }

    private func deliver(_ signal: Signal) {
        let targets = state.withLock { state in
            state.subscribers.values.filter { $0.signals.contains(signal) }.map(\.continuation)
        }
        for continuation in targets { continuation.yield(signal) }
    }
}
