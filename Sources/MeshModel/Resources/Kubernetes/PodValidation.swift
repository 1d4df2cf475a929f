/// The apiserver's pod spec checks (k8s.io/kubernetes pkg/apis/core/validation)
/// for what meshlab realises: containers, ports, environment, mounts,
/// probes, resources, volumes, DNS. Messages are Kubernetes' own.
extension PodSpec {
    public func validate(at path: FieldPath, _ validation: inout Validation) {
        let volumeNames = validateVolumes(at: path.appending("volumes"), &validation)
        if containers.isEmpty { validation.add(.required(path.appending("containers"))) }
        var containerNames: Set<String> = []
        var hostPorts: Set<String> = []
        let groups: [(String, [Container])] = [("initContainers", initContainers ?? []), ("containers", containers)]
        for (field, list) in groups {
            for (i, container) in list.enumerated() {
                let containerPath = path.appending(field).appending(index: i)
                let nameNew = containerNames.insert(container.name).inserted
                if !nameNew {
                    validation.add(.duplicate(containerPath.appending("name"), value: .string(container.name)))
                }
                container.validate(at: containerPath, isInit: field == "initContainers", volumes: volumeNames,
                                   hostNetwork: hostNetwork ?? false, &validation)
                for (j, port) in (container.ports ?? []).enumerated() where (port.hostPort ?? 0) != 0 {
                    let key = "\(port.hostPort!)/\((port.protocol ?? .tcp).rawValue)"
                    if !hostPorts.insert(key).inserted {
                        validation.add(.duplicate(containerPath.appending("ports").appending(index: j).appending("hostPort"),
                                                  value: .string(key)))
                    }
                }
            }
        }
        if dnsPolicy == DNSPolicy.none && dnsConfig == nil {
            validation.add(.required(path.appending("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
        }
        if let dnsConfig { dnsConfig.validate(at: path.appending("dnsConfig"), &validation) }
        if let seconds = activeDeadlineSeconds, seconds < 1 || seconds > Int64(Int32.max) {
            validation.add(.invalid(path.appending("activeDeadlineSeconds"), value: .int(Int(seconds)),
                                    "must be between 1 and 2147483647, inclusive"))
        }
        if let name = serviceAccountName, !name.isEmpty {
            validation.invalid(path.appending("serviceAccountName"), name, KubernetesNames.dns1123SubdomainErrors(name))
        }
        if let name = nodeName, !name.isEmpty {
            validation.invalid(path.appending("nodeName"), name, KubernetesNames.dns1123SubdomainErrors(name))
        }
        if let hostname, !hostname.isEmpty {
            validation.invalid(path.appending("hostname"), hostname, KubernetesNames.dns1123LabelErrors(hostname))
        }
        if let subdomain, !subdomain.isEmpty {
            validation.invalid(path.appending("subdomain"), subdomain, KubernetesNames.dns1123LabelErrors(subdomain))
        }
        ObjectMeta.validateLabels(nodeSelector ?? [:], at: path.appending("nodeSelector"), &validation)
        for (i, alias) in (hostAliases ?? []).enumerated() {
            let aliasPath = path.appending("hostAliases").appending(index: i)
            if !KubernetesNames.isIP(alias.ip) {
                validation.add(.invalid(aliasPath.appending("ip"), value: .string(alias.ip), KubernetesNames.ipAddressError))
            }
            for (j, hostname) in (alias.hostnames ?? []).enumerated() {
                validation.invalid(aliasPath.appending("hostnames").appending(index: j), hostname,
                                   KubernetesNames.dns1123SubdomainErrors(hostname))
            }
        }
        validation.nonNegative(securityContext?.runAsUser, at: path.appending("securityContext").appending("runAsUser"))
        validation.nonNegative(securityContext?.runAsGroup, at: path.appending("securityContext").appending("runAsGroup"))
        validation.nonNegative(securityContext?.fsGroup, at: path.appending("securityContext").appending("fsGroup"))
    }

    /// Checks the volumes and returns their names, for the mounts to refer to.
    private func validateVolumes(at path: FieldPath, _ validation: inout Validation) -> Set<String> {
        var names: Set<String> = []
        for (i, volume) in (volumes ?? []).enumerated() {
            let volumePath = path.appending(index: i)
            if volume.name.isEmpty {
                validation.add(.required(volumePath.appending("name")))
            } else {
                validation.invalid(volumePath.appending("name"), volume.name, KubernetesNames.dns1123LabelErrors(volume.name))
            }
            if !names.insert(volume.name).inserted {
                validation.add(.duplicate(volumePath.appending("name"), value: .string(volume.name)))
            }
            let sources = volume.sourceNames
            if sources.isEmpty {
                validation.add(.required(volumePath, "must specify a volume type"))
            } else if sources.count > 1 {
                validation.add(.forbidden(volumePath.appending(sources[1]), "may not specify more than 1 volume type"))
            }
            volume.validateSources(at: volumePath, &validation)
        }
        return names
    }
}

extension Volume {
    fileprivate func validateSources(at path: FieldPath, _ validation: inout Validation) {
        if let hostPath, hostPath.path.isEmpty { validation.add(.required(path.appending("hostPath").appending("path"))) }
        if let secret {
            let secretPath = path.appending("secret")
            if (secret.secretName ?? "").isEmpty { validation.add(.required(secretPath.appending("secretName"))) }
            Self.validate(mode: secret.defaultMode, at: secretPath.appending("defaultMode"), &validation)
            Self.validate(items: secret.items, at: secretPath.appending("items"), &validation)
        }
        if let configMap {
            let configMapPath = path.appending("configMap")
            if (configMap.name ?? "").isEmpty { validation.add(.required(configMapPath.appending("name"))) }
            Self.validate(mode: configMap.defaultMode, at: configMapPath.appending("defaultMode"), &validation)
            Self.validate(items: configMap.items, at: configMapPath.appending("items"), &validation)
        }
        if let claim = persistentVolumeClaim, claim.claimName.isEmpty {
            validation.add(.required(path.appending("persistentVolumeClaim").appending("claimName")))
        }
        if let downwardAPI {
            let downwardPath = path.appending("downwardAPI")
            Self.validate(mode: downwardAPI.defaultMode, at: downwardPath.appending("defaultMode"), &validation)
            for (i, item) in (downwardAPI.items ?? []).enumerated() {
                item.validate(at: downwardPath.appending("items").appending(index: i), &validation)
            }
        }
        if let projected {
            let projectedPath = path.appending("projected")
            Self.validate(mode: projected.defaultMode, at: projectedPath.appending("defaultMode"), &validation)
            for (i, source) in (projected.sources ?? []).enumerated() {
                let sourcePath = projectedPath.appending("sources").appending(index: i)
                if let token = source.serviceAccountToken {
                    let tokenPath = sourcePath.appending("serviceAccountToken")
                    if token.path.isEmpty { validation.add(.required(tokenPath.appending("path"))) }
                    if let seconds = token.expirationSeconds, seconds < 600 || seconds > 1 << 32 {
                        validation.add(.invalid(tokenPath.appending("expirationSeconds"), value: .int(Int(seconds)),
                                                "may not specify a duration less than 10 minutes"))
                    }
                }
                for (j, item) in (source.downwardAPI?.items ?? []).enumerated() {
                    item.validate(at: sourcePath.appending("downwardAPI").appending("items").appending(index: j), &validation)
                }
                Self.validate(items: source.configMap?.items, at: sourcePath.appending("configMap").appending("items"), &validation)
                Self.validate(items: source.secret?.items, at: sourcePath.appending("secret").appending("items"), &validation)
            }
        }
    }

    static func validate(mode: Int32?, at path: FieldPath, _ validation: inout Validation) {
        if let mode, mode < 0 || mode > 0o777 {
            validation.add(.invalid(path, value: .int(Int(mode)), "must be a number between 0 and 0777 (octal), both inclusive"))
        }
    }

    static func validate(items: [KeyToPath]?, at path: FieldPath, _ validation: inout Validation) {
        for (i, item) in (items ?? []).enumerated() {
            let itemPath = path.appending(index: i)
            if item.key.isEmpty { validation.add(.required(itemPath.appending("key"))) }
            validateLocalPath(item.path, at: itemPath.appending("path"), &validation)
            validate(mode: item.mode, at: itemPath.appending("mode"), &validation)
        }
    }

    /// A path inside the volume: relative, without `..` elements.
    static func validateLocalPath(_ path: String, at fieldPath: FieldPath, _ validation: inout Validation) {
        if path.isEmpty {
            validation.add(.required(fieldPath))
        } else if path.hasPrefix("/") {
            validation.add(.invalid(fieldPath, value: .string(path), "must be a relative path"))
        } else if path.split(separator: "/").contains("..") {
            validation.add(.invalid(fieldPath, value: .string(path), "must not contain '..'"))
        }
    }
}

extension DownwardAPIVolumeFile {
    /// The fields a downward API volume may project: the env var ones plus whole label and annotation maps.
    static let volumeFieldPaths = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"]

    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        Volume.validateLocalPath(self.path, at: path.appending("path"), &validation)
        Volume.validate(mode: mode, at: path.appending("mode"), &validation)
        switch (fieldRef, resourceFieldRef) {
        case (nil, nil):
            validation.add(.required(path, "one of `fieldRef` and `resourceFieldRef` must be specified"))
        case (.some, .some):
            validation.add(.invalid(path.appending("resourceFieldRef"), value: "resource",
                                    "fieldRef and resourceFieldRef can not be specified simultaneously"))
        case (.some(let fieldRef), nil):
            fieldRef.validate(at: path.appending("fieldRef"), supported: Self.volumeFieldPaths, &validation)
        case (nil, .some(let resourceFieldRef)):
            resourceFieldRef.validate(at: path.appending("resourceFieldRef"), &validation)
        }
    }
}

extension PodDNSConfig {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        let nameservers = self.nameservers ?? []
        if nameservers.count > 3 {
            validation.add(.invalid(path.appending("nameservers"), rendered: GoLiteral.stringSlice(nameservers),
                                    "must not have more than 3 nameservers"))
        }
        for (i, server) in nameservers.enumerated() where !KubernetesNames.isIP(server) {
            validation.add(.invalid(path.appending("nameservers").appending(index: i), value: .string(server),
                                    KubernetesNames.ipAddressError))
        }
        let searches = self.searches ?? []
        if searches.count > 32 {
            validation.add(.invalid(path.appending("searches"), rendered: GoLiteral.stringSlice(searches),
                                    "must not have more than 32 search paths"))
        }
        for (i, search) in searches.enumerated() {
            let trimmed = search.hasSuffix(".") ? String(search.dropLast()) : search
            validation.invalid(path.appending("searches").appending(index: i), search,
                               KubernetesNames.dns1123SubdomainErrors(trimmed))
        }
        for (i, option) in (options ?? []).enumerated() where (option.name ?? "").isEmpty {
            validation.add(.required(path.appending("options").appending(index: i), "Option.Name must not be empty"))
        }
    }
}

extension Container {
    fileprivate func validate(at path: FieldPath, isInit: Bool, volumes: Set<String>, hostNetwork: Bool,
                              _ validation: inout Validation) {
        if name.isEmpty {
            validation.add(.required(path.appending("name")))
        } else {
            validation.invalid(path.appending("name"), name, KubernetesNames.dns1123LabelErrors(name))
        }
        if (image ?? "").isEmpty { validation.add(.required(path.appending("image"))) }
        if !isInit && restartPolicy != nil {
            validation.add(.forbidden(path.appending("restartPolicy"), "may not be set for non-init containers"))
        }
        validatePorts(at: path.appending("ports"), hostNetwork: hostNetwork, &validation)
        validateEnvironment(at: path, &validation)
        validateMounts(at: path.appending("volumeMounts"), volumes: volumes, &validation)
        resources?.validate(at: path.appending("resources"), &validation)
        let sidecar = isInit && restartPolicy == .always
        let probes: [(String, Probe?)] = [("livenessProbe", livenessProbe), ("readinessProbe", readinessProbe),
                                          ("startupProbe", startupProbe)]
        for (field, probe) in probes {
            guard let probe else { continue }
            if isInit && !sidecar {
                validation.add(.forbidden(path.appending(field), "may not be set for init containers without restartPolicy=Always"))
                continue
            }
            probe.validate(at: path.appending(field), requireSuccessThresholdOne: field != "readinessProbe", &validation)
        }
        if let lifecycle {
            if let postStart = lifecycle.postStart {
                postStart.validate(at: path.appending("lifecycle").appending("postStart"), &validation)
            }
            if let preStop = lifecycle.preStop {
                preStop.validate(at: path.appending("lifecycle").appending("preStop"), &validation)
            }
        }
        validation.nonNegative(securityContext?.runAsUser, at: path.appending("securityContext").appending("runAsUser"))
        validation.nonNegative(securityContext?.runAsGroup, at: path.appending("securityContext").appending("runAsGroup"))
    }

