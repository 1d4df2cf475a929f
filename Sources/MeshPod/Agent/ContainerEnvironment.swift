import MeshModel

/// What a container's environment may refer to besides its own spec: the
/// pod's addresses, the node, and the ConfigMaps it names (fetched before).
public struct PodEnvironmentSources: Sendable {
    public var podIP: String
    public var hostIP: String
    public var nodeName: String
    /// The ConfigMaps of the pod's namespace that the container names; a
    /// name missing here does not exist.
    public var configMaps: [String: ConfigMap]
    /// What `resourceFieldRef` reports for limits the container does not
    /// set (kubelet uses the node's allocatable capacity).
    public var node: NodeCapacity

    public init(podIP: String, hostIP: String, nodeName: String, configMaps: [String: ConfigMap] = [:],
                node: NodeCapacity = NodeCapacity(cpuCores: 1, memoryBytes: 1 << 30)) {
        self.podIP = podIP
        self.hostIP = hostIP
        self.nodeName = nodeName
        self.configMaps = configMaps
        self.node = node
    }
}

/// The node's capacity, for `resourceFieldRef` without limits.
public struct NodeCapacity: Sendable, Hashable {
    public var cpuCores: Int
    public var memoryBytes: Int64

    public init(cpuCores: Int, memoryBytes: Int64) {
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
    }
}

/// A container's environment as kubelet builds it (makeEnvironmentVariables):
/// `envFrom` first, in order, then `env`, each later name replacing an
/// earlier one; `env` values expand `$(VAR)` against what is defined so far;
/// `valueFrom` values are taken as they are.
public struct ContainerEnvironment: Sendable, Hashable {
    public struct Variable: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    /// The container's own variables, in definition order, each name once
    /// (where a name was defined twice, the later value at the first place).
    public var variables: [Variable]
    /// Problems that did not stop the container (skipped names, Secrets not
    /// served), as Warning events.
    public var warnings: [PodEventRecord]

    /// name → value.
    public var dictionary: [String: String] {
        Dictionary(variables.map { ($0.name, $0.value) }, uniquingKeysWith: { _, later in later })
    }

    /// The names of the ConfigMaps `container` refers to (to fetch before `resolve`).
    public static func configMapNames(_ container: Container) -> Set<String> {
        var names = Set<String>()
        for source in container.envFrom ?? [] {
            if let name = source.configMapRef?.name { names.insert(name) }
        }
        for variable in container.env ?? [] {
            if let name = variable.valueFrom?.configMapKeyRef?.name { names.insert(name) }
        }
        return names
    }

    public static func resolve(_ container: Container, pod: Pod, sources: PodEnvironmentSources)
        throws(ContainerStartFailure) -> ContainerEnvironment
    {
        var result = ContainerEnvironment(variables: [], warnings: [])
        var index: [String: Int] = [:]
        func define(_ name: String, _ value: String) {
            if let at = index[name] {
                result.variables[at].value = value
            } else {
                index[name] = result.variables.count
                result.variables.append(Variable(name: name, value: value))
            }
        }
        let namespace = pod.metadata.namespace ?? "default"

        for source in container.envFrom ?? [] {
            if let reference = source.configMapRef {
                let name = reference.name ?? ""
                guard let configMap = sources.configMaps[name] else {
                    if reference.optional == true { continue }
                    throw ContainerStartFailure(.configuration, "configmap \"\(name)\" not found")
                }
                var skipped: [String] = []
                for key in (configMap.data ?? [:]).keys.sorted() {
                    let variable = (source.prefix ?? "") + key
                    guard isValidName(variable) else {
                        skipped.append(variable)
                        continue
                    }
                    define(variable, configMap.data![key]!)
                }
                if !skipped.isEmpty {
                    result.warnings.append(PodEventRecord(.warning, "InvalidEnvironmentVariableNames",
                        "Keys [\(skipped.joined(separator: ", "))] from the EnvFrom configMap \(namespace)/\(name) were skipped since they are considered invalid environment variable names."))
                }
            }
            if let reference = source.secretRef {
                let name = reference.name ?? ""
                if reference.optional == true {
                    result.warnings.append(PodEventRecord(.warning, "SecretNotServed", Self.secretNotServed(name, skipped: "envFrom secretRef")))
                    continue
                }
                throw ContainerStartFailure(.configuration, Self.secretNotServed(name, skipped: nil))
            }
        }

        for variable in container.env ?? [] {
            if let source = variable.valueFrom {
                guard let value = try valueFrom(source, variable: variable.name, container: container, pod: pod,
                                                sources: sources, warnings: &result.warnings)
                else { continue }
                define(variable.name, value)
            } else {
                let defined = result.dictionary
                define(variable.name, VariableExpansion.expand(variable.value ?? "", in: defined))
            }
        }
        return result
    }

