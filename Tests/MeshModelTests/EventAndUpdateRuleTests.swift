import MeshModel
import Testing

@Suite struct EventKindTests {
    let now = 1_795_314_928

    func event(_ name: String, reason: String, lastSeen: Int, extra: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = [
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name), "namespace": "shop"],
            "involvedObject": ["kind": "Deployment", "namespace": "shop", "name": "reviews-v1", "apiVersion": "apps/v1"],
            "reason": .string(reason), "message": "Scaled up pod set reviews-v1-5d4b8c9f7 from 1 to 3\n",
            "source": ["component": "deployment-controller"], "type": "Normal", "count": 4,
            "firstTimestamp": .string(Timestamp.format(epochSeconds: now - 600)),
            "lastTimestamp": .string(Timestamp.format(epochSeconds: now - lastSeen)),
        ]
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    @Test func isServedAsKubectlKnowsIt() throws {
        let entry = try #require(ResourceRegistry.resource(named: "ev"))
        #expect(entry.descriptor.kind == "Event" && entry.descriptor.plural == "events")
        #expect(!entry.descriptor.hasStatus)
        #expect(ResourceRegistry.resource(named: "events")?.descriptor.kind == "Event")
        let checked = entry.check(event("reviews-v1.17a2b3c4d5e6f789", reason: "ScalingReplicaSet", lastSeen: 30))
        #expect(checked.isValid, "\(checked.diagnostics)")
        #expect(checked.object?["count"] == 4)
        #expect(checked.object?[path: "source.component"] == "deployment-controller")
    }

    @Test func livesInTheNamespaceOfItsObject() throws {
        let entry = try #require(ResourceRegistry.resource(named: "ev"))
        var elsewhere = event("x.1", reason: "R", lastSeen: 1)
        elsewhere[path: "involvedObject.namespace"] = "other"
        #expect(entry.check(elsewhere).errors.map(\.description)
            == [#"involvedObject.namespace: Invalid value: "other": does not match event.namespace"#])
        // A cluster-scoped object's events go in "default".
        var node = event("n.1", reason: "R", lastSeen: 1)
        node[path: "metadata.namespace"] = "default"
        node[path: "involvedObject.namespace"] = nil
        #expect(entry.check(node).isValid)
    }

    @Test func printsKubectlsColumns() {
        let events = [
            event("reviews-v1.1", reason: "ScalingReplicaSet", lastSeen: 30),
            event("reviews-v1.2", reason: "SuccessfulCreate", lastSeen: 0,
                  extra: ["type": "Warning", "involvedObject": ["kind": "Pod", "name": ""], "lastTimestamp": .null]),
        ]
        let table = ResourceTable.make(kind: "Event", objects: events, now: now)
        #expect(table.rendered() == """
            LAST SEEN   TYPE      REASON              OBJECT                  MESSAGE
            30s         Normal    ScalingReplicaSet   deployment/reviews-v1   Scaled up pod set reviews-v1-5d4b8c9f7 from 1 to 3
            10m         Warning   SuccessfulCreate    pod                     Scaled up pod set reviews-v1-5d4b8c9f7 from 1 to 3

            """)
        let wide = ResourceTable.make(kind: "Event", objects: [events[0]], now: now, wide: true, withNamespace: true)
        #expect(wide.columns == ["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE", "SUBOBJECT", "SOURCE",
                                 "FIRST SEEN", "COUNT", "NAME"])
        #expect(wide.rows[0].suffix(5) == ["", "deployment-controller", "10m", "4", "reviews-v1.1"])
    }
}

@Suite struct ScaleKindTests {
    @Test func replicasMustNotBeNegative() {
        let scale: JSONValue = ["apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": ["name": "web"], "spec": ["replicas": -2]]
        #expect(ResourceCodec.check(Scale.self, scale, options: CheckOptions()).errors.map(\.description)
            == ["spec.replicas: Invalid value: -2: must be greater than or equal to 0"])
    }
}

@Suite struct UpdateRuleTests {
    struct Invalid: Error { let diagnostics: [Diagnostic] }

    func decode<T: Resource>(_ type: T.Type, _ object: JSONValue) throws -> T {
        let checked = ResourceCodec.check(T.self, object, options: CheckOptions())
        guard let normalized = checked.object else { throw Invalid(diagnostics: checked.errors) }
        return try ResourceCodec.decode(T.self, from: normalized)
    }

    func deployment(selector: JSONValue) throws -> Deployment {
        try decode(Deployment.self, [
            "metadata": ["name": "web"],
            "spec": ["selector": selector, "template": ["metadata": ["labels": ["app": "web", "tier": "a"]],
                                                        "spec": ["containers": [["name": "c", "image": "i"]]]]],
        ])
    }

    @Test func deploymentSelectorIsImmutableAndPrintedAsGo() throws {
        let old = try deployment(selector: ["matchLabels": ["app": "web"]])
        #expect(try deployment(selector: ["matchLabels": ["app": "web"], "matchExpressions": []]).validateUpdate(from: old).isEmpty)
        let changed = try deployment(selector: ["matchLabels": ["app": "web", "tier": "a"]])
        #expect(changed.validateUpdate(from: old).map(\.description) == [
            #"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"a"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#,
        ])
        let expressions = try deployment(selector: ["matchExpressions": [["key": "tier", "operator": "In", "values": ["a", "b"]]]])
        #expect(expressions.validateUpdate(from: old).first?.message
            == #"Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"In", Values:[]string{"a", "b"}}}}: field is immutable"#)
    }

    func service(_ spec: JSONObject) throws -> MeshModel.Service {
        var full = spec
        if full["ports"] == nil { full["ports"] = [["port": 80]] }
        return try decode(MeshModel.Service.self, ["metadata": ["name": "web"], "spec": .object(full)])
    }

    @Test func serviceAddressesMayNotChange() throws {
        let old = try service(["clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]])
        #expect(try service(["clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"], "ports": [["port": 81]]]).validateUpdate(from: old).isEmpty)
        #expect(try service(["clusterIP": "10.96.0.6", "clusterIPs": ["10.96.0.6"]]).validateUpdate(from: old).map(\.description)
            == [#"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: may not change once set"#])
        #expect(try service([:]).validateUpdate(from: old).map(\.description)
            == [#"spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset"#])
        // To and from ExternalName the address may go and come.
        #expect(try service(["type": "ExternalName", "externalName": "example.com"]).validateUpdate(from: old).isEmpty)
        let headless = try service(["clusterIP": "None", "clusterIPs": ["None"]])
        #expect(headless.validateUpdate(from: headless).isEmpty)
    }

    func pod(_ containers: JSONValue, extra: JSONObject = [:]) throws -> Pod {
        var spec: JSONObject = ["containers": containers]
        for (key, value) in extra { spec[key] = value }
        return try decode(Pod.self, ["metadata": ["name": "p"], "spec": .object(spec)])
    }

    @Test func podSpecChangesAreLimited() throws {
        let old = try pod([["name": "a", "image": "i:1"]], extra: ["tolerations": [["key": "k", "operator": "Exists"]]])
        #expect(try pod([["name": "a", "image": "i:2"]], extra: [
            "tolerations": [["key": "k", "operator": "Exists"], ["key": "z", "operator": "Exists"]],
        ]).validateUpdate(from: old).isEmpty)
        let dropped = try pod([["name": "a", "image": "i:1"]]).validateUpdate(from: old)
        #expect(dropped.map(\.description) == ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"])
        let command = try pod([["name": "a", "image": "i:1", "command": ["sh"]]], extra: ["tolerations": [["key": "k", "operator": "Exists"]]])
            .validateUpdate(from: old)
        #expect(command.count == 1)
        #expect(command.first?.message.hasSuffix("\n+ spec.containers[0].command: [\"sh\"]") == true)
        #expect(try pod([["name": "a", "image": "i:1"], ["name": "b", "image": "j"]]).validateUpdate(from: old).map(\.description)
            == ["spec.containers: Forbidden: pod updates may not add or remove containers"])
    }
}

@Suite struct EventConstructionTests {
    let pod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "7"],
    ]

    @Test func makesTheEventARecorderWould() throws {
        let event = Event.about(pod, type: Event.warning, reason: "BackOff", message: "Back-off restarting failed container",
                                component: "kubelet", host: "meshlab", time: 1_700_000_000, sequence: 3)
        #expect(event[path: "metadata.name"] == "web-1.17979cfe362a0003")
        #expect(event[path: "metadata.namespace"] == "shop")
        #expect(event["involvedObject"] == ["kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "u1",
                                            "apiVersion": "v1", "resourceVersion": "7"])
        #expect(event["source"] == ["component": "kubelet", "host": "meshlab"])
        #expect(event["count"] == 1 && event["firstTimestamp"] == "2023-11-14T22:13:20Z" && event["lastTimestamp"] == event["firstTimestamp"])
        let checked = try #require(ResourceRegistry.resource(named: "events")).check(event)
        #expect(checked.isValid, "\(checked.diagnostics)")

        let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop"]]
        #expect(Event.about(namespace, reason: "R", message: "m", component: "c", time: 0)[path: "metadata.namespace"] == "default")
    }

    @Test func aggregatesByObjectReasonAndMessageNotByTime() {
        let first = Event.about(pod, reason: "Pulled", message: "ok", component: "kubelet", time: 10)
        var later = Event.about(pod, reason: "Pulled", message: "ok", component: "kubelet", time: 99, sequence: 5)
        later[path: "involvedObject.resourceVersion"] = "8"
        #expect(Event.aggregationKey(first) == Event.aggregationKey(later))
        #expect(Event.aggregationKey(first) != Event.aggregationKey(Event.about(pod, reason: "Pulled", message: "other",
                                                                                   component: "kubelet", time: 10)))
    }
}
