import MeshModel
import MeshSystem
import Testing

@testable import MeshPod

@Suite struct AgentExpansionTests {
    static let variables = ["VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""]

    // Kubernetes' own cases (third_party/forked/golang/expansion/expand_test.go).
    @Test(arguments: [
        ("$(VAR_A)", "A"), ("___$(VAR_B)___", "___B___"), ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("$(VAR_A)-1", "A-1"), ("$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"), ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
        ("$$(VAR_A)$$(VAR_B)", "$(VAR_A)$(VAR_B)"), ("f000-$$VAR_A", "f000-$VAR_A"), ("foo\\$(VAR_C)bar", "foo\\Cbar"),
        ("foo\\\\$(VAR_C)bar", "foo\\\\Cbar"), ("$(VAR_A)$(VAR_A)", "AA"), ("$(VAR_DNE)", "$(VAR_DNE)"),
        ("$(VAR_A", "$(VAR_A"), ("$VAR_A", "$VAR_A"), ("$", "$"), ("$$", "$"), ("$$$(VAR_A)", "$A"),
        ("$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"), ("$(VAR_REF)", "$(VAR_A)"), ("$(VAR_EMPTY)", ""), ("$()", "$()"),
        ("((($(VAR_A))))", "(((A)))"), ("$((VAR_A))", "$((VAR_A))"), ("$(VAR_A)$", "A$"), ("héllo $(VAR_A) ünï", "héllo A ünï"),
        ("$é", "$é"), ("$(", "$("),
    ])
    func expandsAsKubernetes(_ input: String, _ expected: String) {
        #expect(VariableExpansion.expand(input, in: Self.variables) == expected)
    }
}

@Suite struct AgentCommandTests {
    static let meshlab = "/usr/local/bin/meshlab"

    func plan(_ yaml: String, sources: PodEnvironmentSources? = nil, container: Int = 0) throws -> ContainerPlan {
        let pod = try makePod(yaml)
        let sources = sources ?? PodEnvironmentSources(podIP: "10.44.0.7", hostIP: "10.44.0.1", nodeName: "meshlab")
        return try ContainerPlan.make(pod.spec.containers[container], pod: pod, sources: sources, meshlabExecutable: Self.meshlab)
    }

    func failure(_ yaml: String, sources: PodEnvironmentSources? = nil) throws -> ContainerStartFailure? {
        do {
            _ = try plan(yaml, sources: sources)
            return nil
        } catch let error as ContainerStartFailure {
            return error
        }
    }

    @Test func commandRunsALocalProgramWithExpandedArguments() throws {
        let plan = try plan("""
            metadata: {name: web}
            spec:
              containers:
              - name: app
                image: docker.io/curlimages/curl
                command: ["/bin/sh", "-c"]
                args: ["echo $(GREETING) $(MISSING) $$(GREETING)"]
                env: [{name: GREETING, value: hello}]
            """)
        #expect(plan.program == "/bin/sh")
        #expect(plan.arguments == ["-c", "echo hello $(MISSING) $(GREETING)"])
        #expect(plan.builtIn == nil)
    }

    @Test func aBuiltInImageRunsMeshlabApp() throws {
        let plan = try plan("""
            metadata: {name: reviews}
            spec:
              containers:
              - name: reviews
                image: docker.io/istio/examples-bookinfo-reviews-v2:1.20.3
                args: ["--color", "$(COLOR)"]
                env: [{name: COLOR, value: black}]
            """)
        #expect(plan.program == Self.meshlab)
        #expect(plan.arguments == ["app", "reviews", "--version", "v2", "--color", "black"])
        #expect(plan.builtIn?.app == "reviews")
    }

    @Test func commandWinsOverABuiltInImage() throws {
        let plan = try plan("""
            metadata: {name: sleep}
            spec: {containers: [{name: sleep, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}]}
            """)
        #expect(plan.program == "/bin/sleep")
        #expect(plan.arguments == ["infinity"])
    }

    @Test func anUnknownImageCannotRun() throws {
        let failure = try failure("""
            metadata: {name: db}
            spec: {containers: [{name: db, image: "postgres:16"}]}
            """)
        #expect(failure?.kind == .image)
        #expect(failure?.reason == "ErrImagePull")
        #expect(failure?.message == "image postgres:16 cannot run in meshlab: give command: or use one of the built-in images: "
            + BuiltInImage.knownImages.joined(separator: ", "))
        #expect(failure?.message.contains("examples-bookinfo-productpage-v1") == true)
    }

