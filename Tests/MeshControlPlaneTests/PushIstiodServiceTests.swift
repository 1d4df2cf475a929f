@testable import MeshControlPlane
import MeshModel
import Testing

/// The `istiod` Service meshd registers: Istio's ports, a ClusterIP, Endpoints at the
/// daemon's address that the Endpoints controller leaves alone; idempotent.
@Suite struct PushIstiodServiceTests {
    @Test func registeredOnceKeptByTheControllersAndMovedWithTheAddress() async throws {
        let store = ResourceStore()
        try Bootstrap.seed(store)
        let api = APIServer(store: store)
        let manager = ControllerManager(server: api, options: ControllerOptions(debounce: .milliseconds(1)))
        let controllers = Task { await manager.runUntilCancelled() }
        defer { controllers.cancel() }

        try await IstiodService.ensure(api: api, address: "10.44.0.1")
        try await IstiodService.ensure(api: api, address: "10.44.0.1")  // a second start: no error, no change
        let serviceKey = ObjectKey(GroupResource(resource: "services"), namespace: "istio-system", name: "istiod")
        let endpointsKey = ObjectKey(GroupResource(resource: "endpoints"), namespace: "istio-system", name: "istiod")
        let service = try store.get(serviceKey)
        #expect(service["spec"]?["clusterIP"]?.stringValue?.hasPrefix("10.96.") == true)
        #expect(service["spec"]?["selector"] == nil)
        let ports = service["spec"]?["ports"]?.arrayValue?.map { "\($0["name"]?.stringValue ?? ""):\($0["port"]?.intValue ?? 0)->\($0["targetPort"]?.intValue ?? 0)" }
        #expect(ports == ["grpc-xds:15010->15010", "https-dns:15012->15012", "https-webhook:443->15017", "http-monitoring:15014->15014"])
        let version = try store.get(endpointsKey)["metadata"]?["resourceVersion"]

        // A change elsewhere makes the Endpoints controller look around; it must not touch ours.
        try store.create(GroupResource(resource: "pods"), ["apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "p", "namespace": "istio-system"], "spec": ["containers": [["name": "a", "image": "b"]]]])
        try await Task.sleep(for: .milliseconds(50))
        let endpoints = try store.get(endpointsKey)
        #expect(endpoints["metadata"]?["resourceVersion"] == version)
        #expect(endpoints["subsets"]?[0]?["addresses"]?[0]?["ip"] == "10.44.0.1")
        #expect(endpoints["subsets"]?[0]?["ports"]?.arrayValue?.count == 4)

        try await IstiodService.ensure(api: api, address: "127.0.0.1")
        #expect(try store.get(endpointsKey)["subsets"]?[0]?["addresses"]?[0]?["ip"] == "127.0.0.1")
    }
}
