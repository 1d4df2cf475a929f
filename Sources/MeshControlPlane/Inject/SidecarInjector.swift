import MeshModel

/// The pod's owning workload as Istio's template sees it (`DeploymentMeta`
/// and `TypeMeta`): names `ISTIO_META_WORKLOAD_NAME` and `ISTIO_META_OWNER`.
public struct WorkloadIdentity: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var apiVersion: String
    public var kind: String

    public init(name: String, namespace: String, apiVersion: String, kind: String) {
        self.name = name
        self.namespace = namespace
        self.apiVersion = apiVersion
        self.kind = kind
    }

    /// `kubernetes://apis/apps/v1/namespaces/default/deployments/hello`.
    public var owner: String {
        "kubernetes://apis/\(apiVersion)/namespaces/\(namespace.isEmpty ? "default" : namespace)/\(kind.lowercased())s/\(name)"
    }

    /// The workload of a pod as the webhook sees it (Istio's GetDeployMetaFromPod): its
    /// controller, with a ReplicaSet's pod-template-hash cut off to name the Deployment;
    /// the pod itself when nothing controls it.
    public static func of(pod: JSONValue, namespace: String) -> WorkloadIdentity {
        let metadata = pod["metadata"]
        let owners = metadata?["ownerReferences"]?.arrayValue ?? []
        if let controller = owners.first(where: { $0["controller"]?.boolValue == true }),
            let kind = controller["kind"]?.stringValue, let name = controller["name"]?.stringValue
        {
            let apiVersion = controller["apiVersion"]?.stringValue ?? "v1"
            if kind == "ReplicaSet", let hash = metadata?["labels"]?["pod-template-hash"]?.stringValue, name.hasSuffix("-" + hash) {
                return WorkloadIdentity(name: String(name.dropLast(hash.count + 1)), namespace: namespace,
                                        apiVersion: "apps/v1", kind: "Deployment")
            }
            return WorkloadIdentity(name: name, namespace: namespace, apiVersion: apiVersion, kind: kind)
        }
        var name = metadata?["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = metadata?["generateName"]?.stringValue {
            name = prefix.hasSuffix("-") ? String(prefix.dropLast()) : prefix
        }
        return WorkloadIdentity(name: name, namespace: namespace, apiVersion: "v1", kind: "Pod")
    }
}

/// Why a pod was not injected, or why injection was refused.
public enum InjectionOutcome: Sendable, Equatable {
    /// The pod with Istio's sidecar added.
    case injected(JSONValue)
    /// The pod is left as it is (hostNetwork, an ignored namespace, opted out…).
    case skipped(reason: String)
}

/// The pod cannot be injected as it asks (bad `traffic.sidecar.istio.io/*`
/// annotations, a `proxy.istio.io/config` that is not YAML): the webhook
/// refuses the pod with this message, as Istio's does.
public struct InjectionRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Istio's sidecar injection as one pure function, shared by meshd's
/// `/inject` webhook and `meshlab inject`: the pod in, the injected pod
/// (or the reason it is left alone) out. It builds what Istio's default
/// `sidecar` template builds (pkg/kube/inject, injection-template.yaml with
/// native sidecars): the `istio-init` init container, `istio-proxy` as an
/// init container with `restartPolicy: Always`, the labels and annotations.
/// Volumes and volume mounts are left out: meshlab's sidecar gets its
/// identity and bootstrap from the node agent, not from mounted files.
public enum SidecarInjector {
    public static let proxyName = "istio-proxy"
    public static let initName = "istio-init"
    static let statusAnnotation = "sidecar.istio.io/status"
    static let injectKey = "sidecar.istio.io/inject"

