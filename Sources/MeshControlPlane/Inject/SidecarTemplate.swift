import MeshModel

/// The two containers Istio's `sidecar` template adds, with its native-sidecar
/// layout: `istio-init` (root with NET_ADMIN/NET_RAW, runs istio-iptables)
/// and `istio-proxy` (uid/gid 1337, an init container with `restartPolicy:
/// Always`, so it starts before and outlives the app containers).
struct SidecarTemplate {
    let settings: InjectionSettings
    let annotations: [String: String]
    let labels: [String: String]
    let spec: JSONValue
    let workload: WorkloadIdentity
    let proxyConfig: JSONObject
    let traffic: TrafficAnnotations

    var initContainer: JSONValue {
        var container: JSONObject = [
            "name": .string(SidecarInjector.initName), "image": .string(settings.proxyImage),
            "args": .array(traffic.iptablesArguments.map(JSONValue.string)),
        ]
        if !proxyMetadata.isEmpty { container["env"] = .array(proxyMetadata) }
        container["resources"] = resources
        container["securityContext"] = [
            "allowPrivilegeEscalation": false, "capabilities": ["add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]],
            "privileged": false, "readOnlyRootFilesystem": false, "runAsGroup": 0, "runAsNonRoot": false, "runAsUser": 0,
        ]
        return .object(container)
    }

    var proxyContainer: JSONValue {
        let healthProbe: JSONValue = ["path": "/healthz/ready", "port": .int(SidecarPorts.health)]
        let readiness: JSONObject = [
            "failureThreshold": .int(annotationInt("readiness.status.sidecar.istio.io/failureThreshold") ?? 4),
            "httpGet": healthProbe,
            "periodSeconds": .int(annotationInt("readiness.status.sidecar.istio.io/periodSeconds") ?? 15),
            "timeoutSeconds": 3,
        ]
        var readinessProbe = readiness
        if let delay = annotationInt("readiness.status.sidecar.istio.io/initialDelaySeconds"), delay > 0 {
            readinessProbe["initialDelaySeconds"] = .int(delay)
        }
        return [
            "name": .string(SidecarInjector.proxyName), "image": .string(settings.proxyImage),
            "args": .array(proxyArguments.map(JSONValue.string)),
            "env": .array(environment),
            "lifecycle": ["preStop": ["exec": ["command": ["pilot-agent", "request", "--debug-port=15020", "POST", "drain"]]]],
            "ports": [["containerPort": .int(SidecarPorts.prometheus), "name": "http-envoy-prom", "protocol": "TCP"]],
            "readinessProbe": .object(readinessProbe),
            "resources": resources,
            "restartPolicy": "Always",
            "securityContext": [
                "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]], "privileged": false,
                "readOnlyRootFilesystem": true, "runAsGroup": .int(SidecarPorts.proxyUID), "runAsNonRoot": true,
                "runAsUser": .int(SidecarPorts.proxyUID),
            ],
            "startupProbe": ["failureThreshold": 600, "httpGet": healthProbe, "periodSeconds": 1, "timeoutSeconds": 3],
        ]
    }

    /// `proxy sidecar --domain $(POD_NAMESPACE).svc.cluster.local --proxyLogLevel=warning …`
    var proxyArguments: [String] {
        ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.\(settings.clusterDomain)",
         "--proxyLogLevel=\(annotations["sidecar.istio.io/logLevel"] ?? "warning")",
         "--proxyComponentLogLevel=\(annotations["sidecar.istio.io/componentLogLevel"] ?? "misc:error")",
         "--log_output_level=\(annotations["sidecar.istio.io/agentLogLevel"] ?? "default:info")"]
    }

