import Glibc
import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// `meshlab pod-init` for real, in a pod netns of a lab of the test's own,
/// next to the kube-proxy role's service rules (root only).
@Suite(.enabled(if: NetworkTestSupport.available, "\(NetworkTestSupport.reason)"), .serialized)
struct CaptureNetworkTests {
    static func podInit(_ sandbox: PodSandbox, _ arguments: [String]) throws -> MeshlabProcess.Result {
        try TestLab.enter(EnterRequest(networkNamespace: sandbox.networkNamespace, program: try MeshlabProcess.binary(),
                                       arguments: ["pod-init"] + arguments))
    }

    static func natRules(_ sandbox: PodSandbox) throws -> [String] {
        let saved = try TestLab.enter(EnterRequest(networkNamespace: sandbox.networkNamespace, program: "iptables-save",
                                                   arguments: ["-t", "nat"]))
        return saved.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") || $0.hasPrefix(":") }
    }

    @Test func appTrafficGoesToTheSidecarWithItsOriginalDestinationAndTheSidecarsOwnIsNot() async throws {
        // The rules live in the pod's netns and go with it: the host's routes, links and rules never change.
        let before = try HostNetworkState.capture()
        defer {
            let after = try? HostNetworkState.capture()
            for (name, text) in before.outputs {
                #expect(after?.outputs[name] == text, "\(name) changed:\n\(Golden.firstDifference(expected: text, actual: after?.outputs[name] ?? ""))")
            }
        }
        try await TestLab.with { lab in
            let a = try await lab.sandboxes.create(for: TestLab.pod("a"))
            let c = try await lab.sandboxes.create(for: TestLab.pod("c"))
            let output = lab.stateDirectory + "/server-a"
            let server = try TestLab.start(a.enter(program: NetworkTestSupport.python, arguments: TestLab.serverScript() + ["8080", "a"],
                                                   userID: 65534, groupID: 65534, workingDirectory: nil), output: output)
            defer { TestLab.stop(server) }
            try await TestLab.waitFor("listening", in: output)
            // The kube-proxy role's rules first, as a sandbox gets them.
            let service = ServiceRules(ports: [ServicePortRule(name: "default/web", clusterIP: "10.96.0.50", port: 80, proto: "tcp",
                                                               endpoints: [.init(ip: a.ip, port: 8080)])])
            try await ServiceRulesApplier().load(service.restoreInput(over: .empty), into: c)

            let first = try Self.podInit(c, injectedDefaultArguments)
            #expect(first.code == 0, "\(first.stderr)")
            #expect(first.stdout.contains("pod-init: applied 18 rules"), "\(first.stdout)")
            let rules = try Self.natRules(c)
            let expected = try CaptureRules(CaptureConfiguration.parse(injectedDefaultArguments)).rules
                .filter { !$0.isInBuiltInChain }.map(\.description)
            // iptables-save prints rules its own way (`-m tcp` added, `-s` before `-o`): count them here,
            // and let `--run-validation` (iptables -C of each rule) check them one by one below.
            #expect(rules.filter { $0.hasPrefix("-A ISTIO_") }.count == expected.count, "\(rules.joined(separator: "\n"))")
            #expect(rules.contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"))
            #expect(rules.contains("-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN"))
            #expect(rules.contains("-A ISTIO_OUTPUT -j ISTIO_REDIRECT"))
            // Ours first in OUTPUT, the service portal after.
            #expect(rules.filter { $0.hasPrefix("-A OUTPUT") } == [
                "-A OUTPUT -j ISTIO_OUTPUT", "-A OUTPUT -m comment --comment \"meshlab service portals\" -j MESHLAB-SERVICES",
            ])
            #expect(rules.filter { $0.hasPrefix("-A PREROUTING") } == ["-A PREROUTING -p tcp -j ISTIO_INBOUND"])

