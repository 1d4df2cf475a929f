import Glibc
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// Real namespaces, links, iptables and processes (root only).
@Suite(.enabled(if: NetworkTestSupport.available, "\(NetworkTestSupport.reason)"), .serialized)
struct NetworkSandboxTests {
    @Test func podsGetTheirOwnNetworkAndReachEachOther() async throws {
        try await TestLab.with { lab in
            let a = try await lab.sandboxes.create(for: TestLab.pod("web-a"))
            let b = try await lab.sandboxes.create(for: TestLab.pod("web-b", namespace: "shop"))
            #expect(a.ip == "10.44.0.2")
            #expect(b.ip == "10.44.0.3")
            #expect(try await lab.sandboxes.create(for: a.pod) == a)  // again: the same one
            #expect(await lab.sandboxes.sandboxes().map(\.pod) == [a.pod, b.pod])
            let names = Set(lab.namespaceNames)
            #expect(names == [lab.configuration.nodeNamespaceName, lab.configuration.podNamespaceName(a.pod),
                              lab.configuration.podNamespaceName(b.pod)])

            // Inside b: its address on eth0, a default route, its own files, its hostname.
            let inside = try TestLab.enter(b.enter(
                program: "sh", arguments: ["-c", "id -u; hostname; cat /etc/resolv.conf; grep web-b /etc/hosts; cat /proc/net/route"],
                userID: 65534, groupID: 65534, workingDirectory: "/"))
            #expect(inside.code == 0, "\(inside.stderr)")
            let lines = inside.stdout.split(separator: "\n").map(String.init)
            #expect(lines.prefix(6) == ["65534", "web-b", "nameserver 10.44.0.1",
                                        "search shop.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5",
                                        "10.44.0.3\tweb-b"])
            // /proc/net/route: a default route (destination 0) via 10.44.0.1 (little-endian hex 01002C0A) on eth0.
            #expect(lines.contains { $0.hasPrefix("eth0\t00000000\t01002C0A") })

            // a serves, b connects to a's pod IP.
            let output = lab.stateDirectory + "/server-a"
            let server = try TestLab.start(a.enter(program: NetworkTestSupport.python,
                                                   arguments: TestLab.serverScript() + ["8080", "a"],
                                                   userID: 65534, groupID: 65534, workingDirectory: nil), output: output)
            defer { TestLab.stop(server) }
            try await TestLab.waitFor("listening", in: output)
            let client = try TestLab.enter(b.enter(program: NetworkTestSupport.python,
                                                   arguments: TestLab.clientScript() + [a.ip, "8080", "5"],
                                                   userID: nil, groupID: nil, workingDirectory: nil))
            #expect(TestLab.counts(client.stdout) == ["a": 5], "\(client.stderr)")
            // And the gateway (the node) answers too: ping-free check via a refused TCP port.
            let gateway = try TestLab.enter(b.enter(program: NetworkTestSupport.python,
                                                    arguments: TestLab.clientScript() + ["10.44.0.1", "9", "1"],
                                                    userID: nil, groupID: nil, workingDirectory: nil))
            #expect(TestLab.counts(gateway.stdout) == ["refused": 1])

            // Destroy: netns, node link, folder and address go; twice is fine.
            TestLab.stop(server)
            let before = await lab.sandboxes.allocatedAddresses
            try await lab.sandboxes.destroy(a.pod)
            try await lab.sandboxes.destroy(a.pod)
            #expect(await lab.sandboxes.allocatedAddresses == before - 1)
            #expect(!lab.namespaceNames.contains(lab.configuration.podNamespaceName(a.pod)))
            #expect(try Files.kind(of: a.directory) == nil)
            #expect(await lab.sandboxes.sandboxes().map(\.pod) == [b.pod])
            // The node's end of a's pair goes with a's netns, in the background.
            func nodeLinks() throws -> String {
                try TestLab.enter(EnterRequest(networkNamespace: lab.node.namespacePath, program: "ip", arguments: ["-o", "link", "show"])).stdout
            }
            try await NetworkServiceProxyTests.eventually("a's node end is gone") {
                (try? nodeLinks().contains(LabNetworkConfiguration.nodeInterfaceName(a.pod))) == false
            }
            #expect(try nodeLinks().contains(LabNetworkConfiguration.nodeInterfaceName(b.pod)))

            // The same pod again at once (its old pair may still be on its way out): a whole new sandbox.
            let again = try await lab.sandboxes.create(for: a.pod)
            #expect(again.ip != a.ip)
            try await lab.sandboxes.destroy(a.pod)
            _ = try await lab.sandboxes.create(for: a.pod)
        }
    }

    @Test func clusterIPTrafficIsSpreadOverReadyEndpointsAndRejectedWithoutThem() async throws {
        try await TestLab.with { lab in
            let api = FakeServiceAPI()
            api.put("services", FakeServiceAPI.service("web", clusterIP: "10.96.0.50", port: 80, targetPort: "http"))
            api.put("services", FakeServiceAPI.service("empty", clusterIP: "10.96.0.51", port: 80, targetPort: 8080))
            let proxy = ServiceProxy(client: api.client)
            await lab.sandboxes.addObserver(proxy)
            let running = Task { try await proxy.run() }
            defer { running.cancel() }

            let a = try await lab.sandboxes.create(for: TestLab.pod("a"))
            let b = try await lab.sandboxes.create(for: TestLab.pod("b"))
            var servers: [ChildProcess] = []
            defer { servers.forEach(TestLab.stop) }
            for (sandbox, reply) in [(a, "a"), (b, "b")] {
                let output = lab.stateDirectory + "/server-" + reply
                servers.append(try TestLab.start(sandbox.enter(program: NetworkTestSupport.python,
                                                               arguments: TestLab.serverScript() + ["8080", reply],
                                                               userID: 65534, groupID: 65534, workingDirectory: nil),
                                                 output: output))
                try await TestLab.waitFor("listening", in: output)
            }
            // The named targetPort resolves through the Endpoints' port of that name.
            api.put("endpoints", FakeServiceAPI.endpoints("web", ips: [a.ip, b.ip], port: 8080))
            api.put("endpoints", FakeServiceAPI.endpoints("empty", ips: [], port: 8080))
            try await NetworkServiceProxyTests.eventually("both endpoints are in the rules") {
                await proxy.currentRules.ports.first { $0.name == "default/web:http" }?.endpoints.count == 2
            }

            // The client pod is made after: its rules come with it.
            let c = try await lab.sandboxes.create(for: TestLab.pod("c"))
            #expect(String(decoding: try Files.read(c.directory + "/service-rules"), as: UTF8.self).contains("10.96.0.50"))
            let spread = try TestLab.enter(c.enter(program: NetworkTestSupport.python,
                                                   arguments: TestLab.clientScript() + ["10.96.0.50", "80", "200"],
                                                   userID: 65534, groupID: 65534, workingDirectory: nil))
            let counts = TestLab.counts(spread.stdout)
            #expect(counts.keys.sorted() == ["a", "b"], "\(spread.stdout) \(spread.stderr)")
            // Each has 1/2 odds: fewer than 60 of 200 happens with probability < 1e-8.
            #expect((counts["a"] ?? 0) >= 60 && (counts["b"] ?? 0) >= 60, "\(counts)")

            let rejected = try TestLab.enter(c.enter(program: NetworkTestSupport.python,
                                                     arguments: TestLab.clientScript() + ["10.96.0.51", "80", "3"],
                                                     userID: nil, groupID: nil, workingDirectory: nil))
            #expect(TestLab.counts(rejected.stdout) == ["refused": 3], "\(rejected.stdout)")

            // The sidecar's init step adds its own chain before ours; an update keeps it.
            let istio = try TestLab.enter(EnterRequest(networkNamespace: c.networkNamespace, program: "sh", arguments: ["-c",
                "iptables -t nat -N ISTIO_TEST && iptables -t nat -A ISTIO_TEST -j RETURN && iptables -t nat -I OUTPUT 1 -p tcp -j ISTIO_TEST"]))
            #expect(istio.code == 0, "\(istio.stderr)")
            let staleChain = try #require(await proxy.currentRules.ports.first { $0.name == "default/web:http" }
                .map { $0.endpointChain(.init(ip: b.ip, port: 8080)) })
            api.put("endpoints", FakeServiceAPI.endpoints("web", ips: [a.ip], port: 8080))
            try await NetworkServiceProxyTests.eventually("b left the rules everywhere") {
                let rules = await proxy.currentRules
                let synced = await proxy.isSynced(c.pod)
                return synced && rules.ports.first { $0.name == "default/web:http" }?.endpoints.count == 1
            }
            let onlyA = try TestLab.enter(c.enter(program: NetworkTestSupport.python,
                                                  arguments: TestLab.clientScript() + ["10.96.0.50", "80", "20"],
                                                  userID: nil, groupID: nil, workingDirectory: nil))
            #expect(TestLab.counts(onlyA.stdout) == ["a": 20])
            let saved = try TestLab.enter(EnterRequest(networkNamespace: c.networkNamespace, program: "iptables-save",
                                                       arguments: ["-t", "nat"]))
            let output = saved.stdout.split(separator: "\n").filter { $0.hasPrefix("-A OUTPUT") }
            #expect(output.count == 2)
            #expect(output.first?.hasSuffix("-j ISTIO_TEST") == true)  // still first
            #expect(output.last?.hasSuffix("-j MESHLAB-SERVICES") == true)
            #expect(saved.stdout.contains("-A ISTIO_TEST -j RETURN"))
            #expect(!saved.stdout.contains(staleChain))
        }
    }

    @Test func theHostNetworkIsTheSameBeforeAndAfter() async throws {
        let before = try HostNetworkState.capture()
        try await TestLab.with { lab in
            let a = try await lab.sandboxes.create(for: TestLab.pod("a"))
            let applier = ServiceRulesApplier()
            let rules = ServiceRules(ports: [ServicePortRule(name: "default/web", clusterIP: "10.96.0.7", port: 80, proto: "tcp",
                                                             endpoints: [.init(ip: a.ip, port: 8080)])])
            try await applier.load(rules.restoreInput(over: .empty), into: a)
            try await lab.sandboxes.destroy(a.pod)
            _ = try await lab.sandboxes.create(for: TestLab.pod("b"))
            // b is left for the sweep, as `meshlab down` finds a lab.
        }
        let after = try HostNetworkState.capture()
        for (name, text) in before.outputs {
            #expect(after.outputs[name] == text, "\(name) changed:\n\(Golden.firstDifference(expected: text, actual: after.outputs[name] ?? ""))")
        }
    }

    @Test func theSweepRemovesACrashedLab() async throws {
        let configuration = LabNetworkConfiguration(prefix: NetworkTestSupport.uniquePrefix())
        let state = try Files.makeTemporaryDirectory(prefix: "meshlab-nettest")
        defer { try? Files.removeTree(state) }
        let pods = state + "/pods"
        var children: [ChildProcess] = []
        defer { children.forEach(TestLab.stop) }
        do {
            let node = try await NodeNetwork.create(configuration)
            let sandboxes = NetworkSandboxProvider(configuration: configuration, podsDirectory: pods)
            let a = try await sandboxes.create(for: TestLab.pod("a"))
            _ = try await sandboxes.create(for: TestLab.pod("b"))
            // A stubborn process in a pod (ignores SIGTERM) and one in the node, as a crashed daemon leaves them.
            children.append(try TestLab.start(a.enter(program: "sh", arguments: ["-c", "trap '' TERM; echo up; while :; do sleep 1; done"],
                                                      userID: nil, groupID: nil, workingDirectory: nil),
                                              output: state + "/pod-process"))
            children.append(try TestLab.start(node.daemonEnterRequest(program: "sh", arguments: ["-c", "echo up; exec sleep 300"]),
                                              output: state + "/node-process"))
            try await TestLab.waitFor("up", in: state + "/pod-process")
            try await TestLab.waitFor("up", in: state + "/node-process")
            // A pinned-file leftover with no namespace behind it (a crash between open and mount).
            try Files.open(configuration.namespaceDirectory + "/" + configuration.prefix + "-halfmade", .createNew, mode: 0).close()
        } catch {
            _ = await LabSweep.sweep(configuration, podsDirectory: pods, grace: .zero)
            throw error
        }

        let report = await LabSweep.sweep(configuration, podsDirectory: pods, grace: .milliseconds(300))
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(Set(children.map(\.pid)).isSubset(of: Set(report.stoppedProcesses)), "\(report.stoppedProcesses)")
        #expect(Set(report.removedNamespaces) == Set([
            configuration.nodeNamespaceName, configuration.podNamespaceName(TestLab.pod("a")),
            configuration.podNamespaceName(TestLab.pod("b")), configuration.prefix + "-halfmade",
        ]))
        #expect(report.removedPodFolders.count == 2)
        #expect(NamedNetworkNamespaces.names(in: configuration.namespaceDirectory).filter(configuration.isLabNamespace).isEmpty)
        #expect(try Files.directoryEntries(pods).isEmpty)
        // The pod's process ignored SIGTERM and was killed; the node's one stopped on SIGTERM.
        #expect(try children[0].wait() == .signaled(.kill))
        #expect(try children[1].wait() == .signaled(.terminate))
        children.removeAll()

        let again = await LabSweep.sweep(configuration, podsDirectory: pods)
        #expect(again.isEmpty && again.errors.isEmpty, "\(again)")
    }

    @Test func aRestartedProviderAdoptsKnownPodsAndSweepsTheRest() async throws {
        try await TestLab.with { lab in
            let a = try await lab.sandboxes.create(for: TestLab.pod("a"))
            let gone = try await lab.sandboxes.create(for: TestLab.pod("gone"))
            // A crash mid-create: a record that never became complete.
            let half = TestLab.pod("half")
            let halfDirectory = lab.podsDirectory + "/" + SandboxRecord.directoryName(half)
            try Files.makeDirectories(halfDirectory)
            try SandboxRecord(pod: half, namespaceName: lab.configuration.podNamespaceName(half), nodeInterface: "mlvx",
                              ip: "10.44.0.20", hostname: "half", complete: false).write(in: halfDirectory)

            // The daemon restarts: a new provider, told which pods the store has.
            let restarted = NetworkSandboxProvider(configuration: lab.configuration, podsDirectory: lab.podsDirectory)
            let waiting = TestLab.pod("waiting")  // in the store with an IP, its sandbox lost
            let report = await restarted.recover(pods: [a.pod: a.ip, half: "10.44.0.20", waiting: "10.44.0.30"])
            #expect(report.adopted == [a])
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(Set(report.removed) == [lab.configuration.podNamespaceName(gone.pod), lab.configuration.podNamespaceName(half)])
            #expect(Set(lab.namespaceNames) == [lab.configuration.nodeNamespaceName, lab.configuration.podNamespaceName(a.pod)])
            #expect(try Files.kind(of: gone.directory) == nil)
            #expect(await restarted.sandboxes() == [a])

            // Addresses: a's is taken, the waiting pod gets its own back, a new pod a fresh one.
            let fresh = try await restarted.create(for: TestLab.pod("fresh"))
            #expect(fresh.ip != a.ip && fresh.ip != "10.44.0.30")
            let back = try await restarted.create(for: waiting)
            #expect(back.ip == "10.44.0.30")
            // The adopted sandbox still works: fresh reaches a.
            let output = lab.stateDirectory + "/server"
            let server = try TestLab.start(a.enter(program: NetworkTestSupport.python, arguments: TestLab.serverScript() + ["8080", "a"],
                                                   userID: nil, groupID: nil, workingDirectory: nil), output: output)
            defer { TestLab.stop(server) }
            try await TestLab.waitFor("listening", in: output)
            let client = try TestLab.enter(fresh.enter(program: NetworkTestSupport.python,
                                                       arguments: TestLab.clientScript() + [a.ip, "8080", "2"],
                                                       userID: nil, groupID: nil, workingDirectory: nil))
            #expect(TestLab.counts(client.stdout) == ["a": 2])
        }
    }

    @Test func creatingTheNodeTwiceSaysTheLabExists() async throws {
        try await TestLab.with { lab in
            await #expect(throws: NodeNetwork.Failure.self) { try await NodeNetwork.create(lab.configuration) }
            #expect(lab.node.exists)
        }
    }

    /// Per-pod setup time, for the report (`MESHLAB_BENCH=1`): no assertion on time.
    @Test(.enabled(if: getenv("MESHLAB_BENCH") != nil, "set MESHLAB_BENCH=1 to measure"))
    func measurePodSetup() async throws {
        try await TestLab.with { lab in
            let api = FakeServiceAPI()
            for n in 0..<20 {
                api.put("services", FakeServiceAPI.service("s\(n)", clusterIP: "10.96.1.\(n)", port: 80, targetPort: 8080))
                api.put("endpoints", FakeServiceAPI.endpoints("s\(n)", ips: ["10.44.9.1", "10.44.9.2"], port: 8080))
            }
            let proxy = ServiceProxy(client: api.client)
            let running = Task { try await proxy.run() }
            defer { running.cancel() }
            try await NetworkServiceProxyTests.eventually("rules") { await proxy.currentRules.ports.count == 20 }
            let count = 20
            let clock = ContinuousClock()
            var network: [Duration] = []
            for n in 0..<count {
                let start = clock.now
                _ = try await lab.sandboxes.create(for: TestLab.pod("bench-\(n)"))
                network.append(clock.now - start)
            }
            var rules: [Duration] = []
            for sandbox in await lab.sandboxes.sandboxes() {
                let start = clock.now
                try await proxy.sandboxCreated(sandbox)
                rules.append(clock.now - start)
            }
            var teardown: [Duration] = []
            for sandbox in await lab.sandboxes.sandboxes() {
                let start = clock.now
                try await lab.sandboxes.destroy(sandbox.pod)
                teardown.append(clock.now - start)
            }
            func summary(_ values: [Duration]) -> String {
                let ms = values.map { Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000 }.sorted()
                return "mean \(ms.reduce(0, +) / Double(ms.count)) ms, median \(ms[ms.count / 2]) ms, max \(ms.last!) ms"
            }
            print("pod network setup (netns, veth, address, route, files): \(summary(network))")
            print("service rules first load (20 services, iptables-restore): \(summary(rules))")
            print("pod network teardown: \(summary(teardown))")
        }
    }
}

/// The host's network as `ip`, `iptables-save` and `nft` print it, minus
/// what changes by itself (timestamps) and the netns of tests running now.
struct HostNetworkState {
    var outputs: [String: String]

    static func capture() throws -> HostNetworkState {
        let commands: [(String, [String])] = [
            ("ip", ["route"]), ("ip", ["-6", "route"]), ("ip", ["addr"]), ("ip", ["link"]), ("iptables-save", []),
            ("nft", ["list", "ruleset"]), ("ip", ["netns", "list"]),
        ]
        var outputs: [String: String] = [:]
        for (program, arguments) in commands {
            let result = try TestLab.enter(EnterRequest(program: program, arguments: arguments))
            guard result.code == 0 else { continue }  // a tool this machine lacks
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter {
                !$0.hasPrefix("# ") && !$0.hasPrefix("mlt")  // iptables-save's timestamps; test netns
            }
            outputs[([program] + arguments).joined(separator: " ")] = lines.joined(separator: "\n")
        }
        return HostNetworkState(outputs: outputs)
    }
}
