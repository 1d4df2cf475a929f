#if canImport(Glibc)
import Glibc
#endif

/// One thing `meshlab __enter` does, in the order `Enter.plan` lists them.
public enum EnterStep: Sendable, Hashable, CustomStringConvertible {
    /// unshare(CLONE_NEWNS) needs a single-threaded process; so does a
    /// predictable setns. Checked first so the failure names the real cause.
    case requireSingleThread
    case joinNetworkNamespace(String)
    /// New mount and UTS namespaces for the pod's files and hostname.
    case unshareMountAndUTS
    /// Everything under / becomes a slave mount: unmounts of pinned netns
    /// files still arrive from the host, and our binds never reach it.
    case makeMountsPrivate
    /// Bind `source` over `target` (over what it links to, if a symlink).
    case bindFile(source: String, target: String)
    case setHostname(String)
    case dropSupplementaryGroups
    case setGroupID(UInt32)
    case setUserID(UInt32)
    case changeDirectory(String)
    case exec(program: String, arguments: [String])

    public var description: String {
        switch self {
        case .requireSingleThread: "single-thread check"
        case .joinNetworkNamespace(let path): "setns(\(path))"
        case .unshareMountAndUTS: "unshare(CLONE_NEWNS|CLONE_NEWUTS)"
        case .makeMountsPrivate: "mount(/, MS_REC|MS_SLAVE)"
        case .bindFile(let source, let target): "mount(\(source) -> \(target), MS_BIND)"
        case .setHostname(let name): "sethostname(\(name))"
        case .dropSupplementaryGroups: "setgroups(0)"
        case .setGroupID(let gid): "setgid(\(gid))"
        case .setUserID(let uid): "setuid(\(uid))"
        case .changeDirectory(let path): "chdir(\(path))"
        case .exec(let program, let arguments): "execvp(\(([program] + arguments).joined(separator: " ")))"
        }
    }
}

/// `meshlab __enter`: carries out an `EnterRequest` and execs its program.
///
/// It must run before the process has a second thread: `main.swift` calls
/// `Enter.main` on its first line, before anything async. Every failure is
/// one line on stderr naming the step, and the exit code a shell would give:
/// 127 when the program is not found, 126 for anything else.
public enum Enter {
    /// The steps for `request`, in order. Pure.
    public static func plan(_ request: EnterRequest) -> [EnterStep] {
        var steps: [EnterStep] = [.requireSingleThread]
        if let path = request.networkNamespace { steps.append(.joinNetworkNamespace(path)) }
        if request.resolvConf != nil || request.hosts != nil || request.hostname != nil {
            steps += [.unshareMountAndUTS, .makeMountsPrivate]
            if let file = request.resolvConf { steps.append(.bindFile(source: file, target: "/etc/resolv.conf")) }
            if let file = request.hosts { steps.append(.bindFile(source: file, target: "/etc/hosts")) }
            if let name = request.hostname { steps.append(.setHostname(name)) }
        }
        if request.userID != nil || request.groupID != nil { steps.append(.dropSupplementaryGroups) }
        if let gid = request.groupID { steps.append(.setGroupID(gid)) }
        if let uid = request.userID { steps.append(.setUserID(uid)) }
        if let directory = request.workingDirectory { steps.append(.changeDirectory(directory)) }
        steps.append(.exec(program: request.program, arguments: request.arguments))
        return steps
    }

    /// Why a step failed, and the exit code that says so.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var exitCode: CInt

