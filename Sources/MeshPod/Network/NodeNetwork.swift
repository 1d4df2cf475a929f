import MeshModel
import MeshSystem

/// The lab's node: a network namespace holding the bridge that every pod's
/// veth joins, with the gateway address (where the daemon serves DNS).
///
/// The launcher (`meshlab up`) creates it, then starts the daemon inside it
/// with `daemonEnterRequest` (only the network namespace changes: the
/// daemon keeps the host's mount namespace and sees /run/netns and the
/// state directory). Nothing of the host's network changes: no route,
/// address, link or netfilter rule is added there.
public struct NodeNetwork: Sendable, Hashable {
    public let configuration: LabNetworkConfiguration

    public init(configuration: LabNetworkConfiguration) { self.configuration = configuration }

    public var namespacePath: String { configuration.nodeNamespacePath }

    /// Whether the node netns exists (pinned) now.
    public var exists: Bool { NamedNetworkNamespaces.isPinned(namespacePath) }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case alreadyExists(String)

        public var description: String {
            switch self {
            case .alreadyExists(let path):
                "the lab's node network namespace \(path) already exists (a lab is up, or one crashed: run meshlab down)"
            }
        }
    }

    /// Makes the node netns: lo up, the bridge up with the gateway address.
    /// If a step fails, what was made is removed before the error is thrown.
    @discardableResult
    public static func create(_ configuration: LabNetworkConfiguration,
                              thread: NamespaceThread = .shared) async throws -> NodeNetwork {
        let node = NodeNetwork(configuration: configuration)
        try NamedNetworkNamespaces.prepare(directory: configuration.namespaceDirectory)
        if (try? Files.kind(of: node.namespacePath)) != nil { throw Failure.alreadyExists(node.namespacePath) }
        do {
            try await thread.run {
                try NamedNetworkNamespaces.create(pinnedAt: node.namespacePath)
                let socket = try NetlinkSocket()  // inside the node netns now
                defer { socket.close() }
                for request in node.setupRequests() { try socket.send([request]) }
                let replies = try socket.send([RouteMessages.getLink(name: LabNetworkConfiguration.bridgeName)])
                guard let index = replies.first.flatMap(RouteMessages.interfaceIndex(in:)) else {
                    throw SystemError(errno: 19, function: "RTM_GETLINK \(LabNetworkConfiguration.bridgeName): no answer")
                }
                try socket.send([node.gatewayAddressRequest(bridgeIndex: index)])
            }
        } catch {
            try? node.destroy()
            throw error
        }
        return node
    }

    /// lo up, the bridge (made up). Pure: the golden file shows them.
    func setupRequests() -> [NetlinkRequest] {
        [RouteMessages.setUp(index: RouteMessages.loopbackIndex, label: "lo"),
         RouteMessages.createBridge(name: LabNetworkConfiguration.bridgeName)]
    }

    func gatewayAddressRequest(bridgeIndex: Int32) -> NetlinkRequest {
        RouteMessages.addAddress(configuration.gateway, prefixLength: configuration.podCIDR.prefixLength,
                                 index: bridgeIndex, label: LabNetworkConfiguration.bridgeName)
    }

    /// Unpins the node netns; its bridge and the node ends of veth pairs go
    /// with it once no process is left inside (the sweep sees to that).
    /// Safe to call twice.
    public func destroy() throws {
        try NamedNetworkNamespaces.remove(namespacePath)
    }

    /// How the launcher starts the daemon inside the node netns: spawn the
    /// running binary (`CurrentProcess.executablePath()`) with
    /// `request.commandLine` as its arguments. Only the network namespace
    /// changes; user, mounts and working directory stay the launcher's.
    public func daemonEnterRequest(program: String, arguments: [String]) -> EnterRequest {
        EnterRequest(networkNamespace: namespacePath, program: program, arguments: arguments)
    }
}
