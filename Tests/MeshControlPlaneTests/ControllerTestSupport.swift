@testable import MeshControlPlane
import MeshModel
import Synchronization

/// 2023-11-14T22:13:20Z, the controllers' "now" in pure tests.
let controllerNow = 1_700_000_000

/// A Deployment as the API stores it (defaulted), with identity filled in.
func makeDeployment(_ name: String = "web", namespace: String = "default", replicas: Int = 3,
                    image: String = "nginx:1", strategy: JSONValue? = nil, minReadySeconds: Int? = nil,
                    progressDeadlineSeconds: Int? = nil, paused: Bool = false, generation: Int = 1,
                    uid: String = "uid-web", status: JSONValue? = nil) -> Deployment
{
    var spec: JSONObject = [
        "replicas": .int(replicas),
        "selector": ["matchLabels": ["app": .string(name)]],
        "template": [
            "metadata": ["labels": ["app": .string(name)]],
            "spec": ["containers": [["name": "app", "image": .string(image), "ports": [["name": "http", "containerPort": 8080]]]]],
        ],
    ]
    if let strategy { spec["strategy"] = strategy }
    if let minReadySeconds { spec["minReadySeconds"] = .int(minReadySeconds) }
    if let progressDeadlineSeconds { spec["progressDeadlineSeconds"] = .int(progressDeadlineSeconds) }
    if paused { spec["paused"] = true }
    var object: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string(uid),
                     "generation": .int(generation), "creationTimestamp": "2023-11-14T22:00:00Z"],
        "spec": .object(spec),
    ]
    if let status { object["status"] = status }
    let checked = ResourceCodec.check(Deployment.self, object, options: CheckOptions())
    precondition(checked.isValid, "\(checked.diagnostics)")
    return try! ResourceCodec.decode(Deployment.self, from: checked.object!)
}

/// Sequential 5-character suffixes (`bbbbc`, `bbbbd`, ...) standing in for the names the API makes.
final class SuffixSequence: Sendable {
    private let counter = Atomic<Int>(0)
    func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var digits: [Character] = []
        var rest = n
        for _ in 0..<5 {
            digits.append(alphabet[rest % alphabet.count])
            rest /= alphabet.count
        }
        return String(digits.reversed())
    }
}

extension Pod {
    /// This pod with a Ready condition (since `since`), a phase and an IP.
    func ready(_ ready: Bool = true, since: Int = controllerNow - 100, ip: String? = nil) -> Pod {
        var pod = self
        var status = pod.status ?? PodStatus()
        status.phase = .running
        var condition = PodCondition(type: "Ready", status: ready ? .true : .false)
        condition.lastTransitionTime = Timestamp.format(epochSeconds: since)
        status.conditions = [condition]
        if let ip { status.podIP = ip }
        pod.status = status
        return pod
    }

    func created(at seconds: Int) -> Pod {
        var pod = self
        pod.metadata.creationTimestamp = Timestamp.format(epochSeconds: seconds)
        return pod
    }

    var hash: String { metadata.labels?[DeploymentReconciler.hashLabel] ?? "" }
    var name: String { metadata.name ?? "" }
}

/// `count` pods of `deployment`'s current template, ready unless told otherwise.
func currentPods(_ deployment: Deployment, _ count: Int, ready: Bool = true, suffixes: SuffixSequence = SuffixSequence(),
                 created: Int = controllerNow - 1000) -> [Pod] {
    let hash = DeploymentReconciler.templateHash(deployment.spec.template)
    return (0..<count).map { _ in
        var pod = DeploymentReconciler.newPod(deployment, hash: hash).created(at: created)
        pod.metadata.name = (pod.metadata.generateName ?? "") + suffixes.next()
        pod.spec.nodeName = "meshlab"
        pod.metadata.uid = "uid-" + (pod.metadata.name ?? "")
        return ready ? pod.ready() : pod
    }
}
