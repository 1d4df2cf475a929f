import MeshModel
import Synchronization

/// Records core/v1 Events about objects for one component
/// (`deployment-controller`), as client-go's recorder does: an event
/// identical to one recorded before (same object, type, reason and
/// message) raises that Event's `count` and `lastTimestamp` instead of
/// making a new object. Recording is best effort: a failure is logged,
/// never thrown.
final class EventRecorder: Sendable {
    let api: LocalAPI
    let component: String
    let now: @Sendable () -> Int
    let log: @Sendable (String) -> Void

    /// How many distinct events are remembered for aggregation (client-go's LRU size).
    static let cacheSize = 4096

    private struct Recorded {
        var namespace: String
        var name: String
        var count: Int
        var firstTimestamp: String
    }

    private struct Cache {
        var entries: [String: Recorded] = [:]
        var order: [String] = []
    }

    private let cache = Mutex(Cache())
    /// Makes event names unique when the clock has not moved.
    private let sequence = Atomic<Int>(0)

    init(api: LocalAPI, component: String, now: @escaping @Sendable () -> Int,
         log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.api = api
        self.component = component
        self.now = now
        self.log = log
    }

    /// Records that `reason` happened to `object` (any stored object).
    func record(_ object: JSONValue, type: String = Event.normal, reason: String, message: String) async {
        let metadata = object["metadata"]
        var involved: JSONObject = [:]
        for (field, value) in [("kind", object["kind"]), ("namespace", metadata?["namespace"]),
                               ("name", metadata?["name"]), ("uid", metadata?["uid"]),
                               ("apiVersion", object["apiVersion"]), ("resourceVersion", metadata?["resourceVersion"])] {
            if let value { involved[field] = value }
        }
        let namespace = metadata?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let key = [component, involved["kind"]?.stringValue, involved["namespace"]?.stringValue,
                   involved["name"]?.stringValue, involved["uid"]?.stringValue, involved["apiVersion"]?.stringValue,
                   type, reason, message].map { $0 ?? "" }.joined(separator: "\u{0}")
        let stamp = Timestamp.format(epochSeconds: now())

        if let seen = cache.withLock({ $0.entries[key] }) {
            do throws(StatusObject) {
                try await api.patch(Event.descriptor, namespace: seen.namespace, name: seen.name,
                                    ["count": .int(seen.count + 1), "lastTimestamp": .string(stamp)])
                remember(key, Recorded(namespace: seen.namespace, name: seen.name, count: seen.count + 1,
                                       firstTimestamp: seen.firstTimestamp))
                return
            } catch where error.code == 404 {
                // Expired or deleted: start a new one.
            } catch {
                log("events: cannot update \(seen.namespace)/\(seen.name): \(error.message)")
                return
            }
        }

        let objectName = involved["name"]?.stringValue ?? "unknown"
        let name = "\(objectName).\(String(UInt64(now()) &* 1_000_000_000 &+ UInt64(sequence.add(1, ordering: .relaxed).newValue % 1_000_000_000), radix: 16))"
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved), "reason": .string(reason), "message": .string(message),
            "source": ["component": .string(component)], "firstTimestamp": .string(stamp),
            "lastTimestamp": .string(stamp), "count": 1, "type": .string(type),
            "reportingComponent": .string(component), "reportingInstance": "",
        ]
        do throws(StatusObject) {
            try await api.create(Event.descriptor, event)
            remember(key, Recorded(namespace: namespace, name: name, count: 1, firstTimestamp: stamp))
        } catch {
            log("events: cannot record \(reason) for \(namespace)/\(objectName): \(error.message)")
        }
    }

    private func remember(_ key: String, _ recorded: Recorded) {
        cache.withLock { cache in
            if cache.entries.updateValue(recorded, forKey: key) == nil { cache.order.append(key) }
            if cache.order.count > Self.cacheSize {
                let evicted = cache.order.removeFirst()
                cache.entries[evicted] = nil
            }
        }
    }
}
