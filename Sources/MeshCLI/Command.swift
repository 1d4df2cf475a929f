import MeshModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a command ended; the process exit status.
public struct ExitCode: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public static let success = ExitCode(0)
    public static let failure = ExitCode(1)
    /// BSD's EX_USAGE: the command line was wrong.
    public static let usage = ExitCode(64)
    public var description: String { String(rawValue) }
}

/// What a command is called and says about itself in help.
public struct CommandInfo: Sendable {
    public var name: String
    public var abstract: String
    public var discussion: String?
    public var examples: [String]
    public var hidden: Bool
    public var subcommands: [any ParsableCommand.Type]

    public init(name: String, abstract: String, discussion: String? = nil, examples: [String] = [],
                hidden: Bool = false, subcommands: [any ParsableCommand.Type] = []) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.examples = examples
        self.hidden = hidden
        self.subcommands = subcommands
    }
}

/// A command is a type: its arguments are data, `init` turns a parsed
/// command line into a value (the validate step: every usage error is thrown
/// here), and `run` does the work.
public protocol ParsableCommand: Sendable {
    static var info: CommandInfo { get }
    static var arguments: [ArgumentSpec] { get }
    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError)
    func run(_ context: CommandContext) async throws -> ExitCode
}

extension ParsableCommand {
    public static var arguments: [ArgumentSpec] { [] }
}

/// Where a command's output goes. Tests capture it; the binary writes to fds 1 and 2.
public protocol OutputStream: Sendable {
    func write(_ text: String)
}

/// Writes straight to a file descriptor, unbuffered, so that output from a
/// command that later execs or crashes is not lost.
public struct FileDescriptorOutput: OutputStream {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// Keeps everything written, for tests.
public final class CapturedOutput: OutputStream {
    private let storage = Mutex("")
    public init() {}
    public func write(_ text: String) { storage.withLock { $0 += text } }
    public var text: String { storage.withLock { $0 } }
}

/// Everything a command needs from the outside world, so that tests can run
/// commands in-process with captured output and a chosen environment.
public struct CommandContext: Sendable {
    public var stdout: any OutputStream
    public var stderr: any OutputStream
    public var environment: [String: String]
    /// Options every command accepts (`--state-dir`).
    public var global: GlobalOptions
    /// How commands reach the API; nil means the running lab's unix socket.
    public var apiTransport: (any APITransport)?
    /// Seconds since the epoch (for ages in tables).
    public var now: @Sendable () -> Int

    public init(stdout: any OutputStream, stderr: any OutputStream, environment: [String: String],
                global: GlobalOptions = GlobalOptions(), apiTransport: (any APITransport)? = nil,
                now: @escaping @Sendable () -> Int = { Timestamp.now() }) {
        self.stdout = stdout
        self.stderr = stderr
        self.environment = environment
        self.global = global
        self.apiTransport = apiTransport
        self.now = now
    }

    /// The state directory this invocation uses.
    public var stateDirectory: String { global.resolvedStateDirectory(environment: environment) }

    /// A client for the running lab's API.
    public func client() throws -> APIClient {
        if let apiTransport { return APIClient(transport: apiTransport) }
        return APIClient(transport: try DaemonTransport(stateDirectory: stateDirectory))
    }

    public func print(_ text: String = "") { stdout.write(text + "\n") }
    public func printError(_ text: String) { stderr.write(text + "\n") }
}
