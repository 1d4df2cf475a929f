import FoundationEssentials
@testable import MeshControlPlane
import MeshIO
import MeshModel
@testable import MeshProxy
import Testing

/// Numbers for the report, not assertions: `MESHLAB_PUSH_BENCH=1 swift test --filter
/// PushConvergenceBenchmark` connects N sidecar clients (10, 50) over loopback, then
/// changes the store (a Service) repeatedly and prints how long until every proxy
/// has ACKed the new clusters (debounce 10 ms included). Skipped in normal runs.
@Suite(.serialized) struct PushConvergenceBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["MESHLAB_PUSH_BENCH"] == "1"

    @Test(.enabled(if: PushConvergenceBenchmark.enabled, "set MESHLAB_PUSH_BENCH=1 to measure"), arguments: [1, 10, 50])
    func convergence(proxies: Int) async throws {
        let store = ResourceStore()
        try await withPushServer(store: store) { server in
            let clients = (0..<proxies).map { index in
                DiscoveryClient(options: DiscoveryClientOptions(
                    address: DiscoveryAddress(host: "127.0.0.1", port: Int(server.localAddress.port ?? 0)),
                    node: ProxyNode(podName: "p\(index)", namespace: "default", podIP: "10.44.1.\(index)", serviceAccount: "default")),
                                sink: RecordingSink())
            }
            let tasks = clients.map { client in Task { await client.runUntilCancelled() } }
            defer { for task in tasks { task.cancel() } }
            let names = (0..<proxies).map { "p\($0).default" }
            await eventually("all connected and synced", seconds: 60) { names.allSatisfy { server.allSynced($0) } }

            var samples: [Double] = []
            for round in 0..<30 {
                let start = ContinuousClock.now
                try store.create(PushFixture.services, PushFixture.service("svc-\(round)"))
                await eventually("round \(round) acked", seconds: 60) {
                    // One look at all proxies per poll (not one per proxy): the poll must not slow the server down.
                    let states = server.proxyStates()
                    return states.count == proxies && states.allSatisfy {
                        let record = $0.state.records[.cluster]
                        return record?.resourceCount == round + 1 && record?.status == .synced
                    }
                }
                let elapsed = ContinuousClock.now - start
                samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            samples.sort()
            func percentile(_ p: Double) -> String {
                String(format: "%.1f", samples[min(samples.count - 1, Int(Double(samples.count) * p))])
            }
            print("push bench: \(proxies) proxies, store change → all ACKed (debounce 10 ms), \(samples.count) rounds: "
                + "p50 \(percentile(0.5)) ms, p90 \(percentile(0.9)) ms, p99 \(percentile(0.99)) ms, max \(percentile(1)) ms")
        }
    }
}
