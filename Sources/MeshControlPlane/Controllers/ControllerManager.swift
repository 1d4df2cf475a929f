import MeshIO
import MeshModel

/// Settings of the controllers; the defaults suit the daemon, tests pin the clock.
public struct ControllerOptions: Sendable {
    /// How long a changed object waits before its controller syncs it.
    public var debounce: Duration
    /// Seconds since the epoch (timestamps, minReadySeconds, deadlines).
    public var now: @Sendable () -> Int
    /// How long Events live after they last happened (the apiserver's `--event-ttl`, 1h).
    public var eventTTL: Int
    public var log: @Sendable (String) -> Void

    public init(debounce: Duration = .milliseconds(5), now: @escaping @Sendable () -> Int = { Timestamp.now() },
                eventTTL: Int = 3600, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.debounce = debounce
        self.now = now
        self.eventTTL = eventTTL
        self.log = log
    }
}

/// The daemon's controllers (kube-controller-manager's role, for what a
/// lab needs): Deployment → Pods, Service → Endpoints, a `default`
/// ServiceAccount per namespace, garbage collection of objects whose owner
/// is gone, and Event expiry. They read and watch the store of `server`
/// and write through `server`, so their writes are admitted like a user's.
public struct ControllerManager: MeshIO.Service {
    let runners: [ControllerRunner]

    public init(server: APIServer, options: ControllerOptions = ControllerOptions()) {
        let api = LocalAPI(server: server)
        let log = options.log
        func recorder(_ component: String) -> EventRecorder {
            EventRecorder(api: api, component: component, now: options.now, log: log)
        }
        let controllers: [any Controller] = [
            DeploymentController(api: api, recorder: recorder("deployment-controller"), now: options.now, log: log),
            EndpointsController(api: api, log: log),
            ServiceAccountController(api: api),
            GarbageCollector(api: api, resources: server.options.resources.map(\.descriptor)),
            EventExpiryController(api: api, ttl: options.eventTTL, now: options.now),
        ]
        runners = controllers.map {
            ControllerRunner(controller: $0, store: server.store, debounce: options.debounce, log: log)
        }
    }

    /// Runs the controllers until graceful shutdown (or cancellation).
    public func run() async throws {
        try await cancelWhenGracefulShutdown { await runUntilCancelled() }
    }

    /// Runs the controllers until the task is cancelled or the store closes.
    public func runUntilCancelled() async {
        await withTaskGroup(of: Void.self) { group in
            for runner in runners { group.addTask { await runner.run() } }
        }
    }
}
