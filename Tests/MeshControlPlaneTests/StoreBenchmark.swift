import Foundation
import MeshControlPlane
import MeshModel
import Testing

/// Numbers for the report, not assertions: `MESHLAB_STORE_BENCH=1 swift test
/// --filter StoreBenchmark` prints write rates per sync policy and the cost of
/// 10k creates, reopen and list. Skipped in normal runs (timing is not a test).
@Suite struct StoreBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["MESHLAB_STORE_BENCH"] == "1"

    @Test(.enabled(if: StoreBenchmark.enabled, "set MESHLAB_STORE_BENCH=1 to measure"))
    func writeRates() throws {
        let directoryBase = ProcessInfo.processInfo.environment["MESHLAB_STORE_BENCH_DIR"]
        for (label, sync, count) in [("never", SyncPolicy.never, 10_000), ("interval 1s", .interval(milliseconds: 1000), 10_000),
                                     ("always", .always, 1_000)] {
            try withTemporaryDirectory { temporary in
                let dir = (directoryBase.map { $0 + "/bench-\(getpid())" }) ?? temporary
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let store = try ResourceStore(directory: dir, options: testOptions(sync: sync))
                let start = ContinuousClock.now
                for i in 0..<count { try store.create(podsResource, pod("p\(i)", namespace: "ns\(i % 50)")) }
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print("store bench: sync \(label): \(count) creates in \(String(format: "%.3f", seconds)) s = \(Int(Double(count) / seconds)) writes/s (\(dir))")
                store.close()
                if label == "never" {
                    let reopenStart = ContinuousClock.now
                    let reopened = try ResourceStore(directory: dir, options: testOptions())
                    print("store bench: reopen with \(count) log records: \(ContinuousClock.now - reopenStart)")
                    let listStart = ContinuousClock.now
                    for i in 0..<50 { _ = reopened.list(podsResource, namespace: "ns\(i)") }
                    print("store bench: 50 namespace lists of \(count / 50): \(ContinuousClock.now - listStart)")
                    let compactStart = ContinuousClock.now
                    try reopened.compact()
                    print("store bench: compaction of \(count) objects: \(ContinuousClock.now - compactStart)")
                    reopened.close()
                }
            }
        }
        let memory = ResourceStore(options: testOptions())
        let start = ContinuousClock.now
        for i in 0..<10_000 { try memory.create(podsResource, pod("p\(i)")) }
        print("store bench: in memory: 10000 creates in \(ContinuousClock.now - start)")
    }
}
