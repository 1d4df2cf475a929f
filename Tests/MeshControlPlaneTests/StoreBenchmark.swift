import Foundation
@testable import MeshControlPlane
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
        // The device's share alone: 300-byte appends, with and without fdatasync.
        try withTemporaryDirectory { dir in
            let file = try StoreSyscalls.open(dir + "/raw", O_WRONLY | O_CREAT)
            let frame = [UInt8](repeating: 0x61, count: 300)
            for withSync in [false, true] {
                let count = withSync ? 2_000 : 20_000
                let start = ContinuousClock.now
                for i in 0..<count {
                    try StoreSyscalls.writeAll(file, frame, at: i * frame.count)
                    if withSync { try StoreSyscalls.fdatasync(file) }
                }
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print("store bench: raw 300-byte pwrite\(withSync ? " + fdatasync" : ""): \(Int(Double(count) / seconds)) per second, \(String(format: "%.1f", seconds / Double(count) * 1e6)) µs each")
            }
        }
        let memory = ResourceStore(options: testOptions())
        let start = ContinuousClock.now
        for i in 0..<10_000 { try memory.create(podsResource, pod("p\(i)")) }
        print("store bench: in memory: 10000 creates in \(ContinuousClock.now - start)")
    }
}
