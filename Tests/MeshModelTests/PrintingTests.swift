import MeshModel
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_795_314_928, "2026-11-22T02:35:28Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
    ])
    func formatsAndParsesBack(seconds: Int, text: String) {
        #expect(Timestamp.format(epochSeconds: seconds) == text)
        #expect(Timestamp.parse(text) == seconds)
    }

    @Test func parsesFractionsAndOffsets() {
        #expect(Timestamp.parse("2026-11-22T02:35:28.123456Z") == 1_795_314_928)
        #expect(Timestamp.parse("2026-11-22T04:35:28+02:00") == 1_795_314_928)
        #expect(Timestamp.parse("2026-11-21T21:35:28-05:00") == 1_795_314_928)
    }

    @Test(arguments: ["", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T02:35:28", "2026-11-22T02:35:28Zjunk",
                      "2026-11-22 02:35:28Z"])
    func rejectsMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(arguments: [
        (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (600, "10m"),
        (10_799, "179m"), (10_800, "3h"), (11_000, "3h3m"), (28_800, "8h"), (172_799, "47h"), (172_800, "2d"),
        (180_000, "2d2h"), (691_200, "8d"), (63_072_000, "2y"), (66_000_000, "2y33d"), (252_288_000, "8y"),
    ])
    func agesReadAsKubectlPrintsThem(seconds: Int, text: String) {
        #expect(Timestamp.humanDuration(seconds: seconds) == text)
    }
}

@Suite struct ResourceTableTests {
    let now = 1_795_314_928

    func object(_ kind: String, _ name: String, namespace: String = "default", age: Int = 65,
                extra: JSONObject = [:]) -> JSONValue {
        var o: JSONObject = [
            "kind": .string(kind),
            "metadata": ["name": .string(name), "namespace": .string(namespace),
                         "creationTimestamp": .string(Timestamp.format(epochSeconds: now - age))],
        ]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    @Test func rendersPodsWithStatusFromContainers() {
        let running = object("Pod", "web-1", extra: [
            "spec": ["containers": [["name": "a"], ["name": "b"]]],
            "status": ["phase": "Running", "podIP": "10.44.0.7", "containerStatuses": [
                ["name": "a", "ready": true, "restartCount": 1, "state": ["running": [:]]],
                ["name": "b", "ready": false, "restartCount": 2,
                 "state": ["waiting": ["reason": "CrashLoopBackOff"]]],
            ]],
        ])
        let pending = object("Pod", "db", age: 4000, extra: ["spec": ["containers": [["name": "a"]]]])
        let table = ResourceTable.make(kind: "Pod", objects: [running, pending], now: now, wide: true)
        #expect(table.rendered() == """
            NAME    READY   STATUS             RESTARTS   AGE   IP          NODE
            web-1   1/2     CrashLoopBackOff   3          65s   10.44.0.7   <none>
            db      0/1     Pending            0          66m   <none>      <none>

            """)
    }

    @Test func nativeSidecarsCountAmongAPodsContainers() {
        // Istio's injected pod: istio-init ran, istio-proxy is a restartable init container.
        let injected = object("Pod", "hello-1", extra: [
            "spec": [
                "initContainers": [["name": "istio-init"], ["name": "istio-proxy", "restartPolicy": "Always"]],
                "containers": [["name": "hello"]],
            ],
            "status": [
                "phase": "Running",
                "initContainerStatuses": [
                    ["name": "istio-init", "ready": true, "restartCount": 0, "state": ["terminated": ["exitCode": 0]]],
                    ["name": "istio-proxy", "ready": true, "restartCount": 1, "state": ["running": [:]]],
                ],
                "containerStatuses": [["name": "hello", "ready": true, "restartCount": 0, "state": ["running": [:]]]],
            ],
        ])
        #expect(ResourceTable.make(kind: "Pod", objects: [injected], now: now).rows == [["hello-1", "2/2", "Running", "1", "65s"]])
    }

    @Test func rendersServicesAndIstioColumnsWithNamespaces() {
        let svc = object("Service", "reviews", extra: [
            "spec": ["type": "ClusterIP", "clusterIP": "10.96.0.12", "ports": [["port": 9080, "protocol": "TCP"]],
                     "selector": ["app": "reviews"]],
        ])
        #expect(ResourceTable.make(kind: "Service", objects: [svc], now: now).rows
            == [["reviews", "ClusterIP", "10.96.0.12", "<none>", "9080/TCP", "65s"]])
        let vs = object("VirtualService", "reviews", namespace: "shop", extra: [
            "spec": ["hosts": ["reviews"], "gateways": ["mesh"]],
        ])
        let table = ResourceTable.make(kind: "VirtualService", objects: [vs], now: now, withNamespace: true)
        #expect(table.columns == ["NAMESPACE", "NAME", "GATEWAYS", "HOSTS", "AGE"])
        #expect(table.rows == [["shop", "reviews", #"["mesh"]"#, #"["reviews"]"#, "65s"]])
    }

    @Test func unknownKindsGetNameAndAge() {
        let table = ResourceTable.make(kind: "Gateway", objects: [object("Gateway", "gw")], now: now)
        #expect(table.rendered() == "NAME   AGE\ngw     65s\n")
    }

    @Test func endpointsListTheFirstThree() {
        let ep = object("Endpoints", "reviews", extra: [
            "subsets": [["addresses": [["ip": "10.0.0.1"], ["ip": "10.0.0.2"], ["ip": "10.0.0.3"], ["ip": "10.0.0.4"]],
                         "ports": [["port": 9080]]]],
        ])
        #expect(ResourceTable.make(kind: "Endpoints", objects: [ep], now: now).rows[0][1]
            == "10.0.0.1:9080,10.0.0.2:9080,10.0.0.3:9080 + 1 more...")
    }
}