    @Test func environmentIsKubeletsOrderAndExpansion() throws {
        let configMap = ConfigMap(metadata: ObjectMeta(name: "settings"), data: ["LEVEL": "debug", "MODE": "fast", "bad=name": "x"])
        let sources = PodEnvironmentSources(podIP: "10.44.0.7", hostIP: "10.44.0.1", nodeName: "meshlab",
                                            configMaps: ["settings": configMap])
        let plan = try plan("""
            metadata: {name: web, labels: {app: web, version: v1}, annotations: {team: mesh}}
            spec:
              serviceAccountName: bookinfo-web
              containers:
              - name: app
                command: [/bin/true]
                envFrom:
                - configMapRef: {name: settings}
                  prefix: CFG_
                env:
                - {name: CFG_MODE, value: "slow"}
                - {name: URL, value: "http://$(HOST):$(PORT)/$(CFG_LEVEL)"}
                - {name: HOST, value: localhost}
                - {name: PORT, value: "9080"}
                - {name: AGAIN, value: "$(HOST):$(PORT)"}
                - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
                - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
                - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
                - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
                - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
                - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                - {name: NOPE, valueFrom: {fieldRef: {fieldPath: "metadata.labels['nope']"}}}
                - {name: TEAM, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['team']"}}}
                - {name: LABELS, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}
                - {name: LEVEL, valueFrom: {configMapKeyRef: {name: settings, key: LEVEL}}}
                - {name: OPTIONAL, valueFrom: {configMapKeyRef: {name: absent, key: X, optional: true}}}
                - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
            """, sources: sources)
        let env = plan.environment
        #expect(env["CFG_LEVEL"] == "debug")
        #expect(env["CFG_MODE"] == "slow")
        // Only what is defined before a value expands in it.
        #expect(env["URL"] == "http://$(HOST):$(PORT)/debug")
        #expect(env["AGAIN"] == "localhost:9080")
        #expect(env["POD_NAME"] == "web")
        #expect(env["POD_NAMESPACE"] == "default")
        #expect(env["POD_UID"] == "uid-1")
        #expect(env["POD_IP"] == "10.44.0.7")
        #expect(env["HOST_IP"] == "10.44.0.1")
        #expect(env["NODE"] == "meshlab")
        #expect(env["SA"] == "bookinfo-web")
        #expect(env["APP"] == "web")
        #expect(env["NOPE"] == "")
        #expect(env["TEAM"] == "mesh")
        #expect(env["LABELS"] == "app=\"web\"\nversion=\"v1\"")
        #expect(env["LEVEL"] == "debug")
        #expect(env["OPTIONAL"] == nil)
        #expect(env["CPU"] == "1")
        // The base every container gets.
        #expect(env["PATH"] == ContainerPlan.defaultPath)
        #expect(env["HOME"] == "/tmp")
        #expect(env["HOSTNAME"] == "web")
        #expect(env["CFG_bad=name"] == nil)
        #expect(plan.warnings.map(\.reason) == ["InvalidEnvironmentVariableNames"])
        #expect(plan.warnings.first?.message.contains("[CFG_bad=name]") == true)
    }

    @Test func missingConfigurationIsAConfigurationError() throws {
        let missingMap = try failure("""
            metadata: {name: web}
            spec: {containers: [{name: app, command: [/bin/true], env: [{name: X, valueFrom: {configMapKeyRef: {name: settings, key: X}}}]}]}
            """)
        #expect(missingMap == ContainerStartFailure(.configuration, "configmap \"settings\" not found"))
        #expect(missingMap?.reason == "CreateContainerConfigError")

        let sources = PodEnvironmentSources(podIP: "", hostIP: "", nodeName: "n",
                                            configMaps: ["settings": ConfigMap(metadata: ObjectMeta(name: "settings"), data: [:])])
        let missingKey = try failure("""
            metadata: {name: web}
            spec: {containers: [{name: app, command: [/bin/true], env: [{name: X, valueFrom: {configMapKeyRef: {name: settings, key: X}}}]}]}
            """, sources: sources)
        #expect(missingKey?.message == "couldn't find key X in ConfigMap default/settings")

        let badField = try failure("""
            metadata: {name: web}
            spec: {containers: [{name: app, command: [/bin/true], env: [{name: X, valueFrom: {fieldRef: {fieldPath: spec.nothing}}}]}]}
            """)
        #expect(badField?.message == "unsupported fieldPath: spec.nothing")
    }

