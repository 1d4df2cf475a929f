import MeshModel

/// The `istiod` Service in `istio-system`, as an Istio install has it, so that
/// sidecars find meshd by the name in their PROXY_CONFIG
/// (`istiod.istio-system.svc:15012`) through cluster DNS. meshd is not a pod:
/// the Service has no selector and its Endpoints, which the Endpoints
/// controller leaves alone, point at the daemon's own address (the node
/// gateway in netns mode, 127.0.0.1 for a control plane alone). The push
/// server and the injector make it together: the Endpoints carry the ports
/// they actually bound (ephemeral ones for a control plane beside others).
public enum IstiodService {
    static let namespace = "istio-system"
    static let name = "istiod"

    /// The ports meshd listens on, as the Endpoints name them (Istio's by default).
    public struct Ports: Sendable, Hashable {
        public var push: Int
        public var debug: Int
        public var webhook: Int
        public init(push: Int = 15010, debug: Int = 15014, webhook: Int = 15017) {
            self.push = push
            self.debug = debug
            self.webhook = webhook
        }
    }

    /// istiod's ports: name, service port, target port.
    static func ports(_ bound: Ports) -> [(name: String, port: Int, target: Int)] {
        [("grpc-xds", 15010, bound.push), ("https-dns", 15012, 15012), ("https-webhook", 443, bound.webhook),
         ("http-monitoring", 15014, bound.debug)]
    }

    static var service: JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(namespace),
                         "labels": ["app": "istiod", "istio": "pilot"]],
            "spec": ["ports": .array(ports(Ports()).map { ["name": .string($0.name), "port": .int($0.port),
                                                  "targetPort": .int($0.target), "protocol": "TCP"] })],
        ]
    }

    static func endpoints(address: String, ports bound: Ports) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "istiod"]],
            "subsets": [[
                "addresses": [["ip": .string(address)]],
                "ports": .array(ports(bound).map { ["name": .string($0.name), "port": .int($0.target), "protocol": "TCP"] }),
            ]],
        ]
    }

    /// Creates the Service and its Endpoints where missing, and points
    /// existing Endpoints at `address`: safe to run at every start, and
    /// beside anyone else creating the same Service.
    static func ensure(api: LocalAPI, address: String, ports: Ports) async throws(StatusObject) {
        do throws(StatusObject) {
            try await api.create(Namespace.descriptor, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        } catch where error.code == 409 {}
        do throws(StatusObject) {
            try await api.create(MeshModel.Service.descriptor, service)
        } catch where error.code == 409 {}
        let wanted = endpoints(address: address, ports: ports)
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

extension IstiodService {
    /// Creates or updates the `istiod` Service and Endpoints through `api`,
    /// so the Service gets its ClusterIP as any other would.
    public static func ensure(api: APIServer, address: String, ports: Ports = Ports()) async throws {
        try await ensure(api: LocalAPI(server: api), address: address, ports: ports)
    }
}
