import MeshCLI
import MeshModel
import Testing

@Suite struct ScaleCommandTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx
        """

    func replicas(_ cli: CLIHarness) async -> JSONValue? {
        let response = await cli.server.respond(to: .init(method: .get, target: "/apis/apps/v1/namespaces/shop/deployments/web",
                                                          headers: [:], body: []))
        return (try? JSONValue(parsing: response.body))?[path: "spec.replicas"]
    }

    @Test func scalesAsKubectlDoes() async throws {
        let cli = await CLIHarness()
        let files = try TemporaryDirectory()
        #expect(await cli.run("apply", "-f", try files.write("web.yaml", Self.deployment)).code == .success)

        let scaled = await cli.run("scale", "deploy", "web", "--replicas", "3", "-n", "shop")
        #expect(scaled.code == .success, "\(scaled.err)")
        #expect(scaled.out == "deployment.apps/web scaled\n")
        #expect(await replicas(cli) == 3)

        let slashed = await cli.run("scale", "deployment/web", "--replicas=0", "-n", "shop")
        #expect(slashed.out == "deployment.apps/web scaled\n")
        #expect(await replicas(cli) == 0)

        let dry = await cli.run("scale", "deploy", "web", "--replicas", "5", "-n", "shop", "--dry-run")
        #expect(dry.out == "deployment.apps/web scaled (server dry run)\n")
        #expect(await replicas(cli) == 0)
    }

    @Test func reportsWhatCannotBeScaled() async {
        let cli = await CLIHarness()
        let missing = await cli.run("scale", "deploy", "nope", "--replicas", "1")
        #expect(missing.code == .failure)
        #expect(missing.err == "Error from server (NotFound): deployments.apps \"nope\" not found\n")
        let configMap = await cli.run("scale", "cm", "settings", "--replicas", "1")
        #expect(configMap.err == "Error from server (NotFound): the server could not find the requested resource\n")
        #expect(await cli.run("scale", "deploy", "web").code == .usage)
        #expect(await cli.run("scale", "deploy", "web", "--replicas", "-1").code == .usage)
        #expect(await cli.run("scale", "deploy", "--replicas", "1").code == .usage)
    }
}
