import MeshModel

/// meshd's injector registers itself as Istio's does: a
/// MutatingWebhookConfiguration `istio-sidecar-injector` whose four webhooks
/// select pods by namespace label (`istio-injection=enabled`, or
/// `istio.io/rev=default`) or, in unlabelled namespaces, by pod label
/// (`sidecar.istio.io/inject=true`, `istio.io/rev=default`); all call the
/// istiod Service in istio-system on port 443, path `/inject`.
public enum InjectorRegistration {
    public static let name = "istio-sidecar-injector"

    /// The configuration for `revision` (the default tag: `default`).
    public static func configuration(revision: String = "default") -> JSONValue {
        func expression(_ key: String, _ op: String, _ values: [String]? = nil) -> JSONValue {
            var object: JSONObject = ["key": .string(key), "operator": .string(op)]
            if let values { object["values"] = .array(values.map(JSONValue.string)) }
            return .object(object)
        }
        let notOptedOut = expression("sidecar.istio.io/inject", "NotIn", ["false"])
        let webhooks: [(String, [JSONValue], [JSONValue])] = [
            ("rev.namespace.sidecar-injector.istio.io",
             [expression("istio.io/rev", "In", [revision]), expression("istio-injection", "DoesNotExist")], [notOptedOut]),
            ("rev.object.sidecar-injector.istio.io",
             [expression("istio.io/rev", "DoesNotExist"), expression("istio-injection", "DoesNotExist")],
             [notOptedOut, expression("istio.io/rev", "In", [revision])]),
            ("namespace.sidecar-injector.istio.io", [expression("istio-injection", "In", ["enabled"])], [notOptedOut]),
            ("object.sidecar-injector.istio.io",
             [expression("istio-injection", "DoesNotExist"), expression("istio.io/rev", "DoesNotExist")],
             [expression("sidecar.istio.io/inject", "In", ["true"]), expression("istio.io/rev", "DoesNotExist")]),
        ]
        return [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": ["name": .string(name), "labels": ["app": "sidecar-injector", "istio.io/rev": .string(revision)]],
            "webhooks": .array(webhooks.map { name, namespaceSelector, objectSelector in
                [
                    "name": .string(name),
                    "clientConfig": ["service": ["name": "istiod", "namespace": "istio-system", "path": "/inject", "port": 443]],
                    "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
                    "namespaceSelector": ["matchExpressions": .array(namespaceSelector)],
                    "objectSelector": ["matchExpressions": .array(objectSelector)],
                    "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                    "reinvocationPolicy": "Never", "timeoutSeconds": 10,
                ]
            }),
        ]
    }
}
