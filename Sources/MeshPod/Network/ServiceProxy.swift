import MeshClient
import MeshHTTP
import MeshIO
import MeshModel

/// The kube-proxy role: keeps every sandbox's ClusterIP rules in step with
/// the API's Services and Endpoints.
///
/// It lists and watches both kinds, and after a change waits `debounce`
/// (so a rollout's burst of Endpoints updates becomes one load), renders
/// `ServiceRules` once and loads them into each sandbox whose rules are
/// older. As a `SandboxObserver` it loads the current rules into a new
/// sandbox before `create` returns, so a pod's containers start with
/// working ClusterIPs. Loads into one sandbox never overlap; a change that
/// arrives during a load is applied right after it.
public actor ServiceProxy: MeshIO.Service, SandboxObserver {
    private let client: APIClient
    private let loader: any ServiceRulesLoader
    private let debounce: Duration
    private let log: @Sendable (String) -> Void

    private var services: [String: MeshModel.Service] = [:]
    private var endpoints: [String: Endpoints] = [:]
    private var rules = ServiceRules(ports: [])
    /// Bumped each time `rules` changes.
    private var version = 0
    private var flushScheduled = false
    private var retryScheduled = false
    private var targets: [PodIdentity: Target] = [:]
    /// How many lists have been taken in (for tests that wait for the first two).
    private(set) var listsTakenIn = 0

    private struct Target {
        var sandbox: PodSandbox
        var installed: ServiceRules.InstalledState?
        var appliedVersion = -1
        var busy = false
        var lastError: String?
    }

    public init(client: APIClient, loader: any ServiceRulesLoader = ServiceRulesApplier(),
                debounce: Duration = .milliseconds(20), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.loader = loader
        self.debounce = debounce
        self.log = log
    }

    /// The rules as last rendered.
    public var currentRules: ServiceRules { rules }

    /// Whether `pod`'s sandbox holds the current rules (nothing pending for it).
    public func isSynced(_ pod: PodIdentity) -> Bool {
        guard let target = targets[pod] else { return false }
        return !flushScheduled && !target.busy && target.appliedVersion == version
    }

    /// Sandboxes whose last load failed, with why (for `meshlab status`).
    public var failures: [PodIdentity: String] { targets.compactMapValues(\.lastError) }

    // MARK: MeshIO.Service

    /// Lists and watches until graceful shutdown or cancellation; a failed
    /// watch is started again (after a second) from a fresh list.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await self.follow(MeshModel.Service.self) }
                    group.addTask { await self.follow(Endpoints.self) }
                    try await group.waitForAll()
                }
            }
        } catch is CancellationError {}
    }

    /// List, then watch from the list's version. A watch that goes quiet
    /// past the client's read timeout is started again from the last
    /// version seen; one the server ends with an ERROR (410 Gone: too far
    /// behind) or that fails otherwise is followed by a fresh list.
    private func follow<R: Resource>(_ type: R.Type) async {
        let collection = APIClient.path(R.descriptor, namespace: nil)
        var version: String?
        while !Task.isCancelled {
            do {
                if version == nil {
                    let list = try await client.get(collection)
                    replaceAll((list["items"]?.arrayValue ?? []).compactMap { decode(R.self, $0) })
                    version = list["metadata"]?["resourceVersion"]?.stringValue ?? ""
                }
                let path = version!.isEmpty ? collection : collection + "?resourceVersion=\(version!)"
                for try await event in client.watch(path) {
                    if event.type == "ERROR" {
                        version = nil
                        break
                    }
                    if let seen = event.object["metadata"]?["resourceVersion"]?.stringValue { version = seen }
                    guard let object = decode(R.self, event.object) else { continue }
                    update(object, deleted: event.type == "DELETED")
                }
            } catch HTTPError.timedOut {
                continue  // an idle watch: watch again from `version`
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                log("service proxy: watching \(R.descriptor.plural): \(error); listing again in 1s")
                version = nil
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private nonisolated func decode<R: Resource>(_ type: R.Type, _ object: JSONValue) -> R? {
        do {
            return try ResourceCodec.decode(R.self, from: object)
        } catch {
            log("service proxy: ignoring a \(R.descriptor.kind) that does not decode: \(error.diagnostic)")
            return nil
        }
    }

    /// Decided by the type, never by casting the values: an empty list of
    /// Endpoints casts to an empty list of Services just as well.
    private func replaceAll<R: Resource>(_ items: [R]) {
        if R.self == MeshModel.Service.self {
            services = Dictionary(items.compactMap { $0 as? MeshModel.Service }.map { (ServiceRules.key($0.metadata), $0) },
                                  uniquingKeysWith: { $1 })
        } else if R.self == Endpoints.self {
            endpoints = Dictionary(items.compactMap { $0 as? Endpoints }.map { (ServiceRules.key($0.metadata), $0) },
                                   uniquingKeysWith: { $1 })
        }
        listsTakenIn += 1
        changed()
    }

    private func update<R: Resource>(_ object: R, deleted: Bool) {
        if let service = object as? MeshModel.Service {
            services[ServiceRules.key(service.metadata)] = deleted ? nil : service
        } else if let object = object as? Endpoints {
            endpoints[ServiceRules.key(object.metadata)] = deleted ? nil : object
        }
        changed()
    }

    /// Schedules one render and load for everything that changes within `debounce`.
    private func changed() {
        guard !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: debounce)
            await flush()
        }
    }

    private func flush() async {
        flushScheduled = false
        let rendered = ServiceRules(services: Array(services.values), endpoints: Array(endpoints.values))
        guard rendered != rules else { return }
        rules = rendered
        version += 1
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for pod in targets.keys {
                // Two at a time: each load is a process; the machine has few cores.
                if running == 2 {
                    await group.next()
                    running -= 1
                }
                group.addTask { try? await self.sync(pod) }
                running += 1
            }
        }
    }

    /// Loads that failed outside `create` are tried again a second later
    /// (a busy machine, a stray lock), until they succeed or the sandbox goes.
    private func scheduleRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        Task {
            try? await Task.sleep(for: .seconds(1))
            retryScheduled = false
            for (pod, target) in targets where target.lastError != nil { try? await sync(pod) }
        }
    }

    /// Brings one sandbox to the current rules (again, if they change meanwhile).
    private func sync(_ pod: PodIdentity) async throws {
        guard var target = targets[pod], !target.busy else { return }
        target.busy = true
        targets[pod] = target
        defer { targets[pod]?.busy = false }
        while let current = targets[pod], current.appliedVersion != version {
            let (wanted, goal) = (version, rules)
            let sandbox = current.sandbox
            do {
                // Without a netns (the fallback mode) there is nothing to load into.
                guard sandbox.networkNamespace != nil else { return }
                let installed: ServiceRules.InstalledState
                if let known = current.installed {
                    installed = known
                } else {
                    installed = ServiceRules.installedState(fromSave: try await loader.save(from: sandbox))
                }
                try await loader.load(goal.restoreInput(over: installed), into: sandbox)
                targets[pod]?.installed = goal.installedState
                targets[pod]?.appliedVersion = wanted
                targets[pod]?.lastError = nil
            } catch {
                // Unknown state after a failed load: read it back next time.
                targets[pod]?.installed = nil
                targets[pod]?.lastError = "\(error)"
                log("service proxy: \(pod): \(error)")
                scheduleRetry()
                throw error
            }
        }
    }

    // MARK: SandboxObserver

    public func sandboxCreated(_ sandbox: PodSandbox) async throws {
        targets[sandbox.pod] = Target(sandbox: sandbox, installed: .empty)
        try await sync(sandbox.pod)
    }

    public func sandboxAdopted(_ sandbox: PodSandbox) async throws {
        targets[sandbox.pod] = Target(sandbox: sandbox, installed: nil)
        try await sync(sandbox.pod)
    }

    public func sandboxDestroyed(_ pod: PodIdentity) async {
        targets[pod] = nil
    }
}
