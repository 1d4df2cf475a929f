import MeshClient
import MeshHTTP
import MeshModel
import Synchronization

/// Writes pod statuses to the API's `/status` subresource, at most one
/// write in flight per pod and none sooner than `delay` after the previous
/// one, so a busy pod (probes, restarts) does not flood the API: the latest
/// status wins, unchanged ones are not written. The first change after a
/// quiet spell is written at once, so a pod shows Running as soon as it runs.
///
/// A write is a JSON patch that first tests `metadata.uid`: a pod deleted
/// and created again under the same name is never given the old one's
/// status. Replacing `/status` whole also clears what a previous status had
/// and this one has not.
final class PodStatusWriter: Sendable {
    private let client: APIClient
    private let delay: Duration
    private let clock: AgentClock
    private let log: @Sendable (String) -> Void
    private let slots = Mutex<[String: Slot]>([:])

    private struct Slot {
        var pod: PodIdentity
        var latest: PodStatus?
        var written: PodStatus?
        var writing = false
    }

    init(client: APIClient, delay: Duration, clock: AgentClock, log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.delay = delay
        self.clock = clock
        self.log = log
    }

    /// The pod's newest status; written soon.
    func publish(_ status: PodStatus, for pod: PodIdentity) {
        let start = slots.withLock { slots -> Bool in
            var slot = slots[pod.uid] ?? Slot(pod: pod)
            slot.latest = status
            defer { slots[pod.uid] = slot }
            if slot.writing || slot.written == status { return false }
            slot.writing = true
            return true
        }
        if start { Task { await self.drain(pod.uid) } }
    }

    /// Drops the pod: nothing more is written for it.
    func forget(_ uid: String) {
        slots.withLock { _ = $0.removeValue(forKey: uid) }
    }

    /// Whether a write is pending or in flight (for tests and shutdown).
    var isIdle: Bool { slots.withLock { $0.values.allSatisfy { !$0.writing } } }

    private func drain(_ uid: String) async {
        while true {
            let next = slots.withLock { slots -> (PodIdentity, PodStatus)? in
                guard var slot = slots[uid] else { return nil }
                guard let latest = slot.latest, latest != slot.written else {
                    slot.latest = nil
                    slot.writing = false
                    slots[uid] = slot
                    return nil
                }
                slot.latest = nil
                slots[uid] = slot
                return (slot.pod, latest)
            }
            guard let (pod, status) = next else { return }
            do {
                try await write(status, for: pod)
                slots.withLock { slots in slots[uid]?.written = status }
                try? await clock.sleep(for: delay)  // changes meanwhile are merged into the next write
            } catch let status as StatusObject where status.code == 404 || status.code == 422 {
                // The pod is gone, or it is another pod now (the uid test failed).
                if status.code == 422 { log("node agent: status of pod \(pod) not written: \(status.message)") }
                forget(uid)
                return
            } catch {
                log("node agent: writing the status of pod \(pod) failed: \(error); retrying")
                slots.withLock { slots in
                    if slots[uid] != nil && slots[uid]!.latest == nil { slots[uid]!.latest = status }
                }
                try? await clock.sleep(for: .seconds(1))
            }
        }
    }

    private func write(_ status: PodStatus, for pod: PodIdentity) async throws {
        let path = APIClient.path(Pod.descriptor, namespace: pod.namespace, name: pod.name) + "/status"
        let patch: JSONValue = [
            ["op": "test", "path": "/metadata/uid", "value": .string(pod.uid)],
            ["op": "add", "path": "/status", "value": ValueCodec.encode(status)],
        ]
        try await client.call(.patch, path, body: patch, contentType: "application/json-patch+json")
    }
}