            // A "sidecar" listening on 15001 in c's netns.
            let thread = try NamespaceThread(name: "capture-test")
            let netns = try #require(c.networkNamespace)
            let listener = try await thread.run { () throws -> FileDescriptor in
                try Namespaces.enter(netns, kind: .network)
                let fd = try Sockets.makeSocket(family: AF_INET, kind: .stream, nonBlocking: false)
                try Sockets.setReuseAddress(fd)
                try Sockets.bind(fd, to: try SocketAddress(parsing: "0.0.0.0:15001"))
                try Sockets.listen(fd, backlog: 16)
                return fd
            }
            defer { try? listener.close() }
            func acceptOne() async throws -> SocketAddress? {
                try await thread.run { () throws -> SocketAddress? in
                    guard try Posix.waitReadable(listener, timeoutMilliseconds: 5000),
                        case .done(let (connection, _)) = try Sockets.accept(listener)
                    else { return nil }
                    defer { try? connection.close() }
                    let original = try Sockets.originalDestination(of: connection)
                    _ = try Sockets.send(connection, Array("sidecar\n".utf8)[...])
                    return original
                }
            }

            // The app (uid 65534) calls the ClusterIP: it reaches the sidecar, which sees where it was going.
            let appOutput = lab.stateDirectory + "/app-client"
            let app = try TestLab.start(c.enter(program: NetworkTestSupport.python,
                                                arguments: TestLab.clientScript() + ["10.96.0.50", "80", "1"],
                                                userID: 65534, groupID: 65534, workingDirectory: nil), output: appOutput)
            defer { TestLab.stop(app) }
            let original = try await acceptOne()
            #expect(original == (try SocketAddress(parsing: "10.96.0.50:80")))
            _ = try app.wait()
            #expect(TestLab.counts(String(decoding: try Files.read(appOutput), as: UTF8.self)) == ["sidecar": 1])
            // Anywhere else too (ALLOW_ANY is the sidecar's business): a pod IP.
            let direct = try TestLab.start(c.enter(program: NetworkTestSupport.python,
                                                   arguments: TestLab.clientScript() + [a.ip, "8080", "1"],
                                                   userID: 65534, groupID: 65534, workingDirectory: nil), output: appOutput + "2")
            defer { TestLab.stop(direct) }
            #expect(try await acceptOne() == (try SocketAddress(parsing: "\(a.ip):8080")))
            _ = try direct.wait()

            // The sidecar's own traffic (uid 1337) is not captured, and still meets the service DNAT.
            let proxy = try TestLab.enter(c.enter(program: NetworkTestSupport.python,
                                                  arguments: TestLab.clientScript() + ["10.96.0.50", "80", "3"],
                                                  userID: 1337, groupID: 1337, workingDirectory: nil))
            #expect(TestLab.counts(proxy.stdout) == ["a": 3], "\(proxy.stdout) \(proxy.stderr)")
            let proxyDirect = try TestLab.enter(c.enter(program: NetworkTestSupport.python,
                                                        arguments: TestLab.clientScript() + [a.ip, "8080", "2"],
                                                        userID: 1337, groupID: 1337, workingDirectory: nil))
            #expect(TestLab.counts(proxyDirect.stdout) == ["a": 2])

            // Again (an init container run twice in one sandbox): nothing changes; validation passes.
            let again = try Self.podInit(c, injectedDefaultArguments + ["--run-validation"])
            #expect(again.code == 0, "\(again.stderr)")
            #expect(again.stdout.contains("in place already") && again.stdout.contains("validation passed"), "\(again.stdout)")
            #expect(try Self.natRules(c) == rules)
            // Different flags: the old rules go first.
            let changed = try Self.podInit(c, injectedDefaultArguments + ["-o", "9999"])
            #expect(changed.stdout.contains("replaced earlier rules"), "\(changed.stdout) \(changed.stderr)")
            #expect(try Self.natRules(c).filter { $0.hasPrefix("-A OUTPUT") }.count == 2)
            // The cleanup form leaves the service rules alone.
            let cleaned = try Self.podInit(c, injectedDefaultArguments + ["-o", "9999", "--cleanup-only"])
            #expect(cleaned.code == 0, "\(cleaned.stderr)")
            let left = try Self.natRules(c)
            #expect(!left.contains { $0.contains("ISTIO") }, "\(left)")
            #expect(left.contains { $0.hasPrefix("-A OUTPUT") && $0.hasSuffix("-j MESHLAB-SERVICES") })
            // Validation with nothing in place fails as istio-iptables' does.
            let invalid = try Self.podInit(c, injectedDefaultArguments + ["--skip-rule-apply", "--run-validation"])
            #expect(invalid.code == 126)
        }
    }
}
