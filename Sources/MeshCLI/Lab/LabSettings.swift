import MeshControlPlane
import MeshModel
import MeshPod
import MeshSystem

/// How a lab was started, kept in the state directory (`lab.json`) so that
/// `down`, a restarted daemon and the sweep after a crash find the same
/// names and networks the lab was made with.
struct LabSettings: Sendable, Equatable {
    /// `netns` (pods in network namespaces) or `control-plane` (the API alone).
    var mode: String
    /// The prefix of every netns name the lab makes (`meshlab-node`, `meshlab-<pod>`).
    var networkPrefix: String
    var podCIDR: IPv4CIDR
    var serviceCIDR: IPv4CIDR

    static let netns = "netns"
    static let controlPlane = "control-plane"

    static let defaults = LabSettings(
        mode: netns, networkPrefix: LabNetworkConfiguration.defaultPrefix,
        podCIDR: LabNetworkConfiguration.defaultPodCIDR, serviceCIDR: APIServerOptions.defaultServiceCIDR)

    var runsPods: Bool { mode == Self.netns }

    var network: LabNetworkConfiguration { LabNetworkConfiguration(prefix: networkPrefix, podCIDR: podCIDR) }

    /// What the daemon publishes: the node netns, networks and DNS address.
    var published: DaemonInfo.Network {
        DaemonInfo.Network(nodeNamespace: network.nodeNamespacePath, podCIDR: podCIDR.description,
                           serviceCIDR: serviceCIDR.description, dnsAddress: network.nameserver)
    }

    static func path(_ state: StateDirectory) -> String { state.path + "/lab.json" }
    static func podsDirectory(_ state: StateDirectory) -> String { state.path + "/pods" }
    static func agentDirectory(_ state: StateDirectory) -> String { state.path + "/agent" }

    var json: JSONValue {
        ["mode": .string(mode), "networkPrefix": .string(networkPrefix), "podCIDR": .string(podCIDR.description),
         "serviceCIDR": .string(serviceCIDR.description)]
    }

    func write(to state: StateDirectory) throws {
        try Files.writeAtomically(Self.path(state), json.serialized(.kubectl).utf8.map { $0 } + [0x0A], mode: 0o600)
    }

    /// The settings of the last `up` in this state directory, or nil when there was none.
    static func read(_ state: StateDirectory) -> LabSettings? {
        guard let bytes = try? Files.read(path(state)), let json = try? JSONValue(parsing: bytes),
            let mode = json["mode"]?.stringValue, let prefix = json["networkPrefix"]?.stringValue,
            let pods = json["podCIDR"]?.stringValue.flatMap(IPv4CIDR.init),
            let services = json["serviceCIDR"]?.stringValue.flatMap(IPv4CIDR.init)
        else { return nil }
        return LabSettings(mode: mode, networkPrefix: prefix, podCIDR: pods, serviceCIDR: services)
    }

    /// The command-line options that choose these settings, shared by `up` and `daemon`.
    static let specs: [ArgumentSpec] = [
        .option("mode", valueName: "mode", help: "netns: pods in network namespaces (needs root); control-plane: the API alone.",
                default: netns, choices: [netns, controlPlane]),
        .option("pod-cidr", valueName: "cidr", help: "Where pod IPs come from.", default: defaults.podCIDR.description),
        .option("service-cidr", valueName: "cidr", help: "Where Service ClusterIPs come from.",
                default: defaults.serviceCIDR.description),
        .option("network-prefix", valueName: "prefix", help: "Prefix of the lab's netns names (for running labs side by side).",
                default: defaults.networkPrefix, hidden: true),
    ]

    init(mode: String, networkPrefix: String, podCIDR: IPv4CIDR, serviceCIDR: IPv4CIDR) {
        self.mode = mode
        self.networkPrefix = networkPrefix
        self.podCIDR = podCIDR
        self.serviceCIDR = serviceCIDR
    }

    init(_ arguments: ParsedArguments) throws(UsageError) {
        mode = arguments.option("mode") ?? Self.netns
        networkPrefix = arguments.option("network-prefix") ?? Self.defaults.networkPrefix
        guard networkPrefix.count <= 20, networkPrefix.allSatisfy({ $0.isLetter || $0.isNumber }), !networkPrefix.isEmpty else {
            throw UsageError("--network-prefix: \"\(networkPrefix)\" must be 1 to 20 letters or digits")
        }
        guard let pods = IPv4CIDR(arguments.option("pod-cidr") ?? ""), pods.prefixLength <= 28 else {
            throw UsageError("--pod-cidr: \"\(arguments.option("pod-cidr") ?? "")\" is not an IPv4 network of /28 or wider")
        }
        guard let services = IPv4CIDR(arguments.option("service-cidr") ?? ""), services.prefixLength <= 28 else {
            throw UsageError("--service-cidr: \"\(arguments.option("service-cidr") ?? "")\" is not an IPv4 network of /28 or wider")
        }
        guard !pods.contains(services.network) && !services.contains(pods.network) else {
            throw UsageError("--pod-cidr \(pods) and --service-cidr \(services) overlap")
        }
        podCIDR = pods
        serviceCIDR = services
    }

    /// Ordered list of arguments that recreate these settings on a command line.
    var arguments: [String] {
        ["--mode", mode, "--network-prefix", networkPrefix, "--pod-cidr", podCIDR.description,
         "--service-cidr", serviceCIDR.description]
    }
}
