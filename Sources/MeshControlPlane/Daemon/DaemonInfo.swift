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
    /// Where pods live, when the lab runs pods: the node netns, the pod and
    /// service networks, and the cluster DNS address.
    public var network: Network?

    public struct Network: Sendable, Equatable {
        public var nodeNamespace: String
        public var podCIDR: String
        public var serviceCIDR: String
        public var dnsAddress: String

        public init(nodeNamespace: String, podCIDR: String, serviceCIDR: String, dnsAddress: String) {
            self.nodeNamespace = nodeNamespace
            self.podCIDR = podCIDR
            self.serviceCIDR = serviceCIDR
            self.dnsAddress = dnsAddress
        }
    }

    public init(pid: Int32, apiURL: String, apiSocket: String, mode: String, version: String = MeshlabVersion.version,
                startedAt: String, network: Network? = nil) {
        self.pid = pid
        self.apiURL = apiURL
        self.apiSocket = apiSocket
        self.mode = mode
        self.version = version
        self.startedAt = startedAt
        self.network = network
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "pid": .int(Int(pid)), "apiURL": .string(apiURL), "apiSocket": .string(apiSocket), "mode": .string(mode),
            "version": .string(version), "startedAt": .string(startedAt),
        ]
        if let network {
            object["network"] = [
                "nodeNamespace": .string(network.nodeNamespace), "podCIDR": .string(network.podCIDR),
                "serviceCIDR": .string(network.serviceCIDR), "dnsAddress": .string(network.dnsAddress),
            ]
        }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let pid = json["pid"]?.intValue, let apiURL = json["apiURL"]?.stringValue,
            let apiSocket = json["apiSocket"]?.stringValue, let mode = json["mode"]?.stringValue
        else { return nil }
        var network: Network?
        if let n = json["network"], let nodeNamespace = n["nodeNamespace"]?.stringValue,
            let podCIDR = n["podCIDR"]?.stringValue, let serviceCIDR = n["serviceCIDR"]?.stringValue,
            let dnsAddress = n["dnsAddress"]?.stringValue
        {
            network = Network(nodeNamespace: nodeNamespace, podCIDR: podCIDR, serviceCIDR: serviceCIDR, dnsAddress: dnsAddress)
        }
        self.init(pid: Int32(pid), apiURL: apiURL, apiSocket: apiSocket, mode: mode,
                  version: json["version"]?.stringValue ?? "", startedAt: json["startedAt"]?.stringValue ?? "",
                  network: network)
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
