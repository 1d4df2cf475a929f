import MeshModel
import MeshTestSupport
import Testing

private func checked<T: Resource>(_ type: T.Type, _ text: String) throws -> T {
    let result = ResourceCodec.check(T.self, try JSONValue(parsing: text), options: CheckOptions())
    #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    return try ResourceCodec.decode(T.self, from: try #require(result.object))
}

@Suite struct KubernetesDefaultingTests {
    @Test func podDefaults() throws {
        let pod = try checked(Pod.self, """
            {"metadata": {"name": "p"}, "spec": {"volumes": [{"name": "bare"}, {"name": "cm", "configMap": {"name": "c"}}],
             "containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}],
               "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
               "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
               "readinessProbe": {"httpGet": {"port": 80}}, "livenessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 3}},
              {"name": "pinned", "image": "registry.local:5000/app:1.2"}, {"name": "digest", "image": "app@sha256:abc"},
              {"name": "latest", "image": "app:latest"}]}}
            """)
        let spec = pod.spec
        #expect(spec.restartPolicy == .always)
        #expect(spec.dnsPolicy == .clusterFirst)
        #expect(spec.terminationGracePeriodSeconds == 30)
        #expect(spec.serviceAccountName == "default")
        #expect(spec.serviceAccount == "default")
        #expect(spec.enableServiceLinks == true)
        #expect(spec.volumes?[0].emptyDir == EmptyDirVolumeSource())
        #expect(spec.volumes?[1].configMap?.defaultMode == 0o644)
        let app = spec.containers[0]
        #expect(app.imagePullPolicy == .always)
        #expect(app.terminationMessagePath == "/dev/termination-log")
        #expect(app.terminationMessagePolicy == .file)
        #expect(app.ports?[0].protocol == .tcp)
        #expect(app.env?[0].valueFrom?.fieldRef?.apiVersion == "v1")
        #expect(app.resources?.requests?["cpu"]?.text == "100m")
        #expect(app.resources?.requests?["memory"]?.text == "1Gi")
        let readiness = try #require(app.readinessProbe)
        #expect(readiness.timeoutSeconds == 1)
        #expect(readiness.periodSeconds == 10)
        #expect(readiness.successThreshold == 1)
        #expect(readiness.failureThreshold == 3)
        #expect(readiness.httpGet?.path == "/")
        #expect(readiness.httpGet?.scheme == .http)
        #expect(app.livenessProbe?.periodSeconds == 3)
        #expect(spec.containers.map(\.imagePullPolicy) == [.always, .ifNotPresent, .ifNotPresent, .always])
    }

    @Test func deprecatedServiceAccountFillsTheName() throws {
        let pod = try checked(Pod.self, #"{"metadata": {"name": "p"}, "spec": {"serviceAccount": "old", "containers": [{"name": "a", "image": "x"}]}}"#)
        #expect(pod.spec.serviceAccountName == "old")
    }

    @Test func hostNetworkPodsExposeContainerPortsOnTheHost() throws {
        let pod = try checked(Pod.self, #"{"metadata": {"name": "p"}, "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}]}]}}"#)
        #expect(pod.spec.containers[0].ports?[0].hostPort == 8080)
    }

    @Test func deploymentDefaults() throws {
        let deployment = try checked(Deployment.self, """
            {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
             "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}
            """)
        #expect(deployment.spec.replicas == 1)
        #expect(deployment.spec.strategy?.type == .rollingUpdate)
        #expect(deployment.spec.strategy?.rollingUpdate == Deployment.RollingUpdate(maxUnavailable: "25%", maxSurge: "25%"))
        #expect(deployment.spec.revisionHistoryLimit == 10)
        #expect(deployment.spec.progressDeadlineSeconds == 600)
        #expect(deployment.spec.template.spec.restartPolicy == .always)
        #expect(deployment.spec.template.spec.containers[0].imagePullPolicy == .ifNotPresent)
        let recreate = try checked(Deployment.self, """
            {"metadata": {"name": "d"}, "spec": {"strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"a": "b"}},
             "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}
            """)
        #expect(recreate.spec.strategy == Deployment.Strategy(type: .recreate))
    }

    @Test func serviceDefaults() throws {
        let service = try checked(Service.self, #"{"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "b", "targetPort": "web"}], "selector": {"app": "x"}}}"#)
        #expect(service.spec.type == .clusterIP)
        #expect(service.spec.sessionAffinity == Service.SessionAffinity.none)
        #expect(service.spec.internalTrafficPolicy == .cluster)
        #expect(service.spec.externalTrafficPolicy == nil)
        #expect(service.spec.ports?.map(\.protocol) == [.tcp, .tcp])
        #expect(service.spec.ports?.map(\.targetPort) == [.int(80), .string("web")])
        let sticky = try checked(Service.self, #"{"metadata": {"name": "s"}, "spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}"#)
        #expect(sticky.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == 10800)
        #expect(sticky.spec.externalTrafficPolicy == .cluster)
    }

    @Test func webhookDefaults() throws {
        let configuration = try checked(MutatingWebhookConfiguration.self, """
            {"metadata": {"name": "istio-sidecar-injector"}, "webhooks": [{"name": "rev.namespace.sidecar-injector.istio.io",
             "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/inject"}},
             "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
             "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
            """)
        let webhook = try #require(configuration.webhooks?.first)
        #expect(webhook.failurePolicy == .fail)
        #expect(webhook.matchPolicy == .equivalent)
        #expect(webhook.timeoutSeconds == 10)
        #expect(webhook.namespaceSelector == LabelSelectorSpec())
        #expect(webhook.objectSelector == LabelSelectorSpec())
        #expect(webhook.reinvocationPolicy == .never)
        #expect(webhook.rules?.first?.scope == .all)
        #expect(webhook.clientConfig.service?.port == 443)
    }

    @Test func namespaceAndEndpointsDefaults() throws {
        let namespace = try checked(Namespace.self, #"{"metadata": {"name": "demo"}}"#)
        #expect(namespace.metadata.labels == ["kubernetes.io/metadata.name": "demo"])
        #expect(namespace.status?.phase == .active)
        let endpoints = try checked(Endpoints.self, #"{"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}"#)
        #expect(endpoints.subsets?.first?.ports?.first?.protocol == .tcp)
    }

    /// The stored form of a real sample after defaulting: field order as
    /// Kubernetes writes it, apiVersion and kind first, maps sorted.
    @Test(.enabled(if: KubernetesManifests.available, "needs ../shared/istio beside the repository"))
    func helloworldStoredForm() throws {
        var out = ""
        for document in try KubernetesManifests.documents("samples/helloworld/helloworld.yaml") {
            let result = try #require(KubernetesManifests.check(document))
            out += try #require(result.object).serialized(JSONFormat(indent: 2)) + "\n"
        }
        try Golden.check(out, against: "KubernetesDefaults-helloworld.json")
    }
}
