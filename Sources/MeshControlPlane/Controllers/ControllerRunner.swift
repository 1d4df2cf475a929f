import MeshModel

/// One control loop: which resources it watches, which keys a change
/// concerns, and how it brings one key in line. The decisions themselves
/// live in pure functions (`DeploymentReconciler`, `EndpointsReconciler`,
/// ...); a controller reads the store, calls them, and writes the result.
protocol Controller: Sendable {
    /// For logs: `deployment`, `endpoints`.
    var name: String { get }
    var watches: [GroupResource] { get }
    /// The keys to sync after `event` on `resource` (the object itself, its
    /// owner, the Services selecting it...).
    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey]
    /// Syncs one key; returns in how many seconds to sync it again, if it
    /// should be (a pod reaching minReadySeconds, an Event expiring).
    func sync(_ key: ObjectKey) async throws -> Int?
}

/// Runs a controller: a watch per resource feeding a `WorkQueue`
/// (debounced per key), and one worker that syncs keys one at a time.
/// A sync that fails on a write conflict is run again at once (the store
/// moved on between the read and the write); other failures are retried
/// with exponential backoff.
struct ControllerRunner: Sendable {
    let controller: any Controller
    let store: ResourceStore
    /// How long a key waits after a change before it is synced, so that a
    /// burst of changes to one object makes one sync.
    let debounce: Duration
    let log: @Sendable (String) -> Void

    static let conflictRetries = 3
    static let initialBackoff = Duration.milliseconds(10)
    static let maxBackoff = Duration.seconds(30)

    /// Runs until the task is cancelled or the store closes.
    func run() async {
        let queue = WorkQueue()
        await withTaskGroup(of: Void.self) { group in
            for resource in controller.watches {
                group.addTask { await watch(resource, into: queue) }
            }
            group.addTask { await work(queue) }
            // The watches end when the store closes; then the worker stops too.
            for _ in controller.watches { await group.next() }
            queue.stop()
            await group.waitForAll()
        }
    }

    /// Feeds `queue` with the keys of every change to `resource`, starting
    /// with every existing object. A watch the store closed for falling
    /// behind is opened again (which lists everything again).
    private func watch(_ resource: GroupResource, into queue: WorkQueue) async {
        while !Task.isCancelled {
            let watch: StoreWatch
            do {
                watch = try store.watch(resource)
            } catch {
                log("\(controller.name): cannot watch \(resource): \(error)")
                return
            }
            do {
                for try await event in watch {
                    for key in controller.keys(for: event, of: resource) { queue.add(key, after: debounce) }
                }
                return
            } catch {
                log("\(controller.name): watch of \(resource) restarts: \(error)")
            }
        }
    }

    private func work(_ queue: WorkQueue) async {
        var failures: [ObjectKey: Int] = [:]
        while let key = await queue.next() {
            do {
                let again = try await syncRetryingConflicts(key)
                failures[key] = nil
                if let again { queue.add(key, after: .seconds(again)) }
            } catch {
                if Task.isCancelled {
                    queue.done(key)
                    return
                }
                let count = failures[key, default: 0] + 1
                failures[key] = count
                let delay = min(Self.maxBackoff, Self.initialBackoff * (1 << min(count - 1, 20)))
                log("\(controller.name): \(key): \(error); retrying in \(delay)")
                queue.add(key, after: delay)
            }
            queue.done(key)
        }
    }

    private func syncRetryingConflicts(_ key: ObjectKey) async throws -> Int? {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await controller.sync(key)
            } catch let status as StatusObject where status.reason == .conflict && attempt < Self.conflictRetries {
                continue
            } catch StoreError.conflict where attempt < Self.conflictRetries {
                continue
            }
        }
    }
}
