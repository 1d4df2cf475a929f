import FoundationEssentials
@testable import MeshControlPlane
import MeshIO
import MeshSystem
import Testing

/// Real resolvers against the server: dig (BIND's, from Debian's dnsutils) and glibc's
/// stub resolver. Skipped with a reason where the tool or privilege is missing.
enum DNSPeers {
    static func which(_ program: String) -> String? {
        for directory in ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"] {
            let path = directory + "/" + program
            if (try? Files.kind(of: path)) == .regular { return path }
        }
        return nil
    }

    static let dig = which("dig")
    static let timeout = which("timeout")

    /// Root, and `unshare -m` can bind-mount over /etc/resolv.conf in a private mount
    /// namespace (not in every container).
    static let canFakeResolvConf: Bool = {
        guard CurrentProcess.effectiveUserID == 0, let unshare = which("unshare"), which("getent") != nil,
            let timeout else { return false }
        var spawn = SpawnConfiguration(executable: timeout, arguments: [
            "10", unshare, "-m", "sh", "-c", "mount --bind /etc/resolv.conf /etc/resolv.conf",
        ])
        spawn.standardOutput = .null
        spawn.standardError = .null
        return (try? ChildProcess.spawn(spawn).wait().isSuccess) ?? false
    }()

    struct Output {
        var status: MeshSystem.ExitStatus
        var text: String
    }

    /// Runs `arguments` (under `timeout 30`), stdout and stderr together, without blocking a thread.
    static func run(_ arguments: [String], on loop: EventLoop) async throws -> Output {
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-dns")
        defer { try? Files.removeTree(scratch) }
        var spawn = SpawnConfiguration(executable: timeout ?? "timeout", arguments: ["30"] + arguments)
        spawn.standardInput = .null
        spawn.standardOutput = .file(scratch + "/out")
        spawn.standardError = .file(scratch + "/out", append: true)
        let status = try await ChildProcess.spawn(spawn).exitStatus(on: loop)
        let text = (try? Files.read(scratch + "/out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Output(status: status, text: text)
    }
}

@Suite(.enabled(if: DNSPeers.dig != nil && DNSPeers.timeout != nil, "needs dig (apt-get install dnsutils) and timeout"))
struct DNSDigTests {
    let snapshot: ClusterDNSSnapshot

    init() throws {
        var fixture = try DNSFixture.load()
        // A headless service too big for 512 bytes of UDP.
        let index = try #require(fixture.endpoints.firstIndex { $0.metadata.name == "web" })
        fixture.endpoints[index].subsets?[0].addresses = (1...60).map { .init(ip: "10.45.0.\($0)") }
        snapshot = fixture.snapshot()
    }

    /// `dig @127.0.0.1 -p PORT ARGS`, one try, two seconds.
    private func dig(_ server: ClusterDNSServer, _ group: EventLoopGroup, _ arguments: String...) async throws -> String {
        let port = String(server.localAddress.port ?? 0)
        let output = try await DNSPeers.run([DNSPeers.dig!, "@127.0.0.1", "-p", port, "+tries=1", "+time=2"] + arguments,
                                            on: group.next())
        #expect(output.status.isSuccess, "dig \(arguments): \(output.text)")
        return output.text
    }

    /// The answer section's records, one per line, as `name ttl class type data`.
    private func answerLines(_ text: String) -> [String] {
        var lines: [String] = []
        var inAnswer = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(";; ANSWER SECTION:") {
                inAnswer = true
            } else if inAnswer {
                if line.isEmpty { break }
                lines.append(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
            }
        }
        return lines
    }

    @Test func aRecordsAndTheirFlags() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let text = try await dig(server, group, "reviews.default.svc.cluster.local", "A")
            #expect(text.contains("status: NOERROR"))
            #expect(text.contains("flags: qr aa rd;"))
            #expect(answerLines(text) == ["reviews.default.svc.cluster.local. 5 IN A 10.96.0.10"])
            // dig sends EDNS by default: the answer carries our OPT record.
            #expect(text.contains("; EDNS: version: 0, flags:; udp: 1232"))
        }
    }

    @Test func aaaaForAnIPv4ServiceIsNoDataWithTheSOA() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let text = try await dig(server, group, "reviews.default.svc.cluster.local", "AAAA")
            #expect(text.contains("status: NOERROR"))
            #expect(text.contains("ANSWER: 0"))
            #expect(text.contains("AUTHORITY SECTION:"))
            #expect(text.contains("ns.dns.cluster.local. hostmaster.cluster.local."))
        }
    }

    @Test func unknownNamesAreNXDomain() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let inZone = try await dig(server, group, "nosuch.default.svc.cluster.local", "A")
            #expect(inZone.contains("status: NXDOMAIN"))
            #expect(inZone.contains("flags: qr aa rd;"))
            let outside = try await dig(server, group, "example.com", "A")
            #expect(outside.contains("status: NXDOMAIN"))
            #expect(outside.contains("flags: qr rd;"))
        }
    }

    @Test func headlessServicesAndCaseEcho() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let text = try await dig(server, group, "+tcp", "DB.Default.svc.cluster.local", "A")
            #expect(answerLines(text) == [
                "DB.Default.svc.cluster.local. 5 IN A 10.44.0.20",
                "DB.Default.svc.cluster.local. 5 IN A 10.44.0.21",
                "DB.Default.svc.cluster.local. 5 IN A 10.44.0.22",
            ])
        }
    }

    @Test func tcpQueries() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let text = try await dig(server, group, "+tcp", "reviews.default.svc.cluster.local", "A")
            #expect(answerLines(text) == ["reviews.default.svc.cluster.local. 5 IN A 10.96.0.10"])
            #expect(server.stats.tcpQueries == 1)
            #expect(server.stats.udpQueries == 0)
        }
    }

    @Test func ednsPayloadSizeAndTruncation() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            // 60 A records (~1 KB): over 512 without EDNS, so TC; dig told to ignore it shows the cut answer.
            let plain = try await dig(server, group, "+noedns", "+ignore", "web.default.svc.cluster.local", "A")
            #expect(plain.contains(" tc "))
            #expect(answerLines(plain).count < 60)
            #expect(!plain.contains("OPT PSEUDOSECTION"))

            // With a 4096-byte buffer it fits in our 1232.
            let roomy = try await dig(server, group, "+bufsize=4096", "web.default.svc.cluster.local", "A")
            #expect(!roomy.contains(" tc "))
            #expect(answerLines(roomy).count == 60)
            #expect(roomy.contains("udp: 1232"))

            // dig's default: on TC it asks again over TCP and gets everything.
            let retried = try await dig(server, group, "+noedns", "web.default.svc.cluster.local", "A")
            #expect(retried.contains("Truncated, retrying in TCP mode"))
            #expect(answerLines(retried).count == 60)
            #expect(server.stats.tcpQueries == 1)
        }
    }

    @Test func srvAndPTR() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let srv = try await dig(server, group, "_http._tcp.reviews.default.svc.cluster.local", "SRV")
            #expect(answerLines(srv) == ["_http._tcp.reviews.default.svc.cluster.local. 5 IN SRV 0 100 9080 reviews.default.svc.cluster.local."])
            let ptr = try await dig(server, group, "-x", "10.96.0.10")
            #expect(answerLines(ptr) == ["10.0.96.10.in-addr.arpa. 5 IN PTR reviews.default.svc.cluster.local."])
        }
    }

    /// dig's own search list handling (`+search` with `+domain`): the short name is
    /// expanded, answered, and printed under its full name.
    @Test func searchExpansionWithDig() async throws {
        try await withDNSServer(snapshot: snapshot) { server, group in
            let text = try await dig(server, group, "+search", "+domain=default.svc.cluster.local", "+ndots=5", "reviews", "A")
            #expect(answerLines(text) == ["reviews.default.svc.cluster.local. 5 IN A 10.96.0.10"])
        }
    }
}