    private func validatePorts(at path: FieldPath, hostNetwork: Bool, _ validation: inout Validation) {
        var names: Set<String> = []
        for (i, port) in (ports ?? []).enumerated() {
            let portPath = path.appending(index: i)
            if let name = port.name, !name.isEmpty {
                validation.invalid(portPath.appending("name"), name, KubernetesNames.portNameErrors(name))
                if !names.insert(name).inserted { validation.add(.duplicate(portPath.appending("name"), value: .string(name))) }
            }
            if port.containerPort == 0 {
                validation.add(.required(portPath.appending("containerPort")))
            } else {
                validation.port(port.containerPort, at: portPath.appending("containerPort"))
            }
            if let hostPort = port.hostPort, hostPort != 0 {
                validation.port(hostPort, at: portPath.appending("hostPort"))
                if hostNetwork && hostPort != port.containerPort {
                    validation.add(.invalid(portPath.appending("hostPort"), value: .int(Int(hostPort)),
                                            "must match `containerPort` when `hostNetwork` is true"))
                }
            }
            if let hostIP = port.hostIP, !hostIP.isEmpty, !KubernetesNames.isIP(hostIP) {
                validation.add(.invalid(portPath.appending("hostIP"), value: .string(hostIP), KubernetesNames.ipAddressError))
            }
        }
    }