    @Test func secretsAreNotServedAndSaySo() throws {
        let required = try failure("""
            metadata: {name: web}
            spec: {containers: [{name: app, command: [/bin/true], env: [{name: PW, valueFrom: {secretKeyRef: {name: db, key: pw}}}]}]}
            """)
        #expect(required?.kind == .configuration)
        #expect(required?.message.contains("secret \"db\": meshlab does not serve Secrets") == true)

        let optional = try plan("""
            metadata: {name: web}
            spec: {containers: [{name: app, command: [/bin/true], env: [{name: PW, valueFrom: {secretKeyRef: {name: db, key: pw, optional: true}}}]}]}
            """)
        #expect(optional.environment["PW"] == nil)
        #expect(optional.warnings == [PodEventRecord(.warning, "SecretNotServed", "secret \"db\": meshlab does not serve Secrets; env PW left out")])
    }

    @Test func resourceFieldsRoundUpInTheDivisorsUnits() throws {
        let plan = try plan("""
            metadata: {name: web}
            spec:
              containers:
              - name: app
                command: [/bin/true]
                resources: {limits: {cpu: 1500m, memory: 1Gi}, requests: {cpu: 250m}}
                env:
                - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
                - {name: CPU_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
                - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
                - {name: REQ_MEM, valueFrom: {resourceFieldRef: {resource: requests.memory}}}
            """)
        #expect(plan.environment["CPU"] == "2")
        #expect(plan.environment["CPU_M"] == "250")
        #expect(plan.environment["MEM_MI"] == "1024")
        // Requests default to limits (the apiserver's defaulting).
        #expect(plan.environment["REQ_MEM"] == "1073741824")
    }

    @Test func neverRootUnlessAsked() throws {
        let nobody = try plan("metadata: {name: a}\nspec: {containers: [{name: a, command: [/bin/true]}]}")
        #expect(nobody.user == .nobody)
        #expect(nobody.workingDirectory == "/")

        let podLevel = try plan("""
            metadata: {name: a}
            spec: {securityContext: {runAsUser: 1000, runAsGroup: 2000}, containers: [{name: a, command: [/bin/true], workingDir: /srv}]}
            """)
        #expect(podLevel.user == ContainerUser(uid: 1000, gid: 2000))
        #expect(podLevel.workingDirectory == "/srv")

        let containerLevel = try plan("""
            metadata: {name: a}
            spec: {securityContext: {runAsUser: 1000}, containers: [{name: a, command: [/bin/true], securityContext: {runAsUser: 1337}}]}
            """)
        #expect(containerLevel.user == ContainerUser(uid: 1337, gid: 65534))

        let root = try plan("metadata: {name: a}\nspec: {containers: [{name: a, command: [/bin/true], securityContext: {runAsUser: 0}}]}")
        #expect(root.user == ContainerUser(uid: 0, gid: 0))
        #expect(root.environment["HOME"] == "/root")

        let refused = try failure("""
            metadata: {name: a}
            spec: {securityContext: {runAsNonRoot: true}, containers: [{name: a, command: [/bin/true], securityContext: {runAsUser: 0}}]}
            """)
        #expect(refused?.message == "container has runAsNonRoot and image will run as root (container: a)")

        let negative = try failure("metadata: {name: a}\nspec: {containers: [{name: a, command: [/bin/true], securityContext: {runAsUser: -1}}]}")
        #expect(negative?.kind == .configuration)
    }

    @Test func theEnterRequestCarriesTheSandboxAndTheUser() throws {
        let plan = try plan("metadata: {name: web}\nspec: {containers: [{name: app, command: [/bin/sleep, '5']}]}")
        let sandbox = PodSandbox(pod: PodIdentity(namespace: "default", name: "web", uid: "uid-1"),
                                 networkNamespace: "/run/netns/meshlab-web", ip: "10.44.0.7", hostname: "web",
                                 resolvConf: "/s/resolv.conf", hosts: "/s/hosts", directory: "/s")
        let request = plan.enterRequest(in: sandbox)
        #expect(request.commandLine == ["__enter", "--net", "/run/netns/meshlab-web", "--resolv-conf", "/s/resolv.conf",
                                        "--hosts", "/s/hosts", "--hostname", "web", "--uid", "65534", "--gid", "65534",
                                        "--cwd", "/", "--", "/bin/sleep", "5"])
        #expect(plan.enterRequest(in: sandbox, switchUser: false).userID == nil)
        let probe = plan.running(["cat", "$(HOSTNAME)"])
        #expect(probe.program == "cat")
        #expect(probe.arguments == ["web"])
        #expect(probe.user == plan.user)
    }
}
