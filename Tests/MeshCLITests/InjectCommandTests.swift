import Foundation
import MeshCLI
import MeshControlPlane
import MeshModel
import Testing

/// `meshlab inject -f`: the webhook's injection, offline.
@Suite struct InjectCommandTests {
    func run(_ args: [String]) async -> (ExitCode, String, String) {
        let out = CapturedOutput()
        let err = CapturedOutput()
        let context = CommandContext(stdout: out, stderr: err, environment: [:])
        let code = await CommandRunner.run(MeshlabCommand.self, arguments: args, context: context)
        return (code, out.text, err.text)
    }

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/meshlab-inject-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "fake.io/web:1", ports: [{containerPort: 8080}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {ports: [{port: 80, targetPort: 8080}], selector: {app: web}}
        """

    @Test func injectsWorkloadsAndPassesTheRestThrough() async throws {
        let path = try write(manifest)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (code, out, err) = await run(["inject", "-f", path])
        #expect(code == .success, "\(err)")
        let documents = try YAML.loadAll(out).map(\.value)
        #expect(documents.count == 2)
        let initContainers = documents.first?[path: "spec.template.spec.initContainers"]?.arrayValue ?? []
        #expect(initContainers.compactMap { $0["name"]?.stringValue } == ["istio-init", "istio-proxy"])
        #expect(initContainers.first?["image"] == .string(InjectionSettings.defaultProxyImage))
        let env = initContainers.last?["env"]?.arrayValue ?? []
        #expect(env.first { $0["name"] == "ISTIO_META_OWNER" }?["value"] == "kubernetes://apis/apps/v1/namespaces/shop/deployments/web")
        #expect(documents.last?["kind"] == "Service")
        #expect(documents.last?[path: "spec"] == (try YAML.loadAll(manifest).last?.value[path: "spec"]))

        let (jsonCode, json, _) = await run(["inject", "-f", path, "-o", "json"])
        #expect(jsonCode == .success)
        #expect(try JSONValue(parsing: Array(json.utf8))["kind"] == "List")
    }

    @Test func badAnnotationsFailWithTheirPlace() async throws {
        let path = try write("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              annotations: {traffic.sidecar.istio.io/includeOutboundIPRanges: "bad"}
            spec: {containers: [{name: web, image: "fake.io/web:1"}]}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (code, out, err) = await run(["inject", "-f", path])
        #expect(code == .failure)
        #expect(out == "")
        #expect(err == "\(path): Pod/web: invalid value 'bad' for annotation 'traffic.sidecar.istio.io/includeOutboundIPRanges': includeIPRanges invalid: failed parsing cidr 'bad': netip.ParsePrefix(\"bad\"): no '/'\n")
    }
}