    /// Injects `pod` (an object with `metadata` and `spec`: a Pod or a pod
    /// template) living in `namespace`, owned by `workload`.
    public static func inject(pod: JSONValue, namespace: String, workload: WorkloadIdentity,
                              settings: InjectionSettings = InjectionSettings()) throws(InjectionRejection) -> InjectionOutcome
    {
        if let reason = skipReason(pod: pod, namespace: namespace, settings: settings) { return .skipped(reason: reason) }
        let annotations = stringMap(pod["metadata"]?["annotations"])
        let labels = stringMap(pod["metadata"]?["labels"])
        let traffic = TrafficAnnotations(annotations: annotations)
        var problems = traffic.problems()
        let proxyConfig: JSONObject
        do throws(InjectionRejection) {
            proxyConfig = try mergedProxyConfig(annotations["proxy.istio.io/config"], settings: settings)
        } catch {
            problems.append(error.message)
            proxyConfig = settings.defaultProxyConfig
        }
        if !problems.isEmpty { throw InjectionRejection(problems.joined(separator: "; ")) }

        let spec = pod["spec"] ?? .object([:])
        let appContainers = spec["containers"]?.arrayValue ?? []
        let template = SidecarTemplate(settings: settings, annotations: annotations, labels: labels, spec: spec,
                                       workload: workload, proxyConfig: proxyConfig, traffic: traffic)
        var injected = pod
        var initContainers = spec["initContainers"]?.arrayValue ?? []
        initContainers.removeAll { [initName, proxyName].contains($0["name"]?.stringValue) }
        // Istio puts its own first: capture is set up before any other init container runs,
        // and a native sidecar must start before the init containers that need the network.
        initContainers.insert(contentsOf: [template.initContainer, template.proxyContainer], at: 0)
        injected[path: "spec.initContainers"] = .array(initContainers)

        var newLabels = pod["metadata"]?["labels"]?.objectValue ?? JSONObject()
        newLabels["security.istio.io/tlsMode"] = "istio"
        newLabels["service.istio.io/canonical-name"] = .string(canonicalName(labels: labels, workload: workload))
        newLabels["service.istio.io/canonical-revision"] = .string(canonicalRevision(labels: labels))
        injected[path: "metadata.labels"] = .object(newLabels)

        var newAnnotations = pod["metadata"]?["annotations"]?.objectValue ?? JSONObject()
        newAnnotations["istio.io/rev"] = .string(settings.revision)
        if let first = appContainers.first?["name"]?.stringValue {
            if newAnnotations["kubectl.kubernetes.io/default-container"] == nil {
                newAnnotations["kubectl.kubernetes.io/default-container"] = .string(first)
            }
            if newAnnotations["kubectl.kubernetes.io/default-logs-container"] == nil {
                newAnnotations["kubectl.kubernetes.io/default-logs-container"] = .string(first)
            }
        }
        // Metrics merging (Istio's default): scrapers are pointed at the agent, which merges the app's.
        if annotations["prometheus.io/scrape"] != "false" {
            newAnnotations["prometheus.io/scrape"] = "true"
            newAnnotations["prometheus.io/port"] = .string(String(SidecarPorts.status))
            newAnnotations["prometheus.io/path"] = "/stats/prometheus"
        }
        newAnnotations[statusAnnotation] = .string(status(settings: settings))
        injected[path: "metadata.annotations"] = .object(newAnnotations)
        return .injected(injected)
    }

    /// Istio's `injectRequired`: nil when the pod is to be injected.
    static func skipReason(pod: JSONValue, namespace: String, settings: InjectionSettings) -> String? {
        if pod["spec"]?["hostNetwork"]?.boolValue == true { return "the pod uses the host's network" }
        if settings.ignoredNamespaces.contains(namespace) { return "namespace \(namespace) is never injected" }
        let metadata = pod["metadata"]
        if metadata?["annotations"]?[statusAnnotation] != nil { return "the pod already has a sidecar" }
        // The label is the newer API: when both are set it wins.
        let asked = metadata?["labels"]?[injectKey]?.stringValue ?? metadata?["annotations"]?[injectKey]?.stringValue ?? ""
        switch asked.lowercased() {
        case "y", "yes", "true", "on": return nil
        case "": return settings.policy == .enabled ? nil : "injection policy is disabled and the pod does not ask for a sidecar"
        default: return "the pod opts out with \(injectKey): \(asked)"
        }
    }

    /// `proxy.istio.io/config` (YAML) merged over the mesh default, as PROXY_CONFIG carries it.
    static func mergedProxyConfig(_ annotation: String?, settings: InjectionSettings) throws(InjectionRejection) -> JSONObject {
        var config = settings.defaultProxyConfig
        guard let annotation else { return config }
        let value: JSONValue
        do {
            value = try YAML.load(annotation).value
        } catch {
            throw InjectionRejection("invalid value for annotation 'proxy.istio.io/config': \(error)")
        }
        guard let object = value.objectValue else {
            if value.isNull { return config }
            throw InjectionRejection("invalid value for annotation 'proxy.istio.io/config': must be a map, not a \(value.typeName)")
        }
        for (key, value) in object { config[key] = value }
        return config
    }

    /// `service.istio.io/canonical-name`: the explicit label, else the app's name, else the workload's.
    static func canonicalName(labels: [String: String], workload: WorkloadIdentity) -> String {
        labels["service.istio.io/canonical-name"] ?? labels["app.kubernetes.io/name"] ?? labels["app"] ?? workload.name
    }

    static func canonicalRevision(labels: [String: String]) -> String {
        labels["service.istio.io/canonical-revision"] ?? labels["app.kubernetes.io/version"] ?? labels["version"] ?? "latest"
    }

    /// The `sidecar.istio.io/status` annotation: what was injected, so that a
    /// later run (and `istioctl`) can find it. Volumes are none: meshlab injects none.
    static func status(settings: InjectionSettings) -> String {
        let status: JSONValue = [
            "initContainers": [.string(initName), .string(proxyName)], "containers": nil, "volumes": nil,
            "imagePullSecrets": nil, "revision": .string(settings.revision),
        ]
        return status.serialized(.compact)
    }

    static func stringMap(_ value: JSONValue?) -> [String: String] {
        var map: [String: String] = [:]
        for (key, value) in value?.objectValue ?? JSONObject() { map[key] = value.stringValue ?? value.serialized(.compact) }
        return map
    }
}
