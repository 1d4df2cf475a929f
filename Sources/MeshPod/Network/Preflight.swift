import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// What `meshlab up` checks before it makes anything: each missing piece
/// is one line that says what is missing and how to get it.
public enum Preflight {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// What the checks look at, gathered from the machine (or made up in tests).
    public struct Facts: Sendable {
        public var effectiveUserID: UInt32
        /// Programs found in PATH, by name.
        public var programs: Set<String>
        /// Whether /proc/self/ns/net exists (a kernel with network namespaces).
        public var networkNamespacesSupported: Bool
        /// Whether the netns directory can be made and written.
        public var namespaceDirectoryWritable: Bool
        public var namespaceDirectory: String

        public init(effectiveUserID: UInt32, programs: Set<String>, networkNamespacesSupported: Bool,
                    namespaceDirectoryWritable: Bool, namespaceDirectory: String) {
            self.effectiveUserID = effectiveUserID
            self.programs = programs
            self.networkNamespacesSupported = networkNamespacesSupported
            self.namespaceDirectoryWritable = namespaceDirectoryWritable
            self.namespaceDirectory = namespaceDirectory
        }

        /// This machine's facts.
        public static func gather(namespaceDirectory: String = NamedNetworkNamespaces.defaultDirectory,
                                  path: String? = nil) -> Facts {
            let found = Set(requiredPrograms.map(\.name).filter { locate($0, path: path) != nil })
            return Facts(
                effectiveUserID: geteuid(), programs: found,
                networkNamespacesSupported: access("/proc/self/ns/net", F_OK) == 0,
                namespaceDirectoryWritable: Self.writable(namespaceDirectory), namespaceDirectory: namespaceDirectory)
        }

        /// The directory (or the nearest existing parent, which `up` would
        /// create it in) accepts new files.
        static func writable(_ directory: String) -> Bool {
            var path = directory
            while (try? Files.kind(of: path)) == nil && path != "/" && !path.isEmpty {
                path = Files.parentDirectory(of: path)
            }
            return access(path, W_OK | X_OK) == 0
        }
    }

    /// The full path of `program`: in PATH, or in the sbin directories
    /// (where iptables lives, and which a non-login root shell may lack).
    public static func locate(_ program: String, path: String? = nil) -> String? {
        let searchPath = path ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in (searchPath + ":/usr/local/sbin:/usr/sbin:/sbin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The programs the lab runs, and where they come from. (Links,
    /// addresses and routes are made over rtnetlink: `ip` is not needed.)
    public static let requiredPrograms: [(name: String, hint: String)] = [
        ("iptables-restore", "apt-get install iptables (or dnf install iptables-nft)"),
        ("iptables-save", "apt-get install iptables (or dnf install iptables-nft)"),
    ]

    /// Every problem, in the order a person should fix them (empty: go ahead).
    public static func problems(_ facts: Facts) -> [Problem] {
        if facts.effectiveUserID != 0 {
            return [Problem("meshlab up needs root for network namespaces: run it with sudo")]
        }
        var problems: [Problem] = []
        if !facts.networkNamespacesSupported {
            problems.append(Problem(
                "this kernel has no network namespaces (/proc/self/ns/net is missing): "
                    + "meshlab needs Linux built with CONFIG_NET_NS"))
        }
        if !facts.namespaceDirectoryWritable {
            problems.append(Problem(
                "\(facts.namespaceDirectory) is not writable: network namespaces are pinned there "
                    + "(mount a writable /run, or run outside a read-only container)"))
        }
        for (program, hint) in requiredPrograms where !facts.programs.contains(program) {
            problems.append(Problem("\(program) not found in PATH: \(hint)"))
        }
        return problems
    }

    /// Checks this machine; throws the first problem (the launcher prints
    /// it as one line). Last, it really makes a network namespace (on the
    /// namespace thread, which leaves it at once): root in a container
    /// without CAP_SYS_ADMIN passes every other check and fails here.
    public static func check(namespaceDirectory: String = NamedNetworkNamespaces.defaultDirectory,
                             thread: NamespaceThread = .shared) async throws(Problem) {
        if let first = problems(Facts.gather(namespaceDirectory: namespaceDirectory)).first { throw first }
        do {
            try await thread.run { try Namespaces.unshare([.network]) }
        } catch {
            throw Problem("cannot create network namespaces (\(error)): meshlab needs root with CAP_SYS_ADMIN "
                + "(in a container: docker run --privileged)")
        }
    }
}
