import MeshModel
import MeshSystem

/// Told when sandboxes come and go: the service proxy installs a new
/// sandbox's ClusterIP rules before its containers start.
public protocol SandboxObserver: Sendable {
    /// A new sandbox, before `create` returns. Throwing fails the creation
    /// (the sandbox is removed again).
    func sandboxCreated(_ sandbox: PodSandbox) async throws
    /// A sandbox found again by `recover` after a daemon restart.
    func sandboxAdopted(_ sandbox: PodSandbox) async throws
    func sandboxDestroyed(_ pod: PodIdentity) async
}

/// Pod sandboxes as network namespaces on the lab's bridge.
///
/// Each pod gets a netns pinned at /run/netns/<prefix>-<ns>-<pod>-<uid>
/// (visible in `ip netns`), a veth pair whose pod end is made directly
/// inside it as eth0 and whose node end joins the bridge, an address from
/// the pod CIDR, lo up, a default route via the gateway, and a folder in
/// the state directory with its resolv.conf, hosts and `sandbox.json`.
///
/// Everything is done over rtnetlink from a `NamespaceThread`: no process
/// is started. Measured (see NetworkSandboxTests' benchmark): ~3 ms per
/// pod against ~19 ms for the same work with two `ip -batch` processes.
public actor NetworkSandboxProvider: PodSandboxProvider {
    public nonisolated let configuration: LabNetworkConfiguration
    /// Where pod folders go (`<state dir>/pods`).
    public nonisolated let podsDirectory: String
    private let thread: NamespaceThread
    private var pool: AddressPool
    private var live: [PodIdentity: Entry] = [:]
    private var creating: [PodIdentity: Task<PodSandbox, any Error>] = [:]
    /// Addresses the store gives pods that have no sandbox now: reused when
    /// their sandbox is made again, so the pod keeps its IP across a restart.
    private var claims: [PodIdentity: String] = [:]
    private var observers: [any SandboxObserver] = []
    private var node: NodeLinks?

    private struct Entry {
        var sandbox: PodSandbox
        var record: SandboxRecord
    }

    /// The node netns's netlink socket and bridge, opened on first use.
    private struct NodeLinks {
        var socket: NetlinkSocket
        var bridgeIndex: Int32
    }

    public init(configuration: LabNetworkConfiguration, podsDirectory: String, thread: NamespaceThread = .shared) {
        self.configuration = configuration
        self.podsDirectory = podsDirectory
        self.thread = thread
        pool = AddressPool(cidr: configuration.podCIDR, reservedLow: 1)
    }

    public func addObserver(_ observer: any SandboxObserver) {
        observers.append(observer)
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case noNodeNetwork(String)
        case address(AddressPool.Failure)
        case incomplete(String)

        public var description: String {
            switch self {
            case .noNodeNetwork(let path): "the lab's node network namespace \(path) does not exist (meshlab up makes it)"
            case .address(let failure): "pod address: \(failure)"
            case .incomplete(let what): what
            }
        }
    }

    // MARK: PodSandboxProvider

    public func create(for pod: PodIdentity) async throws -> PodSandbox {
        try await create(for: pod, address: nil)
    }

    /// Creates the pod's sandbox (or returns the one it has), with `address`
    /// if given and free (else the pod's claimed address, else the next free one).
    public func create(for pod: PodIdentity, address: String?) async throws -> PodSandbox {
        if let entry = live[pod] { return entry.sandbox }
        if let pending = creating[pod] { return try await pending.value }
        let task = Task { try await self.make(pod, address: address) }
        creating[pod] = task
        defer { creating[pod] = nil }
        return try await task.value
    }

    public func destroy(_ pod: PodIdentity) async throws {
        if let pending = creating[pod] { _ = try? await pending.value }
        let directory = podsDirectory + "/" + SandboxRecord.directoryName(pod)
        let record = live[pod]?.record ?? SandboxRecord.read(in: directory)
        try await remove(record: record, directory: directory)
        if let entry = live.removeValue(forKey: pod) { pool.release(entry.sandbox.ip) }
        if let claimed = claims.removeValue(forKey: pod) { pool.release(claimed) }
        for observer in observers { await observer.sandboxDestroyed(pod) }
    }

    public func sandboxes() -> [PodSandbox] {
        live.values.map(\.sandbox).sorted { ($0.pod.namespace, $0.pod.name, $0.pod.uid) < ($1.pod.namespace, $1.pod.name, $1.pod.uid) }
    }

    public func sandbox(for pod: PodIdentity) -> PodSandbox? { live[pod]?.sandbox }

    /// How many pod addresses are taken (live sandboxes and claims).
    public var allocatedAddresses: Int { pool.allocatedCount }

    // MARK: Recovery

    /// What `recover` found.
    public struct RecoveryReport: Sendable {
        /// Sandboxes taken over (their pods are in the store and they are whole).
        public var adopted: [PodSandbox] = []
        /// Sandboxes removed: of pods no longer in the store, half made, or without a record.
        public var removed: [String] = []
        /// Problems met while removing (the rest was still done).
        public var errors: [String] = []
    }

    /// After a daemon restart: takes over the sandboxes of `pods` (the
    /// store's pods, with their `status.podIP` or "") that are whole, and
    /// removes every other sandbox of this lab — from the pod folders'
    /// records and from the lab's names in /run/netns. Pods of the store
    /// without a sandbox keep their address for when it is made again.
    public func recover(pods: [PodIdentity: String]) async -> RecoveryReport {
        var report = RecoveryReport()
        var adoptedNamespaces: Set<String> = [configuration.nodeNamespaceName]
        for entry in (try? Files.directoryEntries(podsDirectory)) ?? [] {
            let directory = podsDirectory + "/" + entry
            let record = SandboxRecord.read(in: directory)
            if let record, live[record.pod] != nil {
                adoptedNamespaces.insert(record.namespaceName)
                continue
            }
            if let record, pods[record.pod] != nil, record.complete, await isWhole(record),
                (try? pool.reserve(record.ip)) != nil {
                let sandbox = sandbox(from: record, directory: directory)
                live[record.pod] = Entry(sandbox: sandbox, record: record)
                adoptedNamespaces.insert(record.namespaceName)
                report.adopted.append(sandbox)
                continue
            }
            do {
                try await remove(record: record, directory: directory)
            } catch {
                report.errors.append("\(directory): \(error)")
            }
            report.removed.append(record?.namespaceName ?? directory)
        }
        for name in NamedNetworkNamespaces.names(in: configuration.namespaceDirectory)
        where configuration.isLabNamespace(name) && !adoptedNamespaces.contains(name) {
            let path = configuration.namespaceDirectory + "/" + name
            do {
                try await LabSweep.killProcesses(inNamespaces: [path], grace: .zero)
                try NamedNetworkNamespaces.remove(path)
            } catch {
                report.errors.append("\(path): \(error)")
            }
            report.removed.append(name)
        }
        for (pod, ip) in pods where live[pod] == nil && !ip.isEmpty && (try? pool.reserve(ip)) != nil {
            claims[pod] = ip
        }
        for sandbox in report.adopted {
            for observer in observers {
                do { try await observer.sandboxAdopted(sandbox) } catch { report.errors.append("\(sandbox.pod): \(error)") }
            }
        }
        return report
    }

    /// A recorded sandbox is whole when its netns is pinned and its node
    /// end is still on the node.
    private func isWhole(_ record: SandboxRecord) async -> Bool {
        guard NamedNetworkNamespaces.isPinned(configuration.namespaceDirectory + "/" + record.namespaceName),
            let node = try? await nodeLinks()
        else { return false }
        return (try? node.socket.send([RouteMessages.getLink(name: record.nodeInterface)])) != nil
    }

    // MARK: Making and removing

    private func make(_ pod: PodIdentity, address requested: String?) async throws -> PodSandbox {
        let ip = try allocate(for: pod, requested: requested)
        let record = SandboxRecord(
            pod: pod, namespaceName: configuration.podNamespaceName(pod),
            nodeInterface: LabNetworkConfiguration.nodeInterfaceName(pod), ip: ip, hostname: Self.hostname(pod.name),
            complete: false)
        let directory = podsDirectory + "/" + SandboxRecord.directoryName(pod)
        let sandbox = sandbox(from: record, directory: directory)
        do {
            try Files.makeDirectories(directory, mode: 0o755)
            try record.write(in: directory)
            try Self.writeFile(sandbox.resolvConf!, PodFiles.resolvConf(
                podNamespace: pod.namespace, nameserver: configuration.nameserver, clusterDomain: configuration.clusterDomain))
            try Self.writeFile(sandbox.hosts!, PodFiles.hosts(podIP: ip, hostname: record.hostname))
            let node = try await nodeLinks()
            let requests = PodNetworkRequests(configuration: configuration, record: record, bridgeIndex: node.bridgeIndex)
            let path = configuration.namespaceDirectory + "/" + record.namespaceName
            try await thread.run {
                try NamedNetworkNamespaces.create(pinnedAt: path)
                let podSocket = try NetlinkSocket()  // inside the pod netns
                defer { podSocket.close() }
                let podNamespace = try Namespaces.openCurrent(.network)
                defer { try? podNamespace.close() }
                let veth = requests.vethPair(podNamespaceDescriptor: podNamespace.rawValue)
                do {
                    try node.socket.send([veth])
                } catch let error as NetlinkSocket.RequestError where error.errno == 17 {  // EEXIST
                    // The node end of this pod's previous pair, its netns not yet gone: clear it and go on.
                    do {
                        try node.socket.send([RouteMessages.deleteLink(name: record.nodeInterface)])
                    } catch let error as NetlinkSocket.RequestError where error.errno == 19 {}  // ENODEV: gone meanwhile
                    try node.socket.send([veth])
                }
                let replies = try podSocket.send(requests.podLinks())
                guard let index = replies.compactMap(RouteMessages.interfaceIndex(in:)).first else {
                    throw Failure.incomplete("RTM_GETLINK eth0 in \(record.namespaceName): no answer")
                }
                try podSocket.send(requests.podAddressAndRoute(interfaceIndex: index))
            }
            var complete = record
            complete.complete = true
            try complete.write(in: directory)
            live[pod] = Entry(sandbox: sandbox, record: complete)
            for observer in observers { try await observer.sandboxCreated(sandbox) }
            return sandbox
        } catch {
            try? await remove(record: record, directory: directory)
            live[pod] = nil
            pool.release(ip)
            for observer in observers { await observer.sandboxDestroyed(pod) }
            throw error
        }
    }

    private func allocate(for pod: PodIdentity, requested: String?) throws -> String {
        do throws(AddressPool.Failure) {
            if let claimed = claims.removeValue(forKey: pod) {
                if requested == nil || requested == claimed { return claimed }
                pool.release(claimed)
            }
            if let requested {
                try pool.reserve(requested)
                return requested
            }
            return try pool.allocate()
        } catch {
            throw Failure.address(error)
        }
    }

    /// Removes what `record` names (processes in its netns, the netns) and
    /// the pod's folder. Safe on half-made or missing sandboxes.
    ///
    /// The veth pair is not deleted one end at a time: RTM_DELLINK waits for
    /// an RCU grace period (~15 ms here, half of a pod's teardown), while
    /// unpinning the netns lets the kernel destroy the pair with it in the
    /// background. `make` clears a node end that is still there.
    private func remove(record: SandboxRecord?, directory: String) async throws {
        var firstError: (any Error)?
        if let record {
            let path = configuration.namespaceDirectory + "/" + record.namespaceName
            do { try await LabSweep.killProcesses(inNamespaces: [path], grace: .zero) } catch { firstError = firstError ?? error }
            do { try NamedNetworkNamespaces.remove(path) } catch { firstError = firstError ?? error }
        }
        do { try Files.removeTree(directory) } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    private func nodeLinks() async throws -> NodeLinks {
        if let node { return node }
        let path = configuration.nodeNamespacePath
        guard NamedNetworkNamespaces.isPinned(path) else { throw Failure.noNodeNetwork(path) }
        let opened = try await thread.run { () throws -> NodeLinks in
            try Namespaces.enter(path, kind: .network)
            let socket = try NetlinkSocket()
            let replies = try socket.send([RouteMessages.getLink(name: LabNetworkConfiguration.bridgeName)])
            guard let index = replies.compactMap(RouteMessages.interfaceIndex(in:)).first else {
                throw Failure.incomplete("no bridge \(LabNetworkConfiguration.bridgeName) in \(path)")
            }
            return NodeLinks(socket: socket, bridgeIndex: index)
        }
        if let node { return node }  // another call got there first
        node = opened
        return opened
    }

    private nonisolated func sandbox(from record: SandboxRecord, directory: String) -> PodSandbox {
        Self.sandbox(from: record, directory: directory, configuration: configuration)
    }

    private static func sandbox(from record: SandboxRecord, directory: String,
                                configuration: LabNetworkConfiguration) -> PodSandbox {
        PodSandbox(pod: record.pod, networkNamespace: configuration.namespaceDirectory + "/" + record.namespaceName,
                   ip: record.ip, hostname: record.hostname, resolvConf: directory + "/resolv.conf",
                   hosts: directory + "/hosts", directory: directory)
    }

    /// The finished sandbox of `pod` as its folder records it, for other
    /// processes than the daemon (`meshlab exec` enters it): nil when the pod
    /// has none (not started, or finished).
    public static func existingSandbox(for pod: PodIdentity, configuration: LabNetworkConfiguration,
                                       podsDirectory: String) -> PodSandbox? {
        let directory = podsDirectory + "/" + SandboxRecord.directoryName(pod)
        guard let record = SandboxRecord.read(in: directory), record.pod == pod, record.complete else { return nil }
        return sandbox(from: record, directory: directory, configuration: configuration)
    }

    /// The pod's name as its hostname: at most 63 characters, as the kubelet cuts it.
    static func hostname(_ name: String) -> String {
        var cut = String(name.prefix(63))
        while cut.hasSuffix("-") || cut.hasSuffix(".") { cut.removeLast() }
        return cut.isEmpty ? "pod" : cut
    }

    private static func writeFile(_ path: String, _ text: String) throws {
        let fd = try Files.open(path, .truncate, mode: 0o644)
        defer { try? fd.close() }
        try Files.write(fd, Array(text.utf8))
    }
}

/// The netlink requests that wire one pod, in order (pure: golden-tested).
struct PodNetworkRequests {
    var configuration: LabNetworkConfiguration
    var record: SandboxRecord
    var bridgeIndex: Int32

    /// On the node's socket: the veth pair, pod end made inside the pod netns.
    func vethPair(podNamespaceDescriptor: Int32) -> NetlinkRequest {
        RouteMessages.createVethPair(name: record.nodeInterface, bridgeIndex: bridgeIndex,
                                     peerName: LabNetworkConfiguration.podInterfaceName,
                                     peerNamespaceDescriptor: podNamespaceDescriptor)
    }

    /// On the pod's socket: lo up, and eth0's index.
    func podLinks() -> [NetlinkRequest] {
        [RouteMessages.setUp(index: RouteMessages.loopbackIndex, label: "lo"),
         RouteMessages.getLink(name: LabNetworkConfiguration.podInterfaceName)]
    }

    /// On the pod's socket: eth0 up, its address, the default route via the gateway.
    func podAddressAndRoute(interfaceIndex: Int32) -> [NetlinkRequest] {
        let address = IPv4CIDR.parseAddress(record.ip) ?? 0
        return [
            RouteMessages.setUp(index: interfaceIndex, label: LabNetworkConfiguration.podInterfaceName),
            RouteMessages.addAddress(address, prefixLength: configuration.podCIDR.prefixLength, index: interfaceIndex,
                                     label: LabNetworkConfiguration.podInterfaceName),
            RouteMessages.addDefaultRoute(via: configuration.gateway, index: interfaceIndex,
                                          label: LabNetworkConfiguration.podInterfaceName),
        ]
    }
}
