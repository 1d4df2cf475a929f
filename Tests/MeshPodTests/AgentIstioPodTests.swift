import MeshModel
import MeshSystem
import Testing

@testable import MeshPod

/// What a pod that Istio's injector made needs from the node agent: its
/// proxyv2 containers run meshlab's commands, as the users they name, with
/// their downward-API environment, and the app waits for the sidecar.
@Suite struct AgentIstioPodTests {
    static let meshlab = "/usr/local/bin/meshlab"

    /// hello.yaml.injected's pod (pkg/kube/inject/testdata/inject), trimmed to what the agent reads.
    static let injected = """
        metadata:
          name: hello-7d4b9c
          namespace: shop
          labels: {app: hello, security.istio.io/tlsMode: istio, service.istio.io/canonical-name: hello}
          annotations: {sidecar.istio.io/status: '{"initContainers":["istio-init","istio-proxy"]}'}
        spec:
          serviceAccountName: hello-sa
          initContainers:
          - name: istio-init
            image: docker.io/istio/proxyv2:1.24.0
            args: [istio-iptables, -p, "15001", -z, "15006", -u, "1337", -m, REDIRECT, -i, '*', -x, "", -b, '*',
                   -d, "15090,15021,15020", --log_output_level=default:info]
            resources: {limits: {cpu: "2", memory: 1Gi}, requests: {cpu: 100m, memory: 128Mi}}
            securityContext:
              allowPrivilegeEscalation: false
              capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}
              privileged: false
              readOnlyRootFilesystem: false
              runAsGroup: 0
              runAsNonRoot: false
              runAsUser: 0
          - name: istio-proxy
            image: registry.istio.io/testing/proxyv2:latest
            args: [proxy, sidecar, --domain, $(POD_NAMESPACE).svc.cluster.local, --proxyLogLevel=warning,
                   --proxyComponentLogLevel=misc:error, --log_output_level=default:info]
            env:
            - {name: PILOT_CERT_PROVIDER, value: istiod}
            - {name: CA_ADDR, value: "istiod.istio-system.svc:15012"}
            - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
            - {name: INSTANCE_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
            - {name: SERVICE_ACCOUNT, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
            - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
            - {name: ISTIO_CPU_LIMIT, valueFrom: {resourceFieldRef: {divisor: "1", resource: limits.cpu}}}
            - {name: GOMEMLIMIT, valueFrom: {resourceFieldRef: {divisor: "1", resource: limits.memory}}}
            - {name: ISTIO_META_NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
            - {name: ISTIO_META_APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
            - {name: ISTIO_META_TLS_MODE, valueFrom: {fieldRef: {fieldPath: "metadata.labels['security.istio.io/tlsMode']"}}}
            - {name: ISTIO_META_STATUS, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['sidecar.istio.io/status']"}}}
            ports: [{containerPort: 15090, name: http-envoy-prom, protocol: TCP}]
            readinessProbe: {failureThreshold: 4, httpGet: {path: /healthz/ready, port: 15021}, periodSeconds: 15, timeoutSeconds: 3}
            resources: {limits: {cpu: "2", memory: 1Gi}, requests: {cpu: 100m, memory: 128Mi}}
            restartPolicy: Always
            securityContext:
              allowPrivilegeEscalation: false
              capabilities: {drop: [ALL]}
              privileged: false
              readOnlyRootFilesystem: true
              runAsGroup: 1337
              runAsNonRoot: true
              runAsUser: 1337
            startupProbe: {failureThreshold: 600, httpGet: {path: /healthz/ready, port: 15021}, periodSeconds: 1, timeoutSeconds: 3}
          containers:
          - name: hello
            image: docker.io/istio/examples-helloworld-v1:1.0
            ports: [{containerPort: 5000, name: http}]
        """

    static let sources = PodEnvironmentSources(podIP: "10.44.0.7", hostIP: "10.44.0.1", nodeName: "meshlab")

    func plan(_ name: String) throws -> ContainerPlan {
        let pod = try makePod(Self.injected)
        let container = try #require((pod.spec.initContainers ?? []).first { $0.name == name })
        return try ContainerPlan.make(container, pod: pod, sources: Self.sources, meshlabExecutable: Self.meshlab)
    }

