import Foundation
import MeshControlPlane
import MeshModel
import Synchronization

let podsResource = GroupResource(resource: "pods")
let deploymentsResource = GroupResource(group: "apps", resource: "deployments")
let virtualServicesResource = GroupResource(group: "networking.istio.io", resource: "virtualservices")

/// 2023-11-14T22:13:20Z.
let fixedDate = Date(timeIntervalSince1970: 1_700_000_000)

/// uid-1, uid-2, ...: deterministic uids for comparisons.
final class SequentialUIDs: Sendable {
    private let counter = Atomic<Int>(0)
    func next() -> String { "uid-\(counter.add(1, ordering: .relaxed).newValue)" }
}

/// Collects what the store logs, for tests that check its reports.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Hermetic options: fixed clock, sequential uids, no fsync, quiet log.
func testOptions(sync: SyncPolicy = .never, log: LogLines? = nil, configure: (inout StoreOptions) -> Void = { _ in })
    -> StoreOptions
{
    let uids = SequentialUIDs()
    var options = StoreOptions(sync: sync, clock: { fixedDate }, makeUID: { uids.next() },
                               log: { line in log?.append(line) })
    configure(&options)
    return options
}

func pod(_ name: String, namespace: String = "default", labels: [String: String]? = nil,
         image: String = "nginx") -> JSONValue
{
    var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
    if let labels { metadata["labels"] = .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
    return [
        "apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata),
        "spec": ["containers": [["name": "app", "image": .string(image)]]],
    ]
}

func namespace(_ name: String) -> JSONValue {
    ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
}

extension JSONValue {
    var resourceVersion: String? { self["metadata"]?["resourceVersion"]?.stringValue }
    var name: String? { self["metadata"]?["name"]?.stringValue }

    /// A copy with `metadata.<field>` set (nil removes it).
    func with(metadata field: String, _ value: JSONValue?) -> JSONValue {
        var copy = self
        var metadata = copy["metadata"]?.objectValue ?? JSONObject()
        metadata[field] = value
        copy["metadata"] = .object(metadata)
        return copy
    }

    func with(_ field: String, _ value: JSONValue?) -> JSONValue {
        var copy = self
        copy[field] = value
        return copy
    }
}

/// A fresh directory under the system's temp dir, removed after `body` even when it throws.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

private func makeTemporaryDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "/meshlab-store-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
    return String(cString: made)
}

func fileBytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Log segment files in `directory`, oldest first.
func segmentFiles(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasPrefix("wal-") }.sorted().map { directory + "/" + $0 }
}

/// Every object of `resources`, for whole-store comparisons.
func dump(_ store: ResourceStore, _ resources: [GroupResource]) -> [JSONValue] {
    resources.flatMap { store.list($0).items }
}
