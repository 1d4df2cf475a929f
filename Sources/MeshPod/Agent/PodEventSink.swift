import MeshClient
import MeshHTTP
import MeshModel
import Synchronization

/// Where the agent's pod events go.
public protocol PodEventSink: Sendable {
    /// Takes an event without waiting (the pod workers never block on events).
    func record(_ event: PodEventRecord, pod: PodIdentity, at moment: Moment)
}

/// Writes pod events to the API as core/v1 Events from `kubelet`, as
/// kubelet's recorder does: a repeat of the same event (same pod, part,
/// reason and message) raises the first one's `count` and `lastTimestamp`
/// instead of making a new object. Writes happen in `run()`, in order.
public final class APIEventWriter: PodEventSink, Sendable {
    private let client: APIClient
    private let host: String
    private let log: @Sendable (String) -> Void
    private let queue = AsyncStream<(PodEventRecord, PodIdentity, Moment)>.makeStream()
    private let state = Mutex(State())

    private struct State {
        var written: [Key: (name: String, count: Int32, first: String)] = [:]
        var sequence = 0
        var reportedFailure = false
    }

    private struct Key: Hashable {
        var uid: String, fieldPath: String?, reason: String, message: String, type: String
    }

    /// How many distinct events are remembered for aggregation.
    static let memory = 4096

    public init(client: APIClient, nodeName: String, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.host = nodeName
        self.log = log
    }

    public func record(_ event: PodEventRecord, pod: PodIdentity, at moment: Moment) {
        queue.continuation.yield((event, pod, moment))
    }

    /// Stops taking events; `run()` returns once it has written what was queued.
    public func finish() { queue.continuation.finish() }

    /// Writes queued events until `finish()`.
    public func run() async {
        for await (event, pod, moment) in queue.stream {
            await write(event, pod: pod, at: moment)
        }
    }

    private func write(_ event: PodEventRecord, pod: PodIdentity, at moment: Moment) async {
        let key = Key(uid: pod.uid, fieldPath: event.fieldPath, reason: event.reason, message: event.message,
                      type: event.type.rawValue)
        let time = moment.timestamp
        let repeated = state.withLock { state -> (name: String, count: Int32, first: String)? in
            guard var entry = state.written[key] else { return nil }
            entry.count += 1
            state.written[key] = entry
            return entry
        }
        do {
            if let repeated {
                let path = APIClient.path(Event.descriptor, namespace: pod.namespace, name: repeated.name)
                let patch: JSONValue = ["count": .int(Int(repeated.count)), "lastTimestamp": .string(time)]
                do {
                    try await client.call(.patch, path, body: patch, contentType: "application/merge-patch+json")
                    return
                } catch let status as StatusObject where status.code == 404 {
                    // The event expired (or was deleted): start a new one.
                    state.withLock { _ = $0.written.removeValue(forKey: key) }
                }
            }
            let name = state.withLock { state -> String in
                state.sequence += 1
                if state.written.count >= Self.memory { state.written = [:] }
                return "\(pod.name).\(String(moment.epochSeconds * 1_000_000_000 + state.sequence, radix: 16))"
            }
            var object = Event(metadata: ObjectMeta(name: name, namespace: pod.namespace),
                               involvedObject: ObjectReference(kind: "Pod", namespace: pod.namespace, name: pod.name,
                                                               uid: pod.uid, apiVersion: "v1"))
            object.involvedObject.fieldPath = event.fieldPath
            object.reason = event.reason
            object.message = event.message
            object.type = event.type.rawValue
            object.source = Event.EventSource(component: "kubelet", host: host)
            object.firstTimestamp = time
            object.lastTimestamp = time
            object.count = 1
            object.reportingComponent = "kubelet"
            object.reportingInstance = host
            try await client.call(.post, APIClient.path(Event.descriptor, namespace: pod.namespace),
                                  body: ResourceCodec.encode(object))
            state.withLock { $0.written[key] = (name, 1, time) }
        } catch {
            // Events are best effort (as kubelet's): say once that they are not getting through.
            let first = state.withLock { state -> Bool in
                defer { state.reportedFailure = true }
                return !state.reportedFailure
            }
            if first { log("node agent: events cannot be written (\(error)); later failures are not logged") }
        }
    }
}
