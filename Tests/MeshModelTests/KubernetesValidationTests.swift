import MeshModel
import Testing

private func object(_ text: String) -> JSONValue {
    do { return try JSONValue(parsing: text) } catch { Issue.record("bad test JSON: \(error)"); return .null }
}

/// The diagnostics of checking `text` (a JSON manifest), as `path: message`.
private func diagnostics(_ text: String, strict: Bool = false) -> [String] {
    guard let result = KubernetesManifests.check(object(text), strict: strict) else {
        Issue.record("no kind registered for \(text)")
        return []
    }
    return result.diagnostics.map(\.description)
}

private let deployment = """
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                    "ports": [{"containerPort": 80}]}]}}}}
    """

/// `deployment` with `edit` applied to its JSON text.
private func deploymentWith(_ replacements: [(String, String)]) -> String {
    var text = deployment
    for (old, new) in replacements {
        guard text.contains(old) else {
            Issue.record("\(old) not in the base manifest")
            continue
        }
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

extension String {
    fileprivate func replacingOccurrences(of old: String, with new: String) -> String {
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: old) {
            out += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

@Suite struct KubernetesUnknownFieldTests {
    @Test func namesTheFullPathOfATypo() {
        let text = deploymentWith([(#""image": "nginx:1.25""#, #""image": "nginx:1.25", "imagePullPolicyy": "Always""#)])
        #expect(diagnostics(text) == [#"unknown field "spec.template.spec.containers[0].imagePullPolicyy""#])
        let strict = KubernetesManifests.check(object(text), strict: true)
        #expect(strict?.errors.map(\.description) == [#"unknown field "spec.template.spec.containers[0].imagePullPolicyy""#])
        #expect(strict?.object == nil)
    }

    @Test func prunesUnknownFieldsFromTheStoredForm() throws {
        let text = deploymentWith([(#""spec": {"selector""#, #""spec": {"bogus": 1, "selector""#)])
        let result = try #require(KubernetesManifests.check(object(text)))
        #expect(result.warnings.map(\.description) == [#"unknown field "spec.bogus""#])
        #expect(result.object?["spec"]?["bogus"] == nil)
        #expect(result.object?.objectValue?.keys.prefix(3) == ["apiVersion", "kind", "metadata"])
    }
}

@Suite struct KubernetesMetadataValidationTests {
    @Test func nameIsRequiredUnlessGenerated() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap"}"#) == [
            "metadata.name: Required value: name or generateName is required"
        ])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cfg-"}}"#) == [])
    }

    @Test func namesFollowTheirKindsRule() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}"#) == [
            #"metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        ])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}}"#) == [
            #"metadata.name: Invalid value: "a.b": must not contain dots"#
        ])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}"#) == [
            #"metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#
        ])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a.b"}}"#) == [])
    }

    @Test func labelsAndAnnotations() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"app": "-x"}}}"#) == [
            #"metadata.labels: Invalid value: "-x": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"#
        ])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"Example.com/x": "y"}}}"#) == [
            #"metadata.labels: Invalid value: "Example.com/x": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        ])
        let big = String(repeating: "x", count: 300 * 1024)
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": {"k": "\#(big)"}}}"#) == [
            "metadata.annotations: Too long: must have at most 262144 bytes"
        ])
    }
}

@Suite struct KubernetesDeploymentValidationTests {
    @Test func theBaseManifestIsValid() {
        #expect(diagnostics(deployment) == [])
    }

