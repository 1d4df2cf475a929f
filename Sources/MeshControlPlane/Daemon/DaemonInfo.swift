import MeshModel
import MeshSystem

/// What a running daemon publishes about itself in `daemon.json`, for
/// `meshlab status` and `up`/`down`.
public struct DaemonInfo: Sendable, Equatable {
    public var pid: Int32
    /// `http://127.0.0.1:15080`
    public var apiURL: String
    public var apiSocket: String
    /// How pods run; `control-plane` while the lab runs no pods.
    public var mode: String
    public var version: String
    public var startedAt: String

    public init(pid: Int32, apiURL: String, apiSocket: String, mode: String, version: String = MeshlabVersion.version,
                startedAt: String) {
        self.pid = pid
        self.apiURL = apiURL
        self.apiSocket = apiSocket
        self.mode = mode
        self.version = version
        self.startedAt = startedAt
    }

    public var json: JSONValue {
        [
            "pid": .int(Int(pid)), "apiURL": .string(apiURL), "apiSocket": .string(apiSocket), "mode": .string(mode),
            "version": .string(version), "startedAt": .string(startedAt),
        ]
    }

    public init?(json: JSONValue) {
        guard let pid = json["pid"]?.intValue, let apiURL = json["apiURL"]?.stringValue,
            let apiSocket = json["apiSocket"]?.stringValue, let mode = json["mode"]?.stringValue
        else { return nil }
        self.init(pid: Int32(pid), apiURL: apiURL, apiSocket: apiSocket, mode: mode,
                  version: json["version"]?.stringValue ?? "", startedAt: json["startedAt"]?.stringValue ?? "")
    }

    public func write(to path: String) throws {
        try Files.writeAtomically(path, json.serializedBytes(.kubectl) + [0x0A], mode: 0o600)
    }

    /// The file's contents, or nil when it is missing or unreadable.
    public static func read(from path: String) -> DaemonInfo? {
        guard let bytes = try? Files.read(path), let json = try? JSONValue(parsing: bytes) else { return nil }
        return DaemonInfo(json: json)
    }
}
