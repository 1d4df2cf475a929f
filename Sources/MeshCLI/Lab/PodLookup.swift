import MeshClient
import MeshModel
import MeshPod

/// Finds the pod a command names: `NAME`, `pod/NAME` or `deploy/NAME` (one
/// of the Deployment's running pods), as kubectl's logs and exec accept.
enum PodLookup {
    static func pod(named reference: String, namespace: String, client: APIClient) async throws -> Pod {
        let object: JSONValue
        if let slash = reference.firstIndex(of: "/") {
            let kind = reference[..<slash].lowercased()
            let name = String(reference[reference.index(after: slash)...])
            switch kind {
            case "pod", "pods", "po":
                object = try await client.get(APIClient.path(Pod.descriptor, namespace: namespace, name: name))
            case "deploy", "deployment", "deployments":
                let deployment = try await client.get(APIClient.path(Deployment.descriptor, namespace: namespace, name: name))
                let labels = deployment["spec"]?["selector"]?["matchLabels"]?.objectValue ?? JSONObject()
                let selector = labels.sortedPairs.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
                let list = try await client.get(APIClient.path(Pod.descriptor, namespace: namespace,
                                                               query: [("labelSelector", selector)]))
                let pods = list["items"]?.arrayValue ?? []
                guard let running = pods.first(where: { $0["status"]?["phase"] == "Running" }) ?? pods.first else {
                    throw UsageError("deployment \(name) in namespace \(namespace) has no pods")
                }
                object = running
            default:
                throw UsageError("cannot use \(kind)/ here: name a pod, pod/NAME or deploy/NAME")
            }
        } else {
            object = try await client.get(APIClient.path(Pod.descriptor, namespace: namespace, name: reference))
        }
        return try ResourceCodec.decode(Pod.self, from: object)
    }

    static func identity(_ pod: Pod) -> PodIdentity {
        PodIdentity(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "")
    }

    /// The container a command means: the one named, the pod's
    /// `kubectl.kubernetes.io/default-container`, or the first (saying so when there are several).
    static func containerName(_ pod: Pod, named: String?, context: CommandContext) throws -> String {
        let names = (pod.spec.initContainers ?? []).map(\.name) + pod.spec.containers.map(\.name)
        if let named {
            guard names.contains(named) else {
                throw UsageError("container \(named) is not valid for pod \(pod.metadata.name ?? ""): choose one of \(names.joined(separator: ", "))")
            }
            return named
        }
        if let preferred = pod.metadata.annotations?["kubectl.kubernetes.io/default-container"], names.contains(preferred) {
            return preferred
        }
        let first = pod.spec.containers.first?.name ?? names.first ?? ""
        if pod.spec.containers.count > 1 {
            context.printError("Defaulted container \"\(first)\" out of: \(pod.spec.containers.map(\.name).joined(separator: ", "))")
        }
        return first
    }
}