    @Test func selectorMustMatchTemplateLabels() {
        let text = deploymentWith([(#""labels": {"app": "web"}"#, #""labels": {"app": "api", "tier": "x"}"#)])
        #expect(diagnostics(text) == [
            #"spec.template.metadata.labels: Invalid value: map[string]string{"app":"api", "tier":"x"}: `selector` does not match template `labels`"#
        ])
    }

    @Test func selectorIsRequired() {
        let text = deploymentWith([(#""selector": {"matchLabels": {"app": "web"}},"#, "")])
        #expect(diagnostics(text) == ["spec.selector: Required value"])
    }

    @Test func strategyRules() {
        #expect(diagnostics(deploymentWith([(#""selector""#, #""strategy": {"type": "Recreate", "rollingUpdate": {}}, "selector""#)])) == [
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
        ])
        #expect(diagnostics(deploymentWith([(#""selector""#, #""strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}, "selector""#)])) == [
            #"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0"#
        ])
        #expect(diagnostics(deploymentWith([(#""selector""#, #""strategy": {"rollingUpdate": {"maxUnavailable": "110%", "maxSurge": "x"}}, "selector""#)])) == [
            #"spec.strategy.rollingUpdate.maxSurge: Invalid value: "x": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"#,
            #"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%"#,
        ])
        #expect(diagnostics(deploymentWith([(#""selector""#, #""strategy": {"type": "BlueGreen"}, "selector""#)])) == [
            #"spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate""#
        ])
    }

    @Test func templateMustRestartAlways() {
        let text = deploymentWith([(#""containers""#, #""restartPolicy": "Never", "containers""#)])
        #expect(diagnostics(text) == [#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#])
    }

    @Test func replicasAndDeadlines() {
        let text = deploymentWith([(#""selector""#, #""replicas": -1, "minReadySeconds": 10, "progressDeadlineSeconds": 5, "selector""#)])
        #expect(diagnostics(text) == [
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
        ])
    }
}

@Suite struct KubernetesPodValidationTests {
    private func pod(_ spec: String) -> String {
        #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": \#(spec)}"#
    }

    @Test func containersAreRequiredNamedUniqueAndHaveImages() {
        #expect(diagnostics(pod(#"{"containers": []}"#)) == ["spec.containers: Required value"])
        #expect(diagnostics(pod(#"{"containers": [{"image": "x"}]}"#)) == ["spec.containers[0].name: Required value"])
        #expect(diagnostics(pod(#"{"initContainers": [{"name": "a", "image": "x"}], "containers": [{"name": "a"}, {"name": "B", "image": "y"}]}"#)) == [
            #"spec.containers[0].name: Duplicate value: "a""#,
            "spec.containers[0].image: Required value",
            #"spec.containers[1].name: Invalid value: "B": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#,
        ])
    }

    @Test func ports() {
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 70000, "name": "http"}]}]}"#)) == [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"
        ])
        // A decoding error (a schema error) stops before semantic validation, as in the apiserver.
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 70000, "name": "http", "protocol": "ICMP"}]}]}"#)) == [
            #"spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#
        ])
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}, {"containerPort": 82, "name": "Web_1"}]}]}"#)) == [
            #"spec.containers[0].ports[1].name: Duplicate value: "http""#,
            #"spec.containers[0].ports[2].name: Invalid value: "Web_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
        ])
    }

    @Test func environment() {
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "env": [{"name": "1X", "value": "v"}, {"name": "Y", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, {"name": "Z", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]}]}"#)) == [
            #"spec.containers[0].env[0].name: Invalid value: "1X": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"#,
            #"spec.containers[0].env[1].valueFrom: Invalid value: "": may not be specified when `value` is not empty"#,
            #"spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.bogus": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs""#,
        ])
    }

    @Test func volumesAndMounts() {
        #expect(diagnostics(pod(#"{"volumes": [{"name": "v", "emptyDir": {}, "configMap": {"name": "c"}}, {"name": "v", "secret": {}}], "containers": [{"name": "a", "image": "x", "volumeMounts": [{"name": "w", "mountPath": "/a"}, {"name": "v", "mountPath": "/a"}]}]}"#)) == [
            "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
            #"spec.volumes[1].name: Duplicate value: "v""#,
            "spec.volumes[1].secret.secretName: Required value",
            #"spec.containers[0].volumeMounts[0].name: Not found: "w""#,
            #"spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique"#,
        ])
    }

    @Test func probes() {
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "readinessProbe": {"periodSeconds": 5}, "livenessProbe": {"tcpSocket": {"port": 0}, "exec": {"command": ["true"]}, "successThreshold": 2}}]}"#)) == [
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            "spec.containers[0].readinessProbe: Required value: must specify a handler type",
        ])
        #expect(diagnostics(pod(#"{"initContainers": [{"name": "i", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}}], "containers": [{"name": "a", "image": "x"}]}"#)) == [
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"
        ])
    }

    @Test func resources() {
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2", "memory": "lots"}}}]}"#)) == [
            #"spec.containers[0].resources.requests[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#
        ])
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}}]}"#)) == [
            #"spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1"#
        ])
    }

    @Test func typeErrorsInsidePods() {
        #expect(diagnostics(pod(#"{"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": "80"}]}], "hostNetwork": "yes"}"#)) == [
            #"spec.containers[0].ports[0].containerPort: Invalid value: "string": spec.containers[0].ports[0].containerPort in body must be of type integer: "string""#,
            #"spec.hostNetwork: Invalid value: "string": spec.hostNetwork in body must be of type boolean: "string""#,
        ])
    }
}

@Suite struct KubernetesServiceValidationTests {
    private func service(_ spec: String) -> String {
        #"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": \#(spec)}"#
    }

