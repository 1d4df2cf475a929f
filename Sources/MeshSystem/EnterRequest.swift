/// What `meshlab __enter` does before it execs a pod's program: join the
/// pod's network namespace, give the process a mount namespace where
/// /etc/resolv.conf and /etc/hosts are the pod's (as `ip netns exec` does)
/// and a UTS namespace with the pod's hostname, drop to the container's
/// user, change directory, then exec.
///
/// It runs as its own process because setns(2) for a mount namespace needs
/// a single-threaded caller, and exec keeps only the calling thread: the
/// multithreaded daemon spawns `meshlab __enter ...`, never enters itself.
/// This type is the contract between the spawner (the node agent, `meshlab
/// exec`) and the helper: both sides use `arguments` / `init(arguments:)`.
public struct EnterRequest: Sendable, Hashable {
    /// A network namespace file (`/run/netns/meshlab-...`).
    public var networkNamespace: String?
    /// Bind-mounted over /etc/resolv.conf in the new mount namespace.
    public var resolvConf: String?
    /// Bind-mounted over /etc/hosts.
    public var hosts: String?
    /// Set in a new UTS namespace.
    public var hostname: String?
    /// Drop to this user and group (and no supplementary groups); nil keeps the caller's.
    public var userID: UInt32?
    public var groupID: UInt32?
    public var workingDirectory: String?
    /// The program (a path, or a name looked up in PATH) and its arguments.
    public var program: String
    public var arguments: [String]

    public init(networkNamespace: String? = nil, resolvConf: String? = nil, hosts: String? = nil,
                hostname: String? = nil, userID: UInt32? = nil, groupID: UInt32? = nil,
                workingDirectory: String? = nil, program: String, arguments: [String] = []) {
        self.networkNamespace = networkNamespace
        self.resolvConf = resolvConf
        self.hosts = hosts
        self.hostname = hostname
        self.userID = userID
        self.groupID = groupID
        self.workingDirectory = workingDirectory
        self.program = program
        self.arguments = arguments
    }

    /// The hidden subcommand's name: `meshlab __enter ...`.
    public static let command = "__enter"

    /// The arguments after `meshlab`: `__enter --net PATH ... -- PROGRAM ARGS`.
    public var commandLine: [String] {
        var out = [Self.command]
        if let networkNamespace { out += ["--net", networkNamespace] }
        if let resolvConf { out += ["--resolv-conf", resolvConf] }
        if let hosts { out += ["--hosts", hosts] }
        if let hostname { out += ["--hostname", hostname] }
        if let userID { out += ["--uid", String(userID)] }
        if let groupID { out += ["--gid", String(groupID)] }
        if let workingDirectory { out += ["--cwd", workingDirectory] }
        return out + ["--", program] + arguments
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { "meshlab __enter: \(message)" }
    }

    /// Reads `commandLine` back (the arguments after `__enter`).
    public init(arguments: [String]) throws(ParseError) {
        var request = EnterRequest(program: "")
        var index = 0
        func value(_ flag: String) throws(ParseError) -> String {
            guard index + 1 < arguments.count else { throw ParseError(message: "\(flag) needs a value") }
            index += 1
            return arguments[index]
        }
        func number(_ flag: String) throws(ParseError) -> UInt32 {
            let text = try value(flag)
            guard let n = UInt32(text) else { throw ParseError(message: "\(flag) wants a number, not \"\(text)\"") }
            return n
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "--net": request.networkNamespace = try value(flag)
            case "--resolv-conf": request.resolvConf = try value(flag)
            case "--hosts": request.hosts = try value(flag)
            case "--hostname": request.hostname = try value(flag)
            case "--uid": request.userID = try number(flag)
            case "--gid": request.groupID = try number(flag)
            case "--cwd": request.workingDirectory = try value(flag)
            case "--":
                guard index + 1 < arguments.count else { throw ParseError(message: "no program after --") }
                request.program = arguments[index + 1]
                request.arguments = Array(arguments[(index + 2)...])
                self = request
                return
            default:
                throw ParseError(message: "unknown option \(flag)")
            }
            index += 1
        }
        throw ParseError(message: "no program: expected -- PROGRAM ARGS")
    }
}
