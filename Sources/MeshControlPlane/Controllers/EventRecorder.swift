import MeshModel
import Synchronization

/// Records core/v1 Events about objects for one component
/// (`deployment-controller`), as client-go's recorder does: an event
/// identical to one recorded before (same object, type, reason and
/// message: `Event.aggregationKey`) raises that Event's `count` and
/// `lastTimestamp` instead of making a new object. Recording is best
/// effort: a failure is logged, never thrown. (The node agent, which
/// cannot use this type, builds the same objects with `Event.about`.)
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
        let time = now()
        let event = Event.about(object, type: type, reason: reason, message: message, component: component, time: time,
                                sequence: sequence.add(1, ordering: .relaxed).newValue)
        let key = Event.aggregationKey(event)

        if let seen = cache.withLock({ $0.entries[key] }) {
            do throws(StatusObject) {
                try await api.patch(Event.descriptor, namespace: seen.namespace, name: seen.name,
                                    ["count": .int(seen.count + 1), "lastTimestamp": .string(Timestamp.format(epochSeconds: time))])
                remember(key, Recorded(namespace: seen.namespace, name: seen.name, count: seen.count + 1))
                return
            } catch {
                // Gone (expired or deleted): record it anew. Otherwise give up on this one.
                guard error.code == 404 else {
                    log("events: cannot update \(seen.namespace)/\(seen.name): \(error.message)")
                    return
                }
            }
        }
        let namespace = event["metadata"]?["namespace"]?.stringValue ?? "default"
        let name = event["metadata"]?["name"]?.stringValue ?? ""
        do throws(StatusObject) {
            try await api.create(Event.descriptor, event)
            remember(key, Recorded(namespace: namespace, name: name, count: 1))
        } catch {
            log("events: cannot record \(reason) in \(namespace) for \(object["metadata"]?["name"]?.stringValue ?? ""): \(error.message)")
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
