import MeshClient
import MeshControlPlane
import MeshHTTP
import MeshModel
import Testing

@Suite struct APIClientTests {
    func server() -> APIServer {
        let server = APIServer(store: ResourceStore(options: StoreOptions(log: { _ in })))
        server.setReady(true)
        return server
    }

    @Test func watchStreamsEventsOverRealHTTP() async throws {
        let client = APIClient(transport: InProcessTransport(handler: server()))
        try await client.call(.post, "/api/v1/namespaces",
                              body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop"]])
        let events = client.watch("/api/v1/namespaces/shop/configmaps")
        var iterator = events.makeAsyncIterator()
        try await client.call(.post, "/api/v1/namespaces/shop/configmaps",
                              body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a"]])
        let added = try await iterator.next()
        #expect(added?.type == "ADDED")
        #expect(added?.object["metadata"]?["name"] == "a")
        try await client.call(.delete, "/api/v1/namespaces/shop/configmaps/a")
        #expect(try await iterator.next()?.type == "DELETED")
    }

    @Test func watchErrorsCarryTheServersStatus() async throws {
        let client = APIClient(transport: InProcessTransport(handler: server()))
        var iterator = client.watch("/api/v1/configmaps?labelSelector=%3D%3D").makeAsyncIterator()
        do {
            _ = try await iterator.next()
            Issue.record("expected the watch to fail")
        } catch let status as StatusObject {
            #expect(status.code == 400)
        }
    }

    @Test func connectionsAreReused() async throws {
        let http = HTTPServer()
        let client = APIClient(transport: InProcessTransport(handler: server(), server: http))
        for _ in 0..<5 { _ = try await client.get("/api/v1/namespaces") }
        #expect(http.connectionCount == 1)
    }
}