    private func validateEnvironment(at path: FieldPath, _ validation: inout Validation) {
        for (i, variable) in (env ?? []).enumerated() {
            let variablePath = path.appending("env").appending(index: i)
            if variable.name.isEmpty {
                validation.add(.required(variablePath.appending("name")))
            } else {
                validation.invalid(variablePath.appending("name"), variable.name, KubernetesNames.envVarNameErrors(variable.name))
            }
            guard let source = variable.valueFrom else { continue }
            let sourcePath = variablePath.appending("valueFrom")
            let set = [source.fieldRef != nil, source.resourceFieldRef != nil, source.configMapKeyRef != nil,
                       source.secretKeyRef != nil, source.fileKeyRef != nil].filter { $0 }.count
            if set == 0 {
                validation.add(.invalid(sourcePath, value: "",
                                        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
            } else if set > 1 {
                validation.add(.invalid(sourcePath, value: "", "may not have more than one field specified at a time"))
            }
            if let value = variable.value, !value.isEmpty {
                validation.add(.invalid(sourcePath, value: "", "may not be specified when `value` is not empty"))
            }
            source.fieldRef?.validate(at: sourcePath.appending("fieldRef"), supported: ObjectFieldSelector.envFieldPaths, &validation)
            source.resourceFieldRef?.validate(at: sourcePath.appending("resourceFieldRef"), &validation)
            source.configMapKeyRef?.validate(at: sourcePath.appending("configMapKeyRef"), &validation)
            source.secretKeyRef?.validate(at: sourcePath.appending("secretKeyRef"), &validation)
        }
        for (i, source) in (envFrom ?? []).enumerated() {
            let sourcePath = path.appending("envFrom").appending(index: i)
            if let prefix = source.prefix, !prefix.isEmpty {
                validation.invalid(sourcePath.appending("prefix"), prefix, KubernetesNames.envVarNameErrors(prefix))
            }
            switch (source.configMapRef, source.secretRef) {
            case (nil, nil):
                validation.add(.invalid(sourcePath, value: "", "must specify one of: `configMapRef` or `secretRef`"))
            case (.some, .some):
                validation.add(.invalid(sourcePath, value: "", "may not have more than one field specified at a time"))
            case (.some(let reference), nil), (nil, .some(let reference)):
                let field = source.configMapRef != nil ? "configMapRef" : "secretRef"
                if (reference.name ?? "").isEmpty { validation.add(.required(sourcePath.appending(field).appending("name"))) }
            }
        }
    }

    private func validateMounts(at path: FieldPath, volumes: Set<String>, _ validation: inout Validation) {
        var mountPaths: Set<String> = []
        for (i, mount) in (volumeMounts ?? []).enumerated() {
            let mountPath = path.appending(index: i)
            if mount.name.isEmpty {
                validation.add(.required(mountPath.appending("name")))
            } else if !volumes.contains(mount.name) {
                validation.add(.notFound(mountPath.appending("name"), value: .string(mount.name)))
            }
            if mount.mountPath.isEmpty {
                validation.add(.required(mountPath.appending("mountPath")))
            } else if !mountPaths.insert(mount.mountPath).inserted {
                validation.add(.invalid(mountPath.appending("mountPath"), value: .string(mount.mountPath), "must be unique"))
            }
            if let subPath = mount.subPath, !subPath.isEmpty {
                if subPath.hasPrefix("/") {
                    validation.add(.invalid(mountPath.appending("subPath"), value: .string(subPath), "must be a relative path"))
                } else if subPath.split(separator: "/").contains("..") {
                    validation.add(.invalid(mountPath.appending("subPath"), value: .string(subPath), "must not contain '..'"))
                }
            }
        }
    }
}

extension ObjectFieldSelector {
    /// What `env[].valueFrom.fieldRef` may name (besides single labels and annotations).
    static let envFieldPaths = [
        "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
        "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ]

    fileprivate func validate(at path: FieldPath, supported: [String], _ validation: inout Validation) {
        if let apiVersion, apiVersion != "v1" {
            validation.add(.invalid(path.appending("apiVersion"), value: .string(apiVersion), "unsupported API version"))
        }
        if fieldPath.isEmpty {
            validation.add(.required(path.appending("fieldPath")))
            return
        }
        // metadata.labels['key'] and metadata.annotations['key'] select one entry.
        for prefix in ["metadata.labels[", "metadata.annotations["] where fieldPath.hasPrefix(prefix) {
            let inner = fieldPath.dropFirst(prefix.count)
            guard inner.hasSuffix("']"), inner.hasPrefix("'"), inner.count > 3 else {
                validation.add(.invalid(path.appending("fieldPath"), value: .string(fieldPath), "error converting fieldPath: field label not supported: \(fieldPath)"))
                return
            }
            let key = String(inner.dropFirst().dropLast(2))
            validation.invalid(path.appending("fieldPath"), key, KubernetesNames.qualifiedNameErrors(key.lowercased()))
            return
        }
        if !supported.contains(fieldPath) {
            validation.add(.unsupported(path.appending("fieldPath"), value: .string(fieldPath), supported: supported))
        }
    }
}

extension ResourceFieldSelector {
    static let supportedResources = [
        "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage",
        "requests.memory",
    ]

    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        if resource.isEmpty {
            validation.add(.required(path.appending("resource")))
        } else if !Self.supportedResources.contains(resource) && !resource.hasPrefix("limits.hugepages-")
            && !resource.hasPrefix("requests.hugepages-")
        {
            validation.add(.unsupported(path.appending("resource"), value: .string(resource), supported: Self.supportedResources))
        }
        if let divisor, divisor.value <= 0 {
            validation.add(.invalid(path.appending("divisor"), value: .string(divisor.text), "must be greater than 0"))
        }
    }
}

extension KeySelector {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        if (name ?? "").isEmpty {
            validation.add(.required(path.appending("name")))
        } else {
            validation.invalid(path.appending("name"), name!, KubernetesNames.dns1123SubdomainErrors(name!))
        }
        if key.isEmpty {
            validation.add(.required(path.appending("key")))
        } else {
            validation.invalid(path.appending("key"), key, KubernetesNames.configMapKeyErrors(key))
        }
    }
}

extension ResourceRequirements {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        for (field, values) in [("limits", limits ?? [:]), ("requests", requests ?? [:])] {
            for name in values.keys.sorted() {
                let quantityPath = path.appending(field).appending(key: name)
                if !Self.isStandardName(name) {
                    validation.invalid(quantityPath, name, KubernetesNames.qualifiedNameErrors(name))
                }
                if values[name]!.value < 0 {
                    validation.add(.invalid(quantityPath, value: .string(values[name]!.text), "must be greater than or equal to 0"))
                }
            }
        }
        for name in (requests ?? [:]).keys.sorted() {
            guard let request = requests?[name], let limit = limits?[name], request > limit else { continue }
            validation.add(.invalid(path.appending("requests").appending(key: name), value: .string(request.text),
                                    "must be less than or equal to \(name) limit of \(limit.text)"))
        }
    }

