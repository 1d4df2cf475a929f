import MeshModel
import MeshSystem

/// How the lab's network is laid out, and what everything in it is called.
///
/// Every name the host can see starts with `prefix` (the node netns
/// `meshlab-node`, pod netns `meshlab-<ns>-<pod>-<uid>`), so a sweep finds
/// exactly what meshlab made, and a test with its own prefix runs beside a
/// real lab. Links live inside the node netns, where nothing else is, so
/// their names need no prefix of their own.
public struct LabNetworkConfiguration: Sendable, Hashable {
    public var prefix: String
    /// Pod addresses; the first host address is the gateway (the bridge),
    /// where the daemon also serves DNS.
    public var podCIDR: IPv4CIDR
    /// Where pinned network namespaces live (`ip netns` looks here).
    public var namespaceDirectory: String
    public var clusterDomain: String

    public static let defaultPrefix = "meshlab"
    public static let defaultPodCIDR = IPv4CIDR("10.44.0.0/16")!

    public init(prefix: String = defaultPrefix, podCIDR: IPv4CIDR = defaultPodCIDR,
                namespaceDirectory: String = NamedNetworkNamespaces.defaultDirectory,
                clusterDomain: String = "cluster.local") {
        self.prefix = prefix
        self.podCIDR = podCIDR
        self.namespaceDirectory = namespaceDirectory
        self.clusterDomain = clusterDomain
    }

    /// The bridge in the node netns.
    public static let bridgeName = "meshlab0"
    /// The pod's end of its veth pair, inside the pod netns.
    public static let podInterfaceName = "eth0"

    public var gateway: UInt32 { podCIDR.address(at: 1) }
    public var gatewayAddress: String { IPv4CIDR.format(gateway) }
    /// The cluster DNS server pods use: the daemon on the gateway address.
    public var nameserver: String { gatewayAddress }

    public var nodeNamespaceName: String { "\(prefix)-node" }
    public var nodeNamespacePath: String { namespaceDirectory + "/" + nodeNamespaceName }

    /// Longest pod netns name: room for `ip netns list` columns, far below NAME_MAX.
    static let maxNamespaceNameLength = 80

    /// `<prefix>-<namespace>-<name>-<first 8 of uid>`, cut to fit, in the
    /// characters Kubernetes names use (anything else becomes `-`).
    public func podNamespaceName(_ pod: PodIdentity) -> String {
        let uid = String(Self.safe(pod.uid).filter { $0 != "-" }.prefix(8))
        let tag = uid.isEmpty ? Self.hashHex("\(pod.namespace)/\(pod.name)", digits: 8) : uid
        let head = "\(prefix)-\(Self.safe(pod.namespace))-"
        let room = max(1, Self.maxNamespaceNameLength - head.count - tag.count - 1)
        return head + String(Self.safe(pod.name).prefix(room)) + "-" + tag
    }

    public func podNamespacePath(_ pod: PodIdentity) -> String { namespaceDirectory + "/" + podNamespaceName(pod) }

    /// The node's end of a pod's veth pair: `mlv` + 12 hex digits of a hash
    /// of the pod's identity (15 characters, the kernel's limit).
    public static func nodeInterfaceName(_ pod: PodIdentity) -> String {
        "mlv" + hashHex("\(pod.namespace)/\(pod.name)/\(pod.uid)", digits: 12)
    }

    /// Whether a netns name is one of this lab's (its node's or a pod's).
    public func isLabNamespace(_ name: String) -> Bool { name.hasPrefix(prefix + "-") }

    static func safe(_ text: String) -> String {
        String(text.lowercased().map { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." ? $0 : "-" })
    }

    /// FNV-1a, 64 bits, as lowercase hex: stable across runs and builds (Hasher is seeded per process).
    static func hashHex(_ text: String, digits: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(digits))
    }
}
