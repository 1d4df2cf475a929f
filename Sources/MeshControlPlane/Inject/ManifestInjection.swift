import MeshModel

/// `meshlab inject -f` (istioctl kube-inject): injection into the pod
/// templates of workload manifests, offline. Namespace labels play no part
/// (kube-inject injects what it is given); the pod's own opt-out does.
public enum ManifestInjection {
    /// Where each kind keeps its pod template.
    static let templatePaths: [String: FieldPath] = [
        "Deployment": "spec.template", "ReplicaSet": "spec.template", "StatefulSet": "spec.template",
        "DaemonSet": "spec.template", "Job": "spec.template", "ReplicationController": "spec.template",
        "CronJob": "spec.jobTemplate.spec.template",
    ]

    /// The object with its pod (template) injected; objects without pods come back unchanged.
    public static func inject(_ object: JSONValue, settings: InjectionSettings = InjectionSettings())
        throws(InjectionRejection) -> JSONValue
    {
        let kind = object["kind"]?.stringValue ?? ""
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        if kind == "Pod" {
            let workload = WorkloadIdentity.of(pod: object, namespace: namespace)
            guard case .injected(let pod) = try SidecarInjector.inject(
                pod: object, namespace: namespace, workload: workload, settings: settings) else { return object }
            return pod
        }
        guard let path = templatePaths[kind], let template = object[path: path] else { return object }
        let workload = WorkloadIdentity(name: name, namespace: namespace, apiVersion: apiVersion, kind: kind)
        guard case .injected(let pod) = try SidecarInjector.inject(
            pod: template, namespace: namespace, workload: workload, settings: settings) else { return object }
        var result = object
        result[path: path] = pod
        return result
    }
}
