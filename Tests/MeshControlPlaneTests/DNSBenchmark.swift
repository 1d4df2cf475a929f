import FoundationEssentials
@testable import MeshControlPlane
import MeshIO
import MeshSystem
import Testing

/// Numbers for the report, not assertions: `MESHLAB_DNS_BENCH=1 swift test --filter
/// DNSBenchmark` prints the responder's rate in process, a UDP round-trip loop, and
/// dnsperf's numbers when it is installed. Skipped in normal runs (timing is not a test).
@Suite struct DNSBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["MESHLAB_DNS_BENCH"] == "1"

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static let names: [(DNSName, DNSRecordType)] = [
        ("reviews.default.svc.cluster.local", .a), ("reviews.default.svc.cluster.local", .aaaa),
        ("nosuch.default.svc.cluster.local", .a), ("web.default.svc.cluster.local", .a),
        ("reviews.default.svc.cluster.local.default.svc.cluster.local", .a), ("example.com", .a),
    ]

    @Test(.enabled(if: DNSBenchmark.enabled, "set MESHLAB_DNS_BENCH=1 to measure"))
    func responderInProcess() throws {
        let snapshot = try DNSFixture.load().snapshot()
        let responder = DNSResponder()
        let queries = Self.names.enumerated().map { DNSMessage.query(id: UInt16($0.offset), $0.element.0, $0.element.1).encoded() }
        let count = 60_000
        let start = ContinuousClock.now
        var bytes = 0
        for index in 0..<count {
            bytes += responder.respond(to: queries[index % queries.count], over: .udp, snapshot: snapshot)?.count ?? 0
        }
        let elapsed = Self.seconds(ContinuousClock.now - start)
        print("dns bench: responder in process: \(count) queries in \(String(format: "%.3f", elapsed)) s = \(Int(Double(count) / elapsed)) queries/s (\(bytes / count) bytes/answer)")
    }

    @Test(.enabled(if: DNSBenchmark.enabled, "set MESHLAB_DNS_BENCH=1 to measure"))
    func udpRoundTrips() async throws {
        let snapshot = try DNSFixture.load().snapshot()
        try await withDNSServer(snapshot: snapshot) { server, group in
            let client = try UDPSocket.bind(to: .loopback(port: 0), on: group.next())
            let queries = Self.names.enumerated().map { DNSMessage.query(id: UInt16($0.offset), $0.element.0, $0.element.1).encoded() }
            let count = 20_000
            let start = ContinuousClock.now
            for index in 0..<count {
                try await client.send(ByteBuffer(queries[index % queries.count]), to: server.localAddress)
                _ = try await client.receive(timeout: .seconds(5))
            }
            let elapsed = Self.seconds(ContinuousClock.now - start)
            print("dns bench: udp, one query at a time: \(count) in \(String(format: "%.3f", elapsed)) s = \(Int(Double(count) / elapsed)) queries/s")
            await client.close()
        }
    }

    @Test(.enabled(if: DNSBenchmark.enabled && DNSPeers.which("dnsperf") != nil, "set MESHLAB_DNS_BENCH=1 and install dnsperf"))
    func dnsperf() async throws {
        let snapshot = try DNSFixture.load().snapshot()
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-dnsperf")
        defer { try? Files.removeTree(scratch) }
        let lines = Self.names.map { "\($0.0) \($0.1)" }.joined(separator: "\n") + "\n"
        try Files.writeAtomically(scratch + "/queries", Array(lines.utf8))
        try await withDNSServer(snapshot: snapshot) { server, group in
            let port = String(server.localAddress.port ?? 0)
            for clients in ["1", "10"] {
                let output = try await DNSPeers.run([DNSPeers.which("dnsperf")!, "-s", "127.0.0.1", "-p", port, "-d", scratch + "/queries",
                                                     "-l", "5", "-c", clients, "-Q", "100000"], on: group.next())
                let summary = output.text.split(separator: "\n").filter {
                    $0.contains("Queries per second") || $0.contains("Queries lost") || $0.contains("Average Latency")
                        || $0.contains("Response codes")
                }
                print("dns bench: dnsperf -c \(clients) -l 5:\n" + summary.joined(separator: "\n"))
            }
            print("dns bench: server stats \(server.stats)")
        }
    }
}

extension DNSBenchmark {
    @Test(.enabled(if: DNSBenchmark.enabled, "set MESHLAB_DNS_BENCH=1 to measure"))
    func decodeResolveEncodeSeparately() throws {
        let snapshot = try DNSFixture.load().snapshot()
        let resolver = ClusterDNSResolver()
        let query = DNSMessage.query(id: 1, "reviews.default.svc.cluster.local", .a).encoded()
        let count = 20_000
        var start = ContinuousClock.now
        for _ in 0..<count { _ = try DNSMessage(decoding: query) }
        print("dns bench: decode \(Int(Double(count) / Self.seconds(ContinuousClock.now - start)))/s")
        let message = try DNSMessage(decoding: query)
        start = ContinuousClock.now
        for _ in 0..<count { _ = resolver.answer(message.questions[0], in: snapshot) }
        print("dns bench: resolve \(Int(Double(count) / Self.seconds(ContinuousClock.now - start)))/s")
        let response = DNSResponder().respond(to: message, snapshot: snapshot)
        start = ContinuousClock.now
        for _ in 0..<count { _ = response.encoded() }
        print("dns bench: encode \(Int(Double(count) / Self.seconds(ContinuousClock.now - start)))/s")
    }
}
