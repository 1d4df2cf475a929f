import MeshSystem

/// The files a lab keeps, all under one directory (`--state-dir`).
///
/// ```
/// api.sock        the API, unix socket, mode 0600 (works from any network namespace)
/// daemon.json     who is running: pid, API address, mode (see DaemonInfo)
/// daemon.lock     flock held by the running daemon: the truth about "is it up"
/// store/          the resource store (write-ahead log and snapshot)
/// logs/daemon.log the daemon's output
/// ```
public struct StateDirectory: Sendable, Hashable {
    public let path: String

    public init(_ path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public var apiSocket: String { path + "/api.sock" }
    public var daemonInfo: String { path + "/daemon.json" }
    public var daemonLock: String { path + "/daemon.lock" }
    public var store: String { path + "/store" }
    public var logs: String { path + "/logs" }
    public var daemonLog: String { logs + "/daemon.log" }

    /// Creates the directory and its log folder, private to this user (0700).
    public func create() throws {
        try Files.makeDirectories(path, mode: 0o700)
        try Files.makeDirectories(logs, mode: 0o700)
    }
}