    static func isStandardName(_ name: String) -> Bool {
        ["cpu", "memory", "ephemeral-storage"].contains(name) || name.hasPrefix("hugepages-")
    }
}

extension Probe {
    fileprivate func validate(at path: FieldPath, requireSuccessThresholdOne: Bool, _ validation: inout Validation) {
        let handlers: [(String, Bool)] = [("exec", exec != nil), ("httpGet", httpGet != nil), ("tcpSocket", tcpSocket != nil),
                                          ("grpc", grpc != nil)]
        let set = handlers.filter(\.1).map(\.0)
        if set.isEmpty {
            validation.add(.required(path, "must specify a handler type"))
        } else if set.count > 1 {
            validation.add(.forbidden(path.appending(set[1]), "may not specify more than 1 handler type"))
        }
        exec?.validate(at: path.appending("exec"), &validation)
        httpGet?.validate(at: path.appending("httpGet"), &validation)
        if let tcpSocket { validation.portNumberOrName(tcpSocket.port, at: path.appending("tcpSocket").appending("port")) }
        if let grpc { validation.port(grpc.port, at: path.appending("grpc").appending("port")) }
        for (field, value) in [("initialDelaySeconds", initialDelaySeconds), ("timeoutSeconds", timeoutSeconds),
                               ("periodSeconds", periodSeconds), ("successThreshold", successThreshold),
                               ("failureThreshold", failureThreshold)] {
            validation.nonNegative(value, at: path.appending(field))
        }
        if requireSuccessThresholdOne, let threshold = successThreshold, threshold != 1 {
            validation.add(.invalid(path.appending("successThreshold"), value: .int(Int(threshold)), "must be 1"))
        }
        if let grace = terminationGracePeriodSeconds, grace <= 0 {
            validation.add(.invalid(path.appending("terminationGracePeriodSeconds"), value: .int(Int(grace)),
                                    "must be greater than 0"))
        }
    }
}

extension Container.LifecycleHandler {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        let set = [("exec", exec != nil), ("httpGet", httpGet != nil), ("tcpSocket", tcpSocket != nil), ("sleep", sleep != nil)]
            .filter(\.1).map(\.0)
        if set.isEmpty {
            validation.add(.required(path, "must specify a handler type"))
        } else if set.count > 1 {
            validation.add(.forbidden(path.appending(set[1]), "may not specify more than 1 handler type"))
        }
        exec?.validate(at: path.appending("exec"), &validation)
        httpGet?.validate(at: path.appending("httpGet"), &validation)
        if let tcpSocket { validation.portNumberOrName(tcpSocket.port, at: path.appending("tcpSocket").appending("port")) }
        if let sleep, sleep.seconds < 0 {
            validation.add(.invalid(path.appending("sleep").appending("seconds"), value: .int(Int(sleep.seconds)),
                                    "must be non-negative"))
        }
    }
}

extension ExecAction {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        if (command ?? []).isEmpty { validation.add(.required(path.appending("command"))) }
    }
}

extension HTTPGetAction {
    fileprivate func validate(at path: FieldPath, _ validation: inout Validation) {
        validation.portNumberOrName(port, at: path.appending("port"))
        for (i, header) in (httpHeaders ?? []).enumerated() where header.name.isEmpty {
            validation.add(.required(path.appending("httpHeaders").appending(index: i).appending("name")))
        }
    }
}
