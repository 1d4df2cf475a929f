import MeshHTTP
import MeshModel

/// The istiod Service pods and the API server reach meshd by: selector-less
/// in istio-system, with Endpoints at the daemon's own address. Ports as
/// Istio's: 15010 grpc-xds, 15012 https-dns, 443→15017 https-webhook,
/// 15014 http-monitoring. Made if missing, at every daemon start (the
/// Endpoints follow the daemon's address).
public enum IstiodService {
    public static let webhookPort = 15017

    static func ports(webhookPort: Int) -> [(name: String, port: Int, target: Int)] {
        [("grpc-xds", 15010, 15010), ("https-dns", 15012, 15012), ("https-webhook", 443, webhookPort),
         ("http-monitoring", 15014, 15014)]
    }

    /// Creates istio-system, the Service and its Endpoints through `api`
    /// unless present; the Endpoints are rewritten to `address`.
    /// Returns the problems met (empty when all is in place).
    @discardableResult
    public static func ensure(api: APIServer, address: String, webhookPort: Int = IstiodService.webhookPort) async -> [String] {
        let ports = ports(webhookPort: webhookPort)
        var problems: [String] = []
        func post(_ path: String, _ object: JSONValue) async -> Int {
            let response = await api.respond(to: HTTPRequest(
                method: .post, target: path, headers: ["Content-Type": "application/json"], body: object.serializedBytes()))
            let code = response.status.code
            if code != 201 && code != 409 { problems.append("POST \(path): \(code) \(response.bodyText)") }
            return code
        }
        _ = await post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "istio-system"]])
        _ = await post("/api/v1/namespaces/istio-system/services", [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "istiod", "labels": ["app": "istiod", "istio": "pilot"]],
            "spec": ["ports": .array(ports.map {
                ["name": .string($0.name), "port": .int($0.port), "targetPort": .int($0.target), "protocol": "TCP"]
            })],
        ])
        let endpoints: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "istiod", "namespace": "istio-system"],
            "subsets": [[
                "addresses": [["ip": .string(address)]],
                "ports": .array(ports.map { ["name": .string($0.name), "port": .int($0.target), "protocol": "TCP"] }),
            ]],
        ]
        if await post("/api/v1/namespaces/istio-system/endpoints", endpoints) == 409 {
            let response = await api.respond(to: HTTPRequest(
                method: .put, target: "/api/v1/namespaces/istio-system/endpoints/istiod",
                headers: ["Content-Type": "application/json"], body: endpoints.serializedBytes()))
            if response.status.code != 200 { problems.append("PUT endpoints/istiod: \(response.status.code) \(response.bodyText)") }
        }
        return problems
    }
}
