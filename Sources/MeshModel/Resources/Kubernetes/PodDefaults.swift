/// The apiserver's defaulting of pod specs (k8s.io/kubernetes
/// pkg/apis/core/v1/defaults.go), for the fields the node agent and
/// controllers rely on. Also applied to a Deployment's template.
extension PodSpec {
    public static let defaultTerminationGracePeriodSeconds: Int64 = 30
    /// File mode 0644, the default of configMap, secret, downwardAPI and projected volumes.
    public static let defaultVolumeMode: Int32 = 0o644

    public mutating func applyDefaults() {
        if restartPolicy == nil { restartPolicy = .always }
        if dnsPolicy == nil { dnsPolicy = .clusterFirst }
        if terminationGracePeriodSeconds == nil { terminationGracePeriodSeconds = Self.defaultTerminationGracePeriodSeconds }
        if securityContext == nil { securityContext = PodSecurityContext() }
        if schedulerName == nil { schedulerName = "default-scheduler" }
        if enableServiceLinks == nil { enableServiceLinks = true }
        // The ServiceAccount admission plugin's default, and the deprecated
        // alias kept in step as the v1 conversion does.
        let account = serviceAccountName.flatMap { $0.isEmpty ? nil : $0 } ?? serviceAccount.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        serviceAccountName = account
        serviceAccount = account
        let hostNetwork = hostNetwork ?? false
        for i in containers.indices { containers[i].applyDefaults(hostNetwork: hostNetwork) }
        if initContainers != nil {
            for i in initContainers!.indices { initContainers![i].applyDefaults(hostNetwork: hostNetwork) }
        }
        if volumes != nil {
            for i in volumes!.indices { volumes![i].applyDefaults() }
        }
    }
}

extension Container {
    public static let defaultTerminationMessagePath = "/dev/termination-log"

    public mutating func applyDefaults(hostNetwork: Bool = false) {
        if imagePullPolicy == nil { imagePullPolicy = Self.defaultPullPolicy(image: image ?? "") }
        if terminationMessagePath == nil { terminationMessagePath = Self.defaultTerminationMessagePath }
        if terminationMessagePolicy == nil { terminationMessagePolicy = .file }
        if ports != nil {
            for i in ports!.indices {
                if ports![i].protocol == nil { ports![i].protocol = .tcp }
                // With the host's network the container port is the host port.
                if hostNetwork && (ports![i].hostPort ?? 0) == 0 { ports![i].hostPort = ports![i].containerPort }
            }
        }
        if env != nil {
            for i in env!.indices where env![i].valueFrom?.fieldRef != nil && env![i].valueFrom?.fieldRef?.apiVersion == nil {
                env![i].valueFrom!.fieldRef!.apiVersion = "v1"
            }
        }
        // Limits without requests: the requests default to the limits.
        if let limits = resources?.limits {
            var requests = resources?.requests ?? [:]
            for (name, quantity) in limits where requests[name] == nil { requests[name] = quantity }
            resources!.requests = requests
        }
        livenessProbe?.applyDefaults()
        readinessProbe?.applyDefaults()
        startupProbe?.applyDefaults()
        lifecycle?.postStart?.httpGet?.applyDefaults()
        lifecycle?.preStop?.httpGet?.applyDefaults()
    }

    /// `Always` for `:latest` or no tag, otherwise `IfNotPresent` (a digest counts as a tag).
    public static func defaultPullPolicy(image: String) -> PullPolicy {
        let lastSlash = image.lastIndex(of: "/")
        let name = lastSlash.map { image[image.index(after: $0)...] } ?? image[...]
        if name.contains("@") { return .ifNotPresent }
        guard let colon = name.lastIndex(of: ":") else { return .always }
        return name[name.index(after: colon)...] == "latest" ? .always : .ifNotPresent
    }
}

extension Probe {
    public mutating func applyDefaults() {
        if timeoutSeconds == nil { timeoutSeconds = 1 }
        if periodSeconds == nil { periodSeconds = 10 }
        if successThreshold == nil { successThreshold = 1 }
        if failureThreshold == nil { failureThreshold = 3 }
        httpGet?.applyDefaults()
    }
}

extension HTTPGetAction {
    public mutating func applyDefaults() {
        if path == nil { path = "/" }
        if scheme == nil { scheme = .http }
    }
}

extension Volume {
    public mutating func applyDefaults() {
        // A volume with no source is an emptyDir (Istio's injector writes such volumes).
        if sourceNames.isEmpty { emptyDir = EmptyDirVolumeSource() }
        if secret != nil && secret!.defaultMode == nil { secret!.defaultMode = PodSpec.defaultVolumeMode }
        if configMap != nil && configMap!.defaultMode == nil { configMap!.defaultMode = PodSpec.defaultVolumeMode }
        if downwardAPI != nil && downwardAPI!.defaultMode == nil { downwardAPI!.defaultMode = PodSpec.defaultVolumeMode }
        if projected != nil && projected!.defaultMode == nil { projected!.defaultMode = PodSpec.defaultVolumeMode }
        if projected?.sources != nil {
            for i in projected!.sources!.indices {
                if let token = projected!.sources![i].serviceAccountToken, token.expirationSeconds == nil {
                    projected!.sources![i].serviceAccountToken!.expirationSeconds = 3600
                }
            }
        }
        if hostPath != nil && hostPath!.type == nil { hostPath!.type = "" }
    }
}