/// glibc's resolver, with a pod's resolv.conf, against the server: `getent` in a private
/// mount namespace where /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are the
/// test's own (bind mounts that vanish with the process, as `ip netns exec` does).
/// resolv.conf cannot name a port, so the server listens on port 53 of a loopback
/// address unique to this run (127.53.x.y): nothing else on the host is touched.
@Suite(.enabled(if: DNSPeers.canFakeResolvConf, "needs root, getent, and unshare -m with bind mounts"))
struct DNSGlibcTests {
    @Test func podsResolveShortNamesThroughTheSearchList() async throws {
        let snapshot = try DNSFixture.load().snapshot()
        let pid = UInt32(CurrentProcess.id)
        let address = IPv4Address(127, 53, UInt8(truncatingIfNeeded: pid >> 8), UInt8(truncatingIfNeeded: pid | 1))
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-dns-glibc")
        defer { try? Files.removeTree(scratch) }
        // What the node agent writes for a pod in namespace default (Kubernetes' ClusterFirst).
        try Files.writeAtomically(scratch + "/resolv.conf", Array("""
            nameserver \(address)
            search default.svc.cluster.local svc.cluster.local cluster.local
            options ndots:5 timeout:2 attempts:1

            """.utf8))
        try Files.writeAtomically(scratch + "/hosts", Array("127.0.0.1 localhost\n".utf8))
        try Files.writeAtomically(scratch + "/nsswitch.conf", Array("hosts: files dns\n".utf8))
        let script = """
            set -e
            mount --bind \(scratch)/resolv.conf /etc/resolv.conf
            mount --bind \(scratch)/hosts /etc/hosts
            mount --bind \(scratch)/nsswitch.conf /etc/nsswitch.conf
            set +e
            echo "== reviews"; getent ahostsv4 reviews
            echo "== reviews.default"; getent hosts reviews.default
            echo "== reviews.default.svc"; getent ahosts reviews.default.svc
            echo "== reviews.prod"; getent hosts reviews.prod
            echo "== web"; getent ahostsv4 web
            echo "== 10.96.0.10"; getent hosts 10.96.0.10
            echo "== nosuch"; getent hosts nosuch; echo "exit $?"
            echo "== example.com"; getent hosts example.com; echo "exit $?"
            """
        try await withDNSServer(address: .ipv4(address, port: 53), snapshot: snapshot) { server, group in
            let output = try await DNSPeers.run([DNSPeers.which("unshare")!, "-m", "sh", "-c", script], on: group.next())
            #expect(output.status.isSuccess, "\(output.text)")
            var sections: [String: [String]] = [:]
            var current = ""
            for line in output.text.split(separator: "\n") {
                if line.hasPrefix("== ") {
                    current = String(line.dropFirst(3))
                } else {
                    sections[current, default: []].append(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
                }
            }
            // getaddrinfo (A only): the first search domain answers.
            #expect(sections["reviews"]?.first == "10.96.0.10 STREAM reviews.default.svc.cluster.local")
            // getent hosts: gethostbyname2 for AF_INET6 first (our NODATA), then AF_INET.
            #expect(sections["reviews.default"] == ["10.96.0.10 reviews.default.svc.cluster.local"])
            // getaddrinfo AF_UNSPEC: A and AAAA in parallel from one socket.
            #expect(sections["reviews.default.svc"]?.first == "10.96.0.10 STREAM reviews.default.svc.cluster.local")
            #expect(sections["reviews.prod"] == ["10.96.1.10 reviews.prod.svc.cluster.local"])
            #expect(Set(sections["web"]?.compactMap { $0.split(separator: " ").first.map(String.init) } ?? []) == ["10.44.0.5", "10.44.0.6"])
            #expect(sections["10.96.0.10"] == ["10.96.0.10 reviews.default.svc.cluster.local"])
            #expect(sections["nosuch"] == ["exit 2"])  // getent: not found
            #expect(sections["example.com"] == ["exit 2"])
            // Every query glibc sent was answered (none timed out into a retry).
            #expect(server.stats.udpQueries > 0)
        }
    }
}
