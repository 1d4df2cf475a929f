import MeshSystem

/// Which pod: what names its sandbox and its files.
public struct PodIdentity: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// The pod object's uid: a pod deleted and created again with the same
    /// name is a different pod with a different sandbox.
    public var uid: String

    public init(namespace: String, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    public var description: String { "\(namespace)/\(name)" }
}

/// Where a pod's processes run: its network namespace and address, and the
/// files its mount namespace shows at /etc/resolv.conf and /etc/hosts.
///
/// The network part (MeshPod/Network) makes sandboxes; the runtime part
/// (MeshPod/Agent) starts containers in them through `enter(...)`.
public struct PodSandbox: Sendable, Hashable {
    public var pod: PodIdentity
    /// The netns file (`/run/netns/meshlab-...`); nil where the lab runs
    /// without namespaces (processes share the host's network, each pod on
    /// its own 127.x address).
    public var networkNamespace: String?
    /// The pod's IPv4 address on the lab's bridge.
    public var ip: String
    /// The pod's hostname (its name, as Kubernetes sets it).
    public var hostname: String
    /// The files shown at /etc/resolv.conf and /etc/hosts (nil: the host's).
    public var resolvConf: String?
    public var hosts: String?
    /// The pod's own folder in the state directory (its files, its containers' logs).
    public var directory: String

    public init(pod: PodIdentity, networkNamespace: String?, ip: String, hostname: String, resolvConf: String?,
                hosts: String?, directory: String) {
        self.pod = pod
        self.networkNamespace = networkNamespace
        self.ip = ip
        self.hostname = hostname
        self.resolvConf = resolvConf
        self.hosts = hosts
        self.directory = directory
    }

    /// How to run `program` inside this sandbox as `userID:groupID`.
    public func enter(program: String, arguments: [String], userID: UInt32?, groupID: UInt32?,
                      workingDirectory: String?) -> EnterRequest {
        EnterRequest(networkNamespace: networkNamespace, resolvConf: resolvConf, hosts: hosts, hostname: hostname,
                     userID: userID, groupID: groupID, workingDirectory: workingDirectory, program: program,
                     arguments: arguments)
    }
}

/// Makes and removes pod sandboxes, and knows which exist.
public protocol PodSandboxProvider: Sendable {
    /// Creates the pod's sandbox (or returns the one that exists for it).
    func create(for pod: PodIdentity) async throws -> PodSandbox
    /// Removes the sandbox: its netns, links, address and files. Idempotent.
    func destroy(_ pod: PodIdentity) async throws
    /// The sandboxes that exist now.
    func sandboxes() async -> [PodSandbox]
}