    /// The proxy's environment in the template's order: downward-API identity,
    /// PROXY_CONFIG, the ISTIO_META_* node metadata, then `proxyMetadata`.
    var environment: [JSONValue] {
        func value(_ name: String, _ value: String) -> JSONValue { ["name": .string(name), "value": .string(value)] }
        func field(_ name: String, _ path: String) -> JSONValue {
            ["name": .string(name), "valueFrom": ["fieldRef": ["fieldPath": .string(path)]]]
        }
        func resource(_ name: String, _ resource: String) -> JSONValue {
            ["name": .string(name), "valueFrom": ["resourceFieldRef": ["divisor": "1", "resource": .string(resource)]]]
        }
        let containers = spec["containers"]?.arrayValue ?? []
        let ports = containers.flatMap { $0["ports"]?.arrayValue ?? [] }
        var env: [JSONValue] = [
            value("PILOT_CERT_PROVIDER", "istiod"), value("CA_ADDR", settings.caAddress),
            field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"),
            field("INSTANCE_IP", "status.podIP"), field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
            field("HOST_IP", "status.hostIP"), resource("ISTIO_CPU_LIMIT", "limits.cpu"),
            value("PROXY_CONFIG", JSONValue.object(proxyConfig).serialized(.compact) + "\n"),
        ]
        // The template renders `[`, one line per port, `]`: an empty list when no container declares one.
        let portLines = ports.isEmpty ? "" : "\n    " + ports.map { Self.portJSON($0) }.joined(separator: "\n    ,")
        env += [
            value("ISTIO_META_POD_PORTS", "[" + portLines + "\n]"),
            value("ISTIO_META_APP_CONTAINERS", containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
            resource("GOMEMLIMIT", "limits.memory"),
            value("ISTIO_META_CLUSTER_ID", settings.clusterID), field("ISTIO_META_NODE_NAME", "spec.nodeName"),
            value("ISTIO_META_INTERCEPTION_MODE", traffic.mode),
        ]
        if !workload.name.isEmpty {
            env += [value("ISTIO_META_WORKLOAD_NAME", workload.name), value("ISTIO_META_OWNER", workload.owner)]
        }
        env += [value("ISTIO_META_MESH_ID", settings.meshID), value("TRUST_DOMAIN", settings.trustDomain)]
        return env + proxyMetadata
    }

    /// `proxyMetadata` of the merged ProxyConfig as env entries, sorted by name (Go ranges a map sorted).
    var proxyMetadata: [JSONValue] {
        let metadata = proxyConfig["proxyMetadata"]?.objectValue ?? JSONObject()
        return metadata.sortedPairs.map { ["name": .string($0.key), "value": .string($0.value.stringValue ?? $0.value.serialized(.compact))] }
    }

    /// Istio's default sidecar resources, or what `sidecar.istio.io/proxyCPU|Memory[Limit]` ask for.
    var resources: JSONValue {
        let keys = ["sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyMemory", "sidecar.istio.io/proxyCPULimit",
                    "sidecar.istio.io/proxyMemoryLimit"]
        guard keys.contains(where: { annotations[$0] != nil }) else {
            return ["limits": ["cpu": "2", "memory": "1Gi"], "requests": ["cpu": "100m", "memory": "128Mi"]]
        }
        var requests = JSONObject()
        var limits = JSONObject()
        if let cpu = annotations[keys[0]] { requests["cpu"] = .string(Self.canonicalCPU(cpu)) }
        if let memory = annotations[keys[1]] { requests["memory"] = .string(memory) }
        if let cpu = annotations[keys[2]] { limits["cpu"] = .string(Self.canonicalCPU(cpu)) }
        if let memory = annotations[keys[3]] { limits["memory"] = .string(memory) }
        var result = JSONObject()
        if !limits.isEmpty { result["limits"] = .object(limits) }
        if !requests.isEmpty { result["requests"] = .object(requests) }
        return .object(result)
    }

    /// `4000m` → `4`, as a Kubernetes Quantity prints itself when whole.
    static func canonicalCPU(_ text: String) -> String {
        if text.hasSuffix("m"), let milli = Int(text.dropLast()), milli % 1000 == 0 { return String(milli / 1000) }
        return text
    }

    /// One container port as Go's json.Marshal writes a ContainerPort (field order, omitempty).
    static func portJSON(_ port: JSONValue) -> String {
        var object = JSONObject()
        for key in ["name", "hostPort", "containerPort", "protocol", "hostIP"] {
            if let value = port[key], !value.isNull, value != .string(""), value != .int(0) || key == "containerPort" {
                object[key] = value
            }
        }
        return JSONValue.object(object).serialized(.compact)
    }

    func annotationInt(_ key: String) -> Int? { annotations[key].flatMap { Int($0) } }
}