    @Test func istioInitRunsPodInitAsRoot() throws {
        let plan = try plan("istio-init")
        #expect(plan.program == Self.meshlab)
        #expect(plan.arguments == ["pod-init", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
                                   "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"])
        #expect(plan.user == ContainerUser(uid: 0, gid: 0))  // runAsUser 0, as the spec says
        #expect(plan.builtIn?.summary == "pilot-agent")
        // And pod-init takes those arguments.
        let capture = try CaptureConfiguration.parse(Array(plan.arguments.dropFirst()))
        #expect(capture.inboundPortsExclude == "15090,15021,15020")
    }

    @Test func istioProxyRunsTheSidecarAsIstioProxysUserWithItsEnvironment() throws {
        let plan = try plan("istio-proxy")
        #expect(plan.program == Self.meshlab)
        #expect(plan.arguments == ["proxy", "sidecar", "--domain", "shop.svc.cluster.local", "--proxyLogLevel=warning",
                                   "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"])
        #expect(plan.user == ContainerUser(uid: 1337, gid: 1337))
        let env = plan.environment
        #expect(env["POD_NAME"] == "hello-7d4b9c")
        #expect(env["POD_NAMESPACE"] == "shop")
        #expect(env["INSTANCE_IP"] == "10.44.0.7")
        #expect(env["SERVICE_ACCOUNT"] == "hello-sa")
        #expect(env["HOST_IP"] == "10.44.0.1")
        #expect(env["ISTIO_META_NODE_NAME"] == "meshlab")
        #expect(env["CA_ADDR"] == "istiod.istio-system.svc:15012")
        #expect(env["ISTIO_CPU_LIMIT"] == "2")
        #expect(env["GOMEMLIMIT"] == "1073741824")
        #expect(env["ISTIO_META_APP"] == "hello")
        #expect(env["ISTIO_META_TLS_MODE"] == "istio")
        #expect(env["ISTIO_META_STATUS"] == "{\"initContainers\":[\"istio-init\",\"istio-proxy\"]}")
        #expect(env["HOME"] == "/tmp")
    }

    @Test func withoutRunAsUserTheProxyImageStillRunsUnprivileged() throws {
        let pod = try makePod("""
            metadata: {name: p}
            spec: {containers: [{name: init, image: "istio/proxyv2:1.24.0", args: [istio-iptables, -b, '*']}]}
            """)
        let plan = try ContainerPlan.make(pod.spec.containers[0], pod: pod, sources: Self.sources, meshlabExecutable: Self.meshlab)
        #expect(plan.user == .nobody)
        #expect(plan.arguments == ["pod-init", "-b", "*"])
    }

    @Test func otherPilotAgentSubcommandsCannotRun() throws {
        let pod = try makePod("""
            metadata: {name: p}
            spec: {containers: [{name: agent, image: "gcr.io/istio-release/proxyv2:1.20.0", args: [wait, --timeout, "5"]}]}
            """)
        #expect(throws: ContainerStartFailure.self) {
            try ContainerPlan.make(pod.spec.containers[0], pod: pod, sources: Self.sources, meshlabExecutable: Self.meshlab)
        }
        do {
            _ = try ContainerPlan.make(pod.spec.containers[0], pod: pod, sources: Self.sources, meshlabExecutable: Self.meshlab)
        } catch {
            #expect(error.kind == .image)
            #expect(error.message.contains("istio-iptables, proxy") && error.message.contains("\"wait\""), "\(error.message)")
        }
    }

    /// kubelet's rule for native sidecars: the next container starts only
    /// once the sidecar has started and its startup probe has passed, here
    /// after three failed probes over three seconds of a manual clock.
    @Test func theAppWaitsForTheSidecarsStartupProbe() throws {
        var h = LifecycleHarness(try makePod(Self.injected))
        h.start()
        #expect(h.startPending(h.send(.sandboxCreated(ip: "10.44.0.7"))).starts.isEmpty)
        let proxy = h.exit("istio-init", .exited(code: 0))
        #expect(proxy.starts == ["istio-proxy"])
        h.startPending(proxy)
        for second in 1...3 {
            h.now = moment(.seconds(second))
            #expect(h.probe("istio-proxy", .startup, .failure("connection refused")).starts.isEmpty)
            #expect(h.status().container("hello")?.state?.waiting?.reason == "PodInitializing")
            #expect(h.lifecycle.processID(of: "hello") == nil)
        }
        h.now = moment(.seconds(4))
        let app = h.probe("istio-proxy", .startup, .success)
        #expect(app.starts == ["hello"])
        h.startPending(app)
        #expect(h.lifecycle.processID(of: "hello") != nil)
        // Readiness is not what the app waited for: the sidecar is started, not yet ready.
        #expect(h.status().container("istio-proxy")?.started == true)
        #expect(h.status().container("istio-proxy")?.ready == false)
    }
}
