import Foundation
import MeshControlPlane
import MeshModel
import Testing

/// Crash safety against a real SIGKILL.
///
/// The writer must be another process, and it must write our format, so it is
/// this test binary itself, re-executed (posix_spawn of /proc/self/exe) with
/// Swift Testing's `--filter` naming `writerChild` and the environment variable
/// `MESHLAB_STORE_CRASH_WRITER=<dir>`. That variable is what enables
/// `writerChild`; in a normal run it is skipped. No extra target in
/// Package.swift, and the child runs exactly the store code under test.
///
/// The child applies a deterministic sequence of creates, updates and deletes
/// and prints `ACK <step> <resourceVersion>` after each returns. The parent
/// SIGKILLs it mid-stream, reopens the store, and checks that the state is the
/// sequence's result after exactly the acknowledged steps, or after one more
/// (the step in flight may have reached the log without being acknowledged).
@Suite(.serialized) struct StoreCrashTests {
    static let directoryVariable = "MESHLAB_STORE_CRASH_WRITER"
    static let syncVariable = "MESHLAB_STORE_CRASH_SYNC"
    static let childDirectory = ProcessInfo.processInfo.environment[directoryVariable]

    @Test(arguments: ["never", "always"])
    func aKilledWriterLosesNoAcknowledgedWrite(sync: String) throws {
        try withTemporaryDirectory { dir in
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["--testing-library", "swift-testing", "--filter", "StoreCrashTests/writerChild"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.directoryVariable] = dir
            environment[Self.syncVariable] = sync
            child.environment = environment
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            defer {
                if child.isRunning {
                    kill(child.processIdentifier, SIGKILL)
                    child.waitUntilExit()
                }
            }

            // Let it get well into its work (several compactions), then kill it.
            var text = ""
            let reader = output.fileHandleForReading
            func ackCount() -> Int { text.split(separator: "\n").filter { $0.hasPrefix("ACK ") }.count }
            while ackCount() < 200 {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "the writer died early: \(text.suffix(2000))")
            text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)

            let acks = text.split(separator: "\n").filter { $0.hasPrefix("ACK ") }.map {
                $0.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            }
            try #require(acks.count >= 200)
            #expect(acks.enumerated().allSatisfy { $0.element.first == UInt64($0.offset) }, "steps in order")
            let lastRevision = acks.last![1]

            let store = try ResourceStore(directory: dir, options: testOptions())
            defer { store.close() }
            let actual = CrashWorkload.state(of: store)
            let acknowledged = CrashWorkload.state(after: acks.count)
            let oneMore = CrashWorkload.state(after: acks.count + 1)
            #expect(actual == acknowledged || actual == oneMore,
                    "acknowledged \(acks.count) steps; recovery: \(store.recovery)")
            let revision = UInt64(store.resourceVersion)!
            #expect(revision == lastRevision || (revision == lastRevision + 1 && actual == oneMore))
        }
    }

    @Test(.enabled(if: StoreCrashTests.childDirectory != nil,
                   "the writer of aKilledWriterLosesNoAcknowledgedWrite, run only in its child process"))
    func writerChild() throws {
        let directory = Self.childDirectory!
        let sync: SyncPolicy = ProcessInfo.processInfo.environment[Self.syncVariable] == "always" ? .always : .never
        let store = try ResourceStore(directory: directory, options: StoreOptions(
            sync: sync, compactionBytes: 64 << 10, log: { _ in }))
        var workload = CrashWorkload()
        for step in 0..<1_000_000 {
            let revision = try workload.perform(step, on: store)
            let line = Array("ACK \(step) \(revision)\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
    }
}

/// The deterministic sequence of writes: 32 slots, each created, updated
/// with payloads of varying size (up to ~8 KB, so writes are not all tiny),
/// and now and then deleted.
struct CrashWorkload {
    static let slots = 32
    /// Slot → the step that last wrote it.
    var live: [Int: Int] = [:]

    static func object(slot: Int, step: Int) -> JSONValue {
        let size = 200 + (step * 7919) % 8000
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string("obj-\(slot)"), "namespace": "default"],
            "data": ["step": .int(step), "payload": .string(String(repeating: "x", count: size))],
        ]
    }

    /// Applies step `step` to `store` (when given) and to the model; returns
    /// the revision the write got.
    @discardableResult
    mutating func perform(_ step: Int, on store: ResourceStore?) throws -> UInt64 {
        let slot = step % Self.slots
        let resource = GroupResource(resource: "configmaps")
        var stored: JSONValue = nil
        if live[slot] == nil {
            if let store { stored = try store.create(resource, Self.object(slot: slot, step: step)) }
            live[slot] = step
        } else if step % 7 == 0 {
            if let store { stored = try store.delete(ObjectKey(resource, namespace: "default", name: "obj-\(slot)")) }
            live[slot] = nil
        } else {
            if let store { stored = try store.update(resource, Self.object(slot: slot, step: step)) }
            live[slot] = step
        }
        return UInt64(stored["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
    }

    /// Slot name → step, after the first `steps` steps.
    static func state(after steps: Int) -> [String: Int] {
        var workload = CrashWorkload()
        for step in 0..<steps { _ = try? workload.perform(step, on: nil) }
        return Dictionary(uniqueKeysWithValues: workload.live.map { ("obj-\($0.key)", $0.value) })
    }

    static func state(of store: ResourceStore) -> [String: Int] {
        var result: [String: Int] = [:]
        for object in store.list(GroupResource(resource: "configmaps")).items {
            result[object.name ?? ""] = object["data"]?["step"]?.intValue
        }
        return result
    }
}