    /// The value of a `valueFrom`, or nil when an optional source is missing.
    static func valueFrom(_ source: EnvVarSource, variable: String, container: Container, pod: Pod,
                          sources: PodEnvironmentSources, warnings: inout [PodEventRecord])
        throws(ContainerStartFailure) -> String?
    {
        if let field = source.fieldRef {
            return try fieldValue(field.fieldPath, pod: pod, sources: sources)
        }
        if let resource = source.resourceFieldRef {
            return try resourceValue(resource, container: container, node: sources.node)
        }
        if let key = source.configMapKeyRef {
            let name = key.name ?? ""
            let namespace = pod.metadata.namespace ?? "default"
            guard let configMap = sources.configMaps[name] else {
                if key.optional == true { return nil }
                throw ContainerStartFailure(.configuration, "configmap \"\(name)\" not found")
            }
            guard let value = configMap.data?[key.key] else {
                if key.optional == true { return nil }
                throw ContainerStartFailure(.configuration, "couldn't find key \(key.key) in ConfigMap \(namespace)/\(name)")
            }
            return value
        }
        if let key = source.secretKeyRef {
            let name = key.name ?? ""
            if key.optional == true {
                warnings.append(PodEventRecord(.warning, "SecretNotServed", secretNotServed(name, skipped: "env \(variable)")))
                return nil
            }
            throw ContainerStartFailure(.configuration, secretNotServed(name, skipped: nil))
        }
        throw ContainerStartFailure(.configuration, "env \(variable): valueFrom names no source meshlab can read")
    }

    static func secretNotServed(_ name: String, skipped: String?) -> String {
        let what = "secret \"\(name)\": meshlab does not serve Secrets"
        if let skipped { return "\(what); \(skipped) left out" }
        return "\(what): put the value in env: or a ConfigMap, or mark the reference optional"
    }

    /// A pod field, as kubelet's podFieldSelectorRuntimeValue reads it.
    public static func fieldValue(_ path: String, pod: Pod, sources: PodEnvironmentSources)
        throws(ContainerStartFailure) -> String
    {
        let metadata = pod.metadata
        switch path {
        case "metadata.name": return metadata.name ?? ""
        case "metadata.namespace": return metadata.namespace ?? "default"
        case "metadata.uid": return metadata.uid ?? ""
        case "metadata.labels": return formatMap(metadata.labels ?? [:])
        case "metadata.annotations": return formatMap(metadata.annotations ?? [:])
        case "spec.nodeName": return pod.spec.nodeName ?? sources.nodeName
        case "spec.serviceAccountName": return pod.spec.serviceAccountName ?? "default"
        case "status.podIP", "status.podIPs": return sources.podIP
        case "status.hostIP", "status.hostIPs": return sources.hostIP
        default: break
        }
        for (prefix, map) in [("metadata.labels", metadata.labels), ("metadata.annotations", metadata.annotations)] {
            if let key = subscriptKey(path, prefix: prefix) { return map?[key] ?? "" }
        }
        throw ContainerStartFailure(.configuration, "unsupported fieldPath: \(path)")
    }

    /// `metadata.labels['app']` → `app` (also with double quotes).
    static func subscriptKey(_ path: String, prefix: String) -> String? {
        guard path.hasPrefix(prefix + "["), path.hasSuffix("]") else { return nil }
        var key = path.dropFirst(prefix.count + 1).dropLast()
        guard key.count >= 2, let quote = key.first, quote == "'" || quote == "\"", key.last == quote else { return nil }
        key = key.dropFirst().dropLast()
        return String(key)
    }

    /// Go's fieldpath.FormatMap: sorted `key="value"` lines.
    static func formatMap(_ map: [String: String]) -> String {
        map.keys.sorted().map { "\($0)=\(JSONValue.string(map[$0]!).serialized(.compact))" }.joined(separator: "\n")
    }

    /// A container resource figure (`limits.cpu`, `requests.memory`) in units
    /// of the divisor, rounded up; limits not set report the node's capacity.
    public static func resourceValue(_ selector: ResourceFieldSelector, container: Container, node: NodeCapacity)
        throws(ContainerStartFailure) -> String
    {
        let resources = container.resources
        func ceilDivide(_ a: Int64, _ b: Int64) -> String { String(a <= 0 ? 0 : a / b + (a % b == 0 ? 0 : 1)) }
        switch selector.resource {
        case "limits.cpu", "requests.cpu":
            let divisor = max(selector.divisor?.milliValue ?? 1000, 1)
            let set = selector.resource == "limits.cpu" ? resources?.limits?["cpu"] : resources?.requests?["cpu"]
            let fallback = selector.resource == "limits.cpu" ? Int64(node.cpuCores) * 1000 : 0
            return ceilDivide(set?.milliValue ?? fallback, divisor)
        case "limits.memory", "requests.memory":
            let divisor = max(selector.divisor?.value ?? 1, 1)
            let set = selector.resource == "limits.memory" ? resources?.limits?["memory"] : resources?.requests?["memory"]
            let fallback = selector.resource == "limits.memory" ? Double(node.memoryBytes) : 0
            let units = ((set?.value ?? fallback) / divisor).rounded(.up)
            // Quantities come from outside: no trap on one beyond Int64.
            return units.isFinite && units < 9.2e18 ? String(Int64(max(units, 0))) : String(Int64.max)
        default:
            throw ContainerStartFailure(.configuration, "unsupported container resource: \(selector.resource)")
        }
    }

    /// Kubernetes' relaxed environment variable names: printable ASCII but `=`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }
    }
}
