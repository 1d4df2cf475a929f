/// A Pod (core/v1): the unit the node agent realises as processes in their
/// own network namespace.
public struct Pod: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "Pod", plural: "pods", shortNames: ["po"])

    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public mutating func applyDefaults() { spec.applyDefaults() }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        spec.validate(at: path.appending("spec"), &validation)
    }
}

/// A pod's metadata and spec inside a controller (a Deployment's `template`).
public struct PodTemplateSpec: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec

    public init(metadata: ObjectMeta? = nil, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct PodSpec: Codable, Sendable, Hashable {
    public var volumes: [Volume]?
    public var initContainers: [Container]?
    public var containers: [Container]
    public var ephemeralContainers: [JSONValue]?
    public var restartPolicy: RestartPolicy?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var dnsPolicy: DNSPolicy?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    /// Deprecated alias of `serviceAccountName`, still written by older tools.
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: PodSecurityContext?
    public var imagePullSecrets: [LocalObjectReference]?
    public var hostname: String?
    public var subdomain: String?
    public var affinity: JSONValue?
    public var schedulerName: String?
    public var tolerations: [JSONValue]?
    public var hostAliases: [HostAlias]?
    public var priorityClassName: String?
    public var priority: Int32?
    public var dnsConfig: PodDNSConfig?
    public var readinessGates: [JSONValue]?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var preemptionPolicy: String?
    public var overhead: [String: Quantity]?
    public var topologySpreadConstraints: [JSONValue]?
    public var setHostnameAsFQDN: Bool?
    public var os: JSONValue?
    public var hostUsers: Bool?
    public var schedulingGates: [JSONValue]?
    public var resourceClaims: [JSONValue]?
    public var resources: ResourceRequirements?
    public var hostnameOverride: String?

    public init(containers: [Container], volumes: [Volume]? = nil, initContainers: [Container]? = nil) {
        self.containers = containers
        self.volumes = volumes
        self.initContainers = initContainers
    }
}

public enum RestartPolicy: String, SchemaEnum {
    case always = "Always"
    case onFailure = "OnFailure"
    case never = "Never"
}

public enum DNSPolicy: String, SchemaEnum {
    case clusterFirstWithHostNet = "ClusterFirstWithHostNet"
    case clusterFirst = "ClusterFirst"
    case `default` = "Default"
    case none = "None"
}

public struct PodSecurityContext: Codable, Sendable, Hashable {
    public var seLinuxOptions: JSONValue?
    public var windowsOptions: JSONValue?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var supplementalGroups: [Int64]?
    public var supplementalGroupsPolicy: String?
    public var fsGroup: Int64?
    public var sysctls: [Sysctl]?
    public var fsGroupChangePolicy: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: JSONValue?
    public var seLinuxChangePolicy: String?

    public init() {}
}

/// An extra /etc/hosts line for the pod.
public struct HostAlias: Codable, Sendable, Hashable {
    public var ip: String
    public var hostnames: [String]?
}

public struct PodDNSConfig: Codable, Sendable, Hashable {
    public var nameservers: [String]?
    public var searches: [String]?
    public var options: [PodDNSConfigOption]?
}

public struct PodDNSConfigOption: Codable, Sendable, Hashable {
    public var name: String?
    public var value: String?
}

// MARK: Status

public struct PodStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    public var phase: PodPhase?
    public var conditions: [PodCondition]?
    public var message: String?
    public var reason: String?
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var hostIPs: [IP]?
    public var podIP: String?
    public var podIPs: [IP]?
    /// RFC 3339, as Kubernetes writes times.
    public var startTime: String?
    public var initContainerStatuses: [ContainerStatus]?
    public var containerStatuses: [ContainerStatus]?
    public var qosClass: String?
    public var ephemeralContainerStatuses: [JSONValue]?
    public var resize: String?
    public var resourceClaimStatuses: [JSONValue]?

    public init(phase: PodPhase? = nil) { self.phase = phase }
}

public enum PodPhase: String, SchemaEnum {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
}

public struct PodCondition: Codable, Sendable, Hashable {
    /// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`, ...
    public var type: String
    public var observedGeneration: Int64?
    public var status: ConditionStatus
    public var lastProbeTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?

    public init(type: String, status: ConditionStatus) {
        self.type = type
        self.status = status
    }
}

public struct ContainerStatus: Codable, Sendable, Hashable {
    public var name: String
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var ready: Bool
    public var restartCount: Int32
    public var image: String?
    public var imageID: String?
    public var containerID: String?
    public var started: Bool?
    public var allocatedResources: [String: Quantity]?
    public var resources: ResourceRequirements?
    public var volumeMounts: [JSONValue]?
    public var user: JSONValue?
    public var allocatedResourcesStatus: [JSONValue]?
    public var stopSignal: String?

    public init(name: String, ready: Bool = false, restartCount: Int32 = 0) {
        self.name = name
        self.ready = ready
        self.restartCount = restartCount
    }
}

/// At most one of the three is set.
public struct ContainerState: Codable, Sendable, Hashable {
    public var waiting: Waiting?
    public var running: Running?
    public var terminated: Terminated?

    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }

    public struct Waiting: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public init(reason: String? = nil, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    public struct Running: Codable, Sendable, Hashable {
        public var startedAt: String?
        public init(startedAt: String? = nil) { self.startedAt = startedAt }
    }

    public struct Terminated: Codable, Sendable, Hashable {
        public var exitCode: Int32
        public var signal: Int32?
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var containerID: String?

        public init(exitCode: Int32, reason: String? = nil) {
            self.exitCode = exitCode
            self.reason = reason
        }
    }
}

extension PodSecurityContext {
    public struct Sysctl: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
    }
}

extension PodStatus {
    /// One of the pod's (or its host's) addresses, in `podIPs` and `hostIPs`.
    public struct IP: Codable, Sendable, Hashable {
        public var ip: String
        public init(ip: String) { self.ip = ip }
    }
}