    @Test func ports() {
        #expect(diagnostics(service(#"{}"#)) == ["spec.ports: Required value"])
        #expect(diagnostics(service(#"{"clusterIP": "None"}"#)) == [])
        #expect(diagnostics(service(#"{"ports": [{"port": 80}, {"port": 0, "name": "b"}, {"port": 82, "name": "b", "targetPort": "HTTP"}]}"#)) == [
            "spec.ports[0].name: Required value",
            "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            // targetPort defaults to port, and is then checked too, as in Kubernetes.
            "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            #"spec.ports[2].name: Duplicate value: "b""#,
            #"spec.ports[2].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
            #"spec.ports[2].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)"#,
        ])
        #expect(diagnostics(service(#"{"ports": [{"port": 80, "nodePort": 30000}]}"#)) == [
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
        ])
    }

    @Test func typesAndAddresses() {
        #expect(diagnostics(service(#"{"type": "ExternalName"}"#)) == ["spec.externalName: Required value"])
        #expect(diagnostics(service(#"{"type": "ExternalName", "externalName": "example.com"}"#)) == [])
        #expect(diagnostics(service(#"{"type": "Magic", "ports": [{"port": 80}]}"#)) == [
            #"spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#
        ])
        #expect(diagnostics(service(#"{"clusterIP": "10.0.0.300", "ports": [{"port": 80}]}"#)) == [
            #"spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#
        ])
    }
}

@Suite struct KubernetesWebhookValidationTests {
    private func webhook(_ body: String, kind: String = "MutatingWebhookConfiguration") -> String {
        #"{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "\#(kind)", "metadata": {"name": "w"}, "webhooks": [\#(body)]}"#
    }

    private let valid = #""name": "sidecar-injector.istio.io", "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/inject"}}, "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}], "sideEffects": "None", "admissionReviewVersions": ["v1"]"#

    @Test func istiosInjectorRegistrationIsValid() {
        #expect(diagnostics(webhook("{\(valid)}")) == [])
        #expect(diagnostics(webhook("{\(valid)}", kind: "ValidatingWebhookConfiguration")) == [])
    }

    @Test func requiredPieces() {
        #expect(diagnostics(webhook(#"{"name": "a.b.c", "clientConfig": {}}"#)) == [
            "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
            "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
            "webhooks[0].clientConfig: Required value: exactly one of url or service is required",
        ])
        #expect(diagnostics(webhook(#"{"name": "short", "clientConfig": {"url": "http://x/y?z"}, "sideEffects": "Some", "admissionReviewVersions": ["v2"], "timeoutSeconds": 31}"#)) == [
            #"webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun""#
        ])
        #expect(diagnostics(webhook(#"{"name": "short", "clientConfig": {"url": "http://x/y?z"}, "sideEffects": "None", "admissionReviewVersions": ["v2"], "timeoutSeconds": 31, "rules": [{"operations": ["*", "CREATE"]}]}"#)) == [
            #"webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots"#,
            #"webhooks[0].rules[0].operations: Invalid value: []string{"*", "CREATE"}: if '*' is present, must not specify other operations"#,
            "webhooks[0].rules[0].apiGroups: Required value",
            "webhooks[0].rules[0].apiVersions: Required value",
            "webhooks[0].rules[0].resources: Required value",
            #"webhooks[0].admissionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1"#,
            "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
            "webhooks[0].clientConfig.url: http:// webhooks are a meshlab allowance: Kubernetes accepts only https",
            #"webhooks[0].clientConfig.url: Invalid value: "http://x/y?z": query parameters are not permitted in the URL"#,
        ])
        #expect(diagnostics(webhook(#"{"name": "a.b.c", "clientConfig": {"url": "ftp://x/y"}, "sideEffects": "None", "admissionReviewVersions": ["v1"]}"#)) == [
            #"webhooks[0].clientConfig.url: Invalid value: "ftp://x/y": 'https' is the only allowed URL scheme"#,
        ])
    }

    @Test func reinvocationIsMutatingOnly() {
        #expect(diagnostics(webhook("{\(valid), \"reinvocationPolicy\": \"IfNeeded\"}", kind: "ValidatingWebhookConfiguration")) == [
            #"unknown field "webhooks[0].reinvocationPolicy""#
        ])
    }
}

@Suite struct KubernetesOtherKindsValidationTests {
    @Test func endpoints() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.1.0.5"}, {"ip": "pod"}], "notReadyAddresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}, {"port": 81}]}]}"#) == [
            #"subsets[0].addresses[1].ip: Invalid value: "pod": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#,
            "subsets[0].ports[0].name: Required value",
            "subsets[0].ports[1].name: Required value",
        ])
    }

    @Test func configMapKeys() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a b": "1", "ok.key": "2", "dup": "x"}, "binaryData": {"dup": "eA==", "bad": "!!"}}"#) == [
            #"data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#,
            #"data[dup]: Invalid value: "dup": duplicate of key present in binaryData"#,
            #"binaryData[bad]: Invalid value: "bad": illegal base64 data"#,
            #"binaryData[dup]: Invalid value: "dup": duplicate of key present in data"#,
        ])
    }

    @Test func serviceAccountAndNamespace() {
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}, "automountServiceAccountToken": false, "imagePullSecrets": [{"name": "r"}]}"#) == [])
        #expect(diagnostics(#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo", "labels": {"istio-injection": "enabled"}}}"#) == [])
    }
}
