#if canImport(Glibc)
import Glibc
#endif

/// Options that every command takes.
public struct GlobalOptions: Sendable, Hashable {
    /// `--state-dir` or $MESHLAB_STATE_DIR when given; otherwise the default
    /// for this user (see `resolvedStateDirectory`).
    public var stateDirectory: String?

    public init(stateDirectory: String? = nil) { self.stateDirectory = stateDirectory }

    static let specs: [ArgumentSpec] = [
        .option("state-dir", valueName: "dir",
                help: "Where the lab keeps its state (default /var/lib/meshlab as root, else $XDG_STATE_HOME/meshlab).",
                environment: "MESHLAB_STATE_DIR"),
    ]

    init(_ parsed: ParsedArguments) { stateDirectory = parsed.option("state-dir") }

    /// /var/lib/meshlab for root; $XDG_STATE_HOME/meshlab or ~/.local/state/meshlab otherwise.
    public func resolvedStateDirectory(environment: [String: String], uid: uid_t = getuid()) -> String {
        if let stateDirectory { return stateDirectory }
        if uid == 0 { return "/var/lib/meshlab" }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/meshlab" }
        return (environment["HOME"] ?? "/tmp") + "/.local/state/meshlab"
    }
}
