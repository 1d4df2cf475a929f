/// One container of a Pod (core/v1 Container): what the node agent runs as
/// a process, with its ports, environment, mounts and probes.
public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var envFrom: [EnvFromSource]?
    public var env: [EnvVar]?
    public var resources: ResourceRequirements?
    public var resizePolicy: [JSONValue]?
    /// Only `Always`, and only on init containers: a native sidecar.
    public var restartPolicy: ContainerRestartPolicy?
    public var restartPolicyRules: [JSONValue]?
    public var volumeMounts: [VolumeMount]?
    public var volumeDevices: [JSONValue]?
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: TerminationMessagePolicy?
    public var imagePullPolicy: PullPolicy?
    public var securityContext: SecurityContext?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?

    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
    }
}

public enum ContainerRestartPolicy: String, SchemaEnum {
    case always = "Always"
}

public enum TerminationMessagePolicy: String, SchemaEnum {
    case file = "File"
    case fallbackToLogsOnError = "FallbackToLogsOnError"
}

public enum PullPolicy: String, SchemaEnum {
    case always = "Always"
    case ifNotPresent = "IfNotPresent"
    case never = "Never"
}

public struct ContainerPort: Codable, Sendable, Hashable {
    public var name: String?
    public var hostPort: Int32?
    public var containerPort: Int32
    public var `protocol`: PortProtocol?
    public var hostIP: String?

    public init(name: String? = nil, containerPort: Int32, protocol: PortProtocol? = nil) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }
}

public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSource?

    public init(name: String, value: String? = nil, valueFrom: EnvVarSource? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

public struct EnvVarSource: Codable, Sendable, Hashable {
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var configMapKeyRef: KeySelector?
    public var secretKeyRef: KeySelector?
    public var fileKeyRef: JSONValue?

    public init(fieldRef: ObjectFieldSelector? = nil) { self.fieldRef = fieldRef }
}

/// A field of the pod itself (`metadata.name`, `status.podIP`).
public struct ObjectFieldSelector: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var fieldPath: String

    public init(fieldPath: String, apiVersion: String? = nil) {
        self.fieldPath = fieldPath
        self.apiVersion = apiVersion
    }
}

/// A container's resource figure (`limits.cpu`), scaled by `divisor`.
public struct ResourceFieldSelector: Codable, Sendable, Hashable {
    public var containerName: String?
    public var resource: String
    public var divisor: Quantity?
}

/// A key of a ConfigMap or Secret.
public struct KeySelector: Codable, Sendable, Hashable {
    public var name: String?
    public var key: String
    public var optional: Bool?
}

public struct EnvFromSource: Codable, Sendable, Hashable {
    public var prefix: String?
    public var configMapRef: OptionalReference?
    public var secretRef: OptionalReference?
}

/// A named ConfigMap or Secret that may be allowed to be missing.
public struct OptionalReference: Codable, Sendable, Hashable {
    public var name: String?
    public var optional: Bool?
}

public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: Quantity]?
    public var requests: [String: Quantity]?
    public var claims: [JSONValue]?

    public init(limits: [String: Quantity]? = nil, requests: [String: Quantity]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

public struct VolumeMount: Codable, Sendable, Hashable {
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public var recursiveReadOnly: String?
    public var subPath: String?
    public var mountPropagation: String?
    public var subPathExpr: String?

    public init(name: String, mountPath: String, readOnly: Bool? = nil) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
    }
}

/// How the node agent checks a container: one handler and its timings.
public struct Probe: Codable, Sendable, Hashable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var grpc: GRPCAction?
    public var initialDelaySeconds: Int32?
    public var timeoutSeconds: Int32?
    public var periodSeconds: Int32?
    public var successThreshold: Int32?
    public var failureThreshold: Int32?
    public var terminationGracePeriodSeconds: Int64?

    public init(httpGet: HTTPGetAction? = nil, tcpSocket: TCPSocketAction? = nil, exec: ExecAction? = nil) {
        self.httpGet = httpGet
        self.tcpSocket = tcpSocket
        self.exec = exec
    }
}

public struct ExecAction: Codable, Sendable, Hashable {
    public var command: [String]?
    public init(command: [String]) { self.command = command }
}

public struct HTTPGetAction: Codable, Sendable, Hashable {
    public var path: String?
    public var port: IntOrString
    public var host: String?
    public var scheme: URIScheme?
    public var httpHeaders: [Header]?

    public init(path: String? = nil, port: IntOrString) {
        self.path = path
        self.port = port
    }

    /// A request header the probe sends (nested: `HTTPHeader` is MeshHTTP's kind of name).
    public struct Header: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
    }
}

public enum URIScheme: String, SchemaEnum {
    case http = "HTTP"
    case https = "HTTPS"
}

public struct TCPSocketAction: Codable, Sendable, Hashable {
    public var port: IntOrString
    public var host: String?
    public init(port: IntOrString) { self.port = port }
}

public struct GRPCAction: Codable, Sendable, Hashable {
    public var port: Int32
    public var service: String?
}

public struct SecurityContext: Codable, Sendable, Hashable {
    public var capabilities: Capabilities?
    public var privileged: Bool?
    public var seLinuxOptions: JSONValue?
    public var windowsOptions: JSONValue?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var readOnlyRootFilesystem: Bool?
    public var allowPrivilegeEscalation: Bool?
    public var procMount: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: JSONValue?

    public init(runAsUser: Int64? = nil, runAsGroup: Int64? = nil) {
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
    }
}

public struct SeccompProfile: Codable, Sendable, Hashable {
    public var type: String
    public var localhostProfile: String?
}

// Generic names (Lifecycle, Capabilities, Sysctl, PodIP) are nested so they
// cannot clash with MeshIO's or MeshSystem's in a module that imports both.
extension Container {
    public struct Lifecycle: Codable, Sendable, Hashable {
        public var postStart: LifecycleHandler?
        public var preStop: LifecycleHandler?
        public var stopSignal: String?
    }

    public struct LifecycleHandler: Codable, Sendable, Hashable {
        public var exec: ExecAction?
        public var httpGet: HTTPGetAction?
        public var tcpSocket: TCPSocketAction?
        public var sleep: SleepAction?
    }

    public struct SleepAction: Codable, Sendable, Hashable {
        public var seconds: Int64
    }
}

extension SecurityContext {
    public struct Capabilities: Codable, Sendable, Hashable {
        public var add: [String]?
        public var drop: [String]?
    }
}
