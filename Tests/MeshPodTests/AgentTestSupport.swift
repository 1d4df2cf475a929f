import MeshModel
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// A pod from YAML, defaulted as the API would store it, with a uid.
func makePod(_ yaml: String, uid: String = "uid-1", status: PodStatus? = nil) throws -> Pod {
    let value = try YAML.load(yaml).value
    var pod = try ResourceCodec.decode(Pod.self, from: value)
    pod.applyDefaults()
    if pod.metadata.namespace == nil { pod.metadata.namespace = "default" }
    pod.metadata.uid = uid
    pod.metadata.creationTimestamp = "2026-01-01T00:00:00Z"
    pod.status = status
    return pod
}

/// The epoch seconds that test moments start at: 2026-01-01T00:00:00Z.
let testEpoch = 1_767_225_600

func moment(_ offset: Duration) -> Moment {
    Moment(offset: offset, epochSeconds: testEpoch + Int(offset.components.seconds))
}

/// Drives a `PodLifecycle` by hand: a manual clock, and a transcript of
/// every input and the actions it caused (for golden files and assertions).
struct LifecycleHarness {
    var lifecycle: PodLifecycle
    var now = moment(.zero)
    var transcript: [String] = []
    var nextPID: Int32 = 100
    /// Every action so far.
    var actions: [PodAction] = []

    init(_ pod: Pod, backoff: RestartBackoff.Policy = .kubernetes, second: Duration = .seconds(1)) {
        lifecycle = PodLifecycle(pod: pod, settings: PodLifecycleSettings(backoff: backoff, second: second, hostIP: "10.44.0.1"),
                                 now: moment(.zero))
    }

    @discardableResult
    mutating func start() -> [PodAction] {
        let result = lifecycle.start(now: now)
        record("start", result)
        return result
    }

    @discardableResult
    mutating func send(_ input: PodInput) -> [PodAction] {
        let result = lifecycle.handle(input, now: now)
        record(describe(input), result)
        return result
    }

    /// Moves the clock; delivers `tick` when a wake came due.
    @discardableResult
    mutating func advance(_ duration: Duration) -> [PodAction] {
        now = now + duration
        return send(.tick)
    }

    /// Answers every pending `startContainer` with a started process.
    @discardableResult
    mutating func startPending(_ result: [PodAction]) -> [PodAction] {
        var all: [PodAction] = []
        for action in result {
            guard case .startContainer(let name, let attempt) = action else { continue }
            nextPID += 1
            all += send(.containerStarted(name: name, attempt: attempt, processID: nextPID, builtInApp: nil))
        }
        return all
    }

    func attempt(_ name: String) -> Int { lifecycle.containers.first { $0.name == name }!.attempt }
    func pid(_ name: String) -> Int32? { lifecycle.processID(of: name) }

    @discardableResult mutating func exit(_ name: String, _ status: MeshSystem.ExitStatus) -> [PodAction] {
        send(.containerExited(name: name, attempt: attempt(name), status))
    }

    @discardableResult mutating func probe(_ name: String, _ kind: ProbeKind, _ outcome: ProbeOutcome) -> [PodAction] {
        send(.probed(name: name, attempt: attempt(name), kind, outcome))
    }

    mutating func status() -> PodStatus { lifecycle.status(at: now) }

    private mutating func record(_ input: String, _ result: [PodAction]) {
        actions += result
        let shown = result.map(describe).joined(separator: ", ")
        transcript.append("\(now.offset.goDescription) \(input) -> \(shown.isEmpty ? "nothing" : shown)")
    }

    func describe(_ input: PodInput) -> String {
        switch input {
        case .sandboxCreated(let ip): "sandboxCreated(\(ip))"
        case .sandboxFailed(let message): "sandboxFailed(\(message))"
        case .sandboxDestroyed: "sandboxDestroyed"
        case .containerStarted(let name, let attempt, let pid, _): "started(\(name)#\(attempt) pid \(pid))"
        case .containerStartFailed(let name, let attempt, let failure): "startFailed(\(name)#\(attempt) \(failure.reason))"
        case .containerExited(let name, let attempt, let status): "exited(\(name)#\(attempt) \(status))"
        case .probed(let name, let attempt, let kind, let outcome): "probed(\(name)#\(attempt) \(kind) \(outcome.succeeded ? "ok" : "fail"))"
        case .terminate(let grace, let reason): "terminate(\(grace.goDescription), \(reason))"
        case .tick: "tick"
        }
    }

    func describe(_ action: PodAction) -> String {
        switch action {
        case .createSandbox: "createSandbox"
        case .destroySandbox: "destroySandbox"
        case .startContainer(let name, let attempt): "start(\(name)#\(attempt))"
        case .signal(let name, _, let signal): "\(signal)(\(name))"
        case .startProbe(let name, _, let kind, _): "probe+(\(name) \(kind))"
        case .stopProbe(let name, let kind): "probe-(\(name) \(kind))"
        case .wake(let at): "wake(\(at.offset.goDescription))"
        case .event(let event): "event(\(event.reason))"
        }
    }

    var events: [PodEventRecord] {
        actions.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }
}

extension [PodAction] {
    var starts: [String] {
        compactMap { if case .startContainer(let name, _) = $0 { name } else { nil } }
    }
    var signals: [String] {
        compactMap { if case .signal(let name, _, let signal) = $0 { "\(signal) \(name)" } else { nil } }
    }
    var wake: Moment? {
        compactMap { if case .wake(let at) = $0 { at } else { nil } }.last
    }
}

extension PodStatus {
    func container(_ name: String) -> ContainerStatus? {
        (containerStatuses ?? []).first { $0.name == name } ?? (initContainerStatuses ?? []).first { $0.name == name }
    }
    func condition(_ type: String) -> PodCondition? { (conditions ?? []).first { $0.type == type } }
}

extension LifecycleHarness {
    /// What `meshlab get pods` (kubectl's printer) shows in READY and STATUS for the pod now.
    mutating func kubectl() -> String {
        var pod = lifecycle.pod
        pod.status = status()
        let table = ResourceTable.make(kind: "Pod", objects: [ResourceCodec.encode(pod)], now: testEpoch)
        return "\(table.rows[0][1]) \(table.rows[0][2])"
    }
}

/// Checks a golden file, recording a mismatch as an issue (so one test can check several).
func checkGolden(_ actual: String, _ name: String, filePath: String = #filePath) {
    do {
        try Golden.check(actual, against: name, filePath: filePath)
    } catch {
        Issue.record("\(error)")
    }
}