        public var description: String { "meshlab __enter: \(message)" }
    }

    /// Parses `arguments` (those after `__enter`), runs the request; never returns.
    public static func main(arguments: [String]) -> Never {
        do {
            try run(try EnterRequest(arguments: arguments))
        } catch let error as EnterRequest.ParseError {
            fail(Failure(message: error.message, exitCode: 126))
        } catch let failure as Failure {
            fail(failure)
        } catch {
            fail(Failure(message: "\(error)", exitCode: 126))
        }
    }

    /// Runs every step of `request`; returns only by throwing (exec replaces the process).
    public static func run(_ request: EnterRequest) throws(Failure) -> Never {
        for step in plan(request) { try perform(step) }
        fatalError("exec returned")  // perform(.exec) never returns normally
    }

    private static func fail(_ failure: Failure) -> Never {
        let line = failure.description + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(failure.exitCode)
    }

    private static func perform(_ step: EnterStep) throws(Failure) {
        func check(_ result: CInt) throws(Failure) {
            if result == 0 { return }
            throw Failure(message: SystemError(errno: errno, function: step.description).description, exitCode: 126)
        }
        func wrap(_ body: () throws(SystemError) -> Void) throws(Failure) {
            do { try body() } catch { throw Failure(message: error.description, exitCode: 126) }
        }
        switch step {
        case .requireSingleThread:
            let threads = (try? Namespaces.threadCount()) ?? 1
            if threads != 1 {
                throw Failure(
                    message: "the process has \(threads) threads, but entering namespaces needs exactly one "
                        + "(meshlab's main must hand __enter off before anything starts a thread)",
                    exitCode: 126)
            }
        case .joinNetworkNamespace(let path):
            try wrap { () throws(SystemError) in try Namespaces.enter(path, kind: .network) }
        case .unshareMountAndUTS:
            try wrap { () throws(SystemError) in try Namespaces.unshare([.mount, .uts]) }
        case .makeMountsPrivate:
            try wrap { () throws(SystemError) in try Mounts.makeRecursiveSlave("/") }
        case .bindFile(let source, let target):
            let resolved = try bindTarget(for: target)
            try wrap { () throws(SystemError) in try Mounts.bind(source, onto: resolved) }
        case .setHostname(let name):
            try check(sethostname(name, name.utf8.count))
        case .dropSupplementaryGroups:
            try check(setgroups(0, nil))
        case .setGroupID(let gid):
            try check(setgid(gid))
        case .setUserID(let uid):
            try check(setuid(uid))
        case .changeDirectory(let path):
            try check(chdir(path))
        case .exec(let program, let arguments):
            let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
            _ = argv.withUnsafeBufferPointer { execvp(program, $0.baseAddress!) }
            let code = errno
            throw Failure(message: SystemError(errno: code, function: step.description).description,
                          exitCode: code == ENOENT ? 127 : 126)
        }
    }

    /// Where to bind a file meant for `target`: the target itself, or, when
    /// it is a symbolic link (/etc/resolv.conf -> ../run/systemd/resolve/
    /// stub-resolv.conf), the file it leads to, since mount(2) follows links.
    /// A link that leads nowhere gets a small tmpfs over the directory it
    /// points into, holding an empty file to bind over (seen by this process
    /// only: its mount namespace is its own by now).
    static func bindTarget(for target: String) throws(Failure) -> String {
        if let resolved = realpath(target, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let missing = errno
        guard (try? Files.kind(of: target)) == .symbolicLink, let dangling = danglingLinkDestination(target) else {
            throw Failure(message: SystemError(errno: missing, function: "realpath(\(target))").description,
                          exitCode: 126)
        }
        let directory = Files.parentDirectory(of: dangling)
        guard (try? Files.kind(of: directory)) == .directory else {
            throw Failure(message: "\(target) is a symbolic link to \(dangling), whose directory does not exist",
                          exitCode: 126)
        }
        do {
            try Mounts.mountTemporaryFileSystem(at: directory)
            try Files.open(dangling, .createNew, mode: 0o644).close()
        } catch {
            throw Failure(message: "\(error)", exitCode: 126)
        }
        return dangling
    }

    /// Follows `path`'s chain of symbolic links to the first name that does not exist.
    private static func danglingLinkDestination(_ path: String) -> String? {
        var current = path
        for _ in 0..<40 {
            guard (try? Files.kind(of: current)) == .symbolicLink else {
                return (try? Files.kind(of: current)) == nil ? current : nil
            }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { return nil }
            let link = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : Files.parentDirectory(of: current) + "/" + link
        }
        return nil
    }
}
