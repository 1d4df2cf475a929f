import MeshModel

/// The `istiod` Service in `istio-system`, as an Istio install has it, so that
/// sidecars find meshd by the name in their PROXY_CONFIG
/// (`istiod.istio-system.svc:15012`) through cluster DNS. meshd is not a pod:
/// the Service has no selector and its Endpoints, which the Endpoints
/// controller leaves alone, point at the daemon's own address (the node
/// gateway in netns mode, 127.0.0.1 for a control plane alone).
enum IstiodService {
    static let namespace = "istio-system"
    static let name = "istiod"

    /// istiod's ports: name, service port, target port.
    static let ports: [(name: String, port: Int, target: Int)] = [
        ("grpc-xds", 15010, 15010), ("https-dns", 15012, 15012), ("https-webhook", 443, 15017),
        ("http-monitoring", 15014, 15014),
    ]

    static var service: JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(namespace),
                         "labels": ["app": "istiod", "istio": "pilot"]],
            "spec": ["ports": .array(ports.map { ["name": .string($0.name), "port": .int($0.port),
                                                  "targetPort": .int($0.target), "protocol": "TCP"] })],
        ]
    }

    static func endpoints(address: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "istiod"]],
            "subsets": [[
                "addresses": [["ip": .string(address)]],
                "ports": .array(ports.map { ["name": .string($0.name), "port": .int($0.target), "protocol": "TCP"] }),
            ]],
        ]
    }

    /// Creates the Service and its Endpoints where missing, and points
    /// existing Endpoints at `address`: safe to run at every start, and
    /// beside anyone else creating the same Service.
    static func ensure(api: LocalAPI, address: String) async throws(StatusObject) {
        do throws(StatusObject) {
            try await api.create(MeshModel.Service.descriptor, service)
        } catch where error.code == 409 {}
        let wanted = endpoints(address: address)
        let key = ObjectKey(GroupResource(resource: "endpoints"), namespace: namespace, name: name)
        guard var current = try? api.store.get(key) else {
            do throws(StatusObject) {
                try await api.create(Endpoints.descriptor, wanted)
            } catch where error.code == 409 {}
            return
        }
        if current["subsets"] == wanted["subsets"] { return }
        current["subsets"] = wanted["subsets"]
        try await api.update(Endpoints.descriptor, current)
    }
}

extension PushServer {
    /// Creates or updates the `istiod` Service and Endpoints (see `IstiodService`)
    /// through `api`, so the Service gets its ClusterIP as any other would.
    public static func registerIstiod(api: APIServer, address: String) async throws {
        try await IstiodService.ensure(api: LocalAPI(server: api), address: address)
    }
}
