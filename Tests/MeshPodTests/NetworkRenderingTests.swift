import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// Everything the network part renders, against golden files (Testdata/).
@Suite struct NetworkRenderingTests {
    static let configuration = LabNetworkConfiguration()
    static let pod = PodIdentity(namespace: "default", name: "reviews-v1-7d4b9c", uid: "3f2a9c1e-0b7d-4e55-9a61-2c8f0e4d1b7a")

    @Test func nodeNetworkRequests() throws {
        let node = NodeNetwork(configuration: Self.configuration)
        let requests = node.setupRequests() + [node.gatewayAddressRequest(bridgeIndex: 2)]
        try Golden.check(requests.map(RouteMessages.describe).joined(separator: "\n"), against: "netlink/node.txt")
    }

    @Test func podNetworkRequests() throws {
        let record = SandboxRecord(
            pod: Self.pod, namespaceName: Self.configuration.podNamespaceName(Self.pod),
            nodeInterface: LabNetworkConfiguration.nodeInterfaceName(Self.pod), ip: "10.44.0.7", hostname: "reviews-v1-7d4b9c",
            complete: true)
        let requests = PodNetworkRequests(configuration: Self.configuration, record: record, bridgeIndex: 2)
        let all = [requests.vethPair(podNamespaceDescriptor: 9)] + requests.podLinks()
            + requests.podAddressAndRoute(interfaceIndex: 3) + [RouteMessages.deleteLink(name: record.nodeInterface)]
        try Golden.check(all.map(RouteMessages.describe).joined(separator: "\n"), against: "netlink/pod.txt")
    }

    @Test func podResolvConf() throws {
        try Golden.check(PodFiles.resolvConf(podNamespace: "bookinfo", nameserver: "10.44.0.1"), against: "pod-files/resolv.conf")
    }

    @Test func podHosts() throws {
        try Golden.check(PodFiles.hosts(podIP: "10.44.0.7", hostname: "reviews-v1-7d4b9c"), against: "pod-files/hosts")
    }

    @Test func names() {
        let configuration = Self.configuration
        #expect(configuration.nodeNamespaceName == "meshlab-node")
        #expect(configuration.podNamespaceName(Self.pod) == "meshlab-default-reviews-v1-7d4b9c-3f2a9c1e")
        #expect(LabNetworkConfiguration.nodeInterfaceName(Self.pod).count == 15)
        #expect(LabNetworkConfiguration.nodeInterfaceName(Self.pod).hasPrefix("mlv"))
        // A different uid is a different pod: different names.
        var again = Self.pod
        again.uid = "9999"
        #expect(LabNetworkConfiguration.nodeInterfaceName(again) != LabNetworkConfiguration.nodeInterfaceName(Self.pod))
        #expect(configuration.podNamespaceName(again) == "meshlab-default-reviews-v1-7d4b9c-9999")

        // Long names are cut to fit; odd characters become '-'.
        let long = PodIdentity(namespace: "team_a", name: String(repeating: "x", count: 250), uid: "ABCDEF12-3456")
        let name = configuration.podNamespaceName(long)
        #expect(name.count == LabNetworkConfiguration.maxNamespaceNameLength)
        #expect(name.hasPrefix("meshlab-team-a-xxx"))
        #expect(name.hasSuffix("-abcdef12"))
        #expect(configuration.isLabNamespace(name))
        #expect(!configuration.isLabNamespace("meshlabx-node"))
        #expect(NetworkSandboxProvider.hostname(String(repeating: "a", count: 62) + "-b-c") == String(repeating: "a", count: 62))
        #expect(SandboxRecord.directoryName(Self.pod) == "default_reviews-v1-7d4b9c_3f2a9c1e-0b7d-4e55-9a61-2c8f0e4d1b7a")
    }

    @Test func sandboxRecordRoundTripsAndRefusesStrangers() throws {
        let record = SandboxRecord(pod: Self.pod, namespaceName: "meshlab-x", nodeInterface: "mlv0", ip: "10.44.0.2",
                                   hostname: "x", complete: false)
        #expect(SandboxRecord(json: record.json) == record)
        #expect(SandboxRecord(json: ["netns": "../../etc"]) == nil)
        var escaping = record.json.objectValue!
        escaping["netns"] = "../../etc/passwd"
        #expect(SandboxRecord(json: .object(escaping)) == nil)
    }

    // MARK: Service rules

    static func service(_ namespace: String, _ name: String, clusterIP: String?, ports: [JSONValue],
                        type: String = "ClusterIP") throws -> MeshModel.Service {
        var spec: JSONObject = ["ports": .array(ports), "type": .string(type)]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        if type == "ExternalName" { spec["externalName"] = "example.com" }
        return try ResourceCodec.decode(MeshModel.Service.self, from: [
            "metadata": ["namespace": .string(namespace), "name": .string(name)], "spec": .object(spec),
        ])
    }

    static func endpoints(_ namespace: String, _ name: String, subsets: [JSONValue]) throws -> Endpoints {
        try ResourceCodec.decode(Endpoints.self, from: [
            "metadata": ["namespace": .string(namespace), "name": .string(name)], "subsets": .array(subsets),
        ])
    }

    /// bookinfo-like: reviews with three endpoints and a named targetPort,
    /// ratings with none, a two-port service (tcp and udp), a headless and an
    /// ExternalName service (no rules), and endpoints that are not ready.
    static func sampleRules() throws -> ServiceRules {
        let services = [
            try service("default", "reviews", clusterIP: "10.96.0.20",
                        ports: [["name": "http", "port": 9080, "targetPort": "http-alt"]]),
            try service("default", "ratings", clusterIP: "10.96.0.21", ports: [["name": "http", "port": 9080]]),
            try service("kube-system", "dns", clusterIP: "10.96.0.10",
                        ports: [["name": "dns-tcp", "port": 53, "protocol": "TCP"],
                                ["name": "dns", "port": 53, "protocol": "UDP"]]),
            try service("default", "headless", clusterIP: "None", ports: [["port": 80]]),
            try service("default", "external", clusterIP: nil, ports: [], type: "ExternalName"),
        ]
        let endpoints = [
            try endpoints("default", "reviews", subsets: [
                ["addresses": [["ip": "10.44.0.12"], ["ip": "10.44.0.9"]], "notReadyAddresses": [["ip": "10.44.0.30"]],
                 "ports": [["name": "http", "port": 9081]]],
                ["addresses": [["ip": "10.44.0.15"]], "ports": [["name": "http", "port": 9081]]],
            ]),
            try endpoints("default", "ratings", subsets: [["notReadyAddresses": [["ip": "10.44.0.40"]],
                                                          "ports": [["name": "http", "port": 9080]]]]),
            try endpoints("kube-system", "dns", subsets: [
                ["addresses": [["ip": "10.44.0.1"]],
                 "ports": [["name": "dns-tcp", "port": 53, "protocol": "TCP"], ["name": "dns", "port": 53, "protocol": "UDP"]]],
            ]),
            try endpoints("default", "headless", subsets: [["addresses": [["ip": "10.44.0.50"]], "ports": [["port": 80]]]]),
        ]
        return ServiceRules(services: services, endpoints: endpoints)
    }

    @Test func firstLoadOfASandbox() throws {
        let rules = try Self.sampleRules()
        #expect(rules.ports.map(\.name) == ["default/ratings:http", "default/reviews:http", "kube-system/dns:dns",
                                           "kube-system/dns:dns-tcp"])
        #expect(rules.ports[1].endpoints.map(\.description) == ["10.44.0.9:9081", "10.44.0.12:9081", "10.44.0.15:9081"])
        try Golden.check(rules.restoreInput(over: .empty), against: "service-rules/first-load.rules")
    }

    @Test func updateRemovesStaleChainsAndLeavesTheJumps() throws {
        let before = try Self.sampleRules()
        // reviews loses 10.44.0.12, dns goes away.
        let after = ServiceRules(ports: before.ports.compactMap { port in
            if port.name.hasPrefix("kube-system/") { return nil }
            var port = port
            port.endpoints.removeAll { $0.ip == "10.44.0.12" }
            return port
        })
        let input = after.restoreInput(over: before.installedState)
        #expect(!input.contains("-A OUTPUT"))
        try Golden.check(input, against: "service-rules/update.rules")
        #expect(after.installedState.chains.isSubset(of: before.installedState.chains))
    }

    @Test func everyChainNameFitsIptables() throws {
        for chain in try Self.sampleRules().natChains { #expect(chain.count <= 28) }
    }

    @Test(arguments: [(1, 3, "0.3333333333"), (1, 2, "0.5000000000"), (1, 7, "0.1428571429"), (1, 1, "1.0000000000")])
    func probabilities(numerator: Int, denominator: Int, text: String) {
        #expect(ServiceRules.probability(numerator, denominator) == text)
    }

    @Test func installedStateIsReadFromIptablesSave() throws {
        let save = try Golden.read("service-rules/pod-save.txt")
        let state = ServiceRules.installedState(fromSave: save)
        #expect(state.natJump)
        #expect(!state.filterJump)
        #expect(state.chains == ["MESHLAB-SVC-0123456789ABCDEF", "MESHLAB-SEP-FEDCBA9876543210"])
        #expect(ServiceRules.installedState(fromSave: "") == .empty)
    }

    // MARK: Preflight

    static func facts(uid: UInt32 = 0, programs: Set<String> = ["iptables-restore", "iptables-save"],
                      netns: Bool = true, writable: Bool = true) -> Preflight.Facts {
        Preflight.Facts(effectiveUserID: uid, programs: programs, networkNamespacesSupported: netns,
                        namespaceDirectoryWritable: writable, namespaceDirectory: "/run/netns")
    }

    @Test func preflightSaysWhatIsMissingAndHowToGetIt() {
        #expect(Preflight.problems(Self.facts()).isEmpty)
        #expect(Preflight.problems(Self.facts(uid: 1000)).map(\.message) ==
            ["meshlab up needs root for network namespaces: run it with sudo"])
        #expect(Preflight.problems(Self.facts(programs: ["iptables-save"])).map(\.message) ==
            ["iptables-restore not found in PATH: apt-get install iptables (or dnf install iptables-nft)"])
        let all = Preflight.problems(Self.facts(programs: [], netns: false, writable: false)).map(\.message)
        #expect(all.count == 4)
        #expect(all[0].hasPrefix("this kernel has no network namespaces"))
        #expect(all[1].hasPrefix("/run/netns is not writable"))
    }

    @Test func preflightFactsOfThisMachine() {
        let facts = Preflight.Facts.gather(namespaceDirectory: "/tmp/meshlab-preflight-probe/netns", path: "/nonexistent")
        #expect(facts.effectiveUserID == CurrentProcess.effectiveUserID)
        #expect(facts.networkNamespacesSupported)
        #expect(facts.namespaceDirectoryWritable)  // /tmp, where it would be made
        // Not in the given PATH, but in the sbin directories root's programs live in.
        #expect(facts.programs.contains("iptables-restore") == (Preflight.locate("iptables-restore") != nil))
    }
}
