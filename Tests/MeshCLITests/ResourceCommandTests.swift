import FoundationEssentials
import MeshCLI
import MeshControlPlane
import MeshModel
import Testing

/// Runs meshlab commands in-process against an in-memory API server.
final class CLIHarness: Sendable {
    let server: APIServer
    let now = 1_795_314_928

    init() async {
        server = APIServer(store: ResourceStore(options: StoreOptions(log: { _ in })))
        server.setReady(true)
        for name in ["default", "shop"] {
            _ = await server.respond(to: .init(method: .post, target: "/api/v1/namespaces", headers: ["Content-Type": "application/json"],
                                              body: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#.utf8)))
        }
    }

    struct Result {
        var code: ExitCode
        var out: String
        var err: String
    }

    func run(_ arguments: String...) async -> Result {
        let out = CapturedOutput()
        let err = CapturedOutput()
        let now = self.now
        let context = CommandContext(stdout: out, stderr: err, environment: [:],
                                     apiTransport: InProcessTransport(server: server), now: { now })
        let code = await CommandRunner.run(MeshlabCommand.self, arguments: arguments, context: context)
        return Result(code: code, out: out.text, err: err.text)
    }
}

/// Writes files for a test in a fresh temporary directory, removed afterwards.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/meshlab-cli-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// Istio's shared test data, next to the repository.
let istioSamples: String = {
    let repo = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    for candidate in ["/" + repo + "/../shared/istio", "/work/shared/istio"]
    where FileManager.default.fileExists(atPath: candidate) {
        return candidate + "/samples"
    }
    return "/work/shared/istio/samples"
}()

@Suite struct ApplyCommandTests {
    @Test func appliesIstioSamplesThenReportsUnchanged() async throws {
        let cli = await CLIHarness()
        let first = await cli.run("apply", "-f", istioSamples + "/bookinfo/networking/destination-rule-all.yaml",
                                  "-f", istioSamples + "/bookinfo/networking/virtual-service-all-v1.yaml")
        #expect(first.code == .success, "\(first.err)")
        #expect(first.out.split(separator: "\n").sorted() == [
            "destinationrule.networking.istio.io/details created", "destinationrule.networking.istio.io/productpage created",
            "destinationrule.networking.istio.io/ratings created", "destinationrule.networking.istio.io/reviews created",
            "virtualservice.networking.istio.io/details created", "virtualservice.networking.istio.io/productpage created",
            "virtualservice.networking.istio.io/ratings created", "virtualservice.networking.istio.io/reviews created",
        ])
        let again = await cli.run("apply", "-f", istioSamples + "/bookinfo/networking/virtual-service-all-v1.yaml")
        #expect(again.out.split(separator: "\n").allSatisfy { $0.hasSuffix(" unchanged") })
        let changed = await cli.run("apply", "-f", istioSamples + "/bookinfo/networking/virtual-service-reviews-90-10.yaml")
        #expect(changed.out == "virtualservice.networking.istio.io/reviews configured\n")
        let table = await cli.run("get", "vs")
        #expect(table.out.hasPrefix("NAME          GATEWAYS   HOSTS             AGE\ndetails                  [\"details\"]"))
    }

    @Test func appliesBookinfoWithItsDefaults() async throws {
        let cli = await CLIHarness()
        let result = await cli.run("apply", "-f", istioSamples + "/bookinfo/platform/kube/bookinfo.yaml")
        #expect(result.code == .success, "\(result.err)")
        #expect(result.err.isEmpty)
        #expect(result.out.contains("deployment.apps/reviews-v2 created"))
        #expect(result.out.contains("serviceaccount/bookinfo-reviews created"))
        let services = await cli.run("get", "svc", "-o", "name")
        #expect(services.out == "service/details\nservice/productpage\nservice/ratings\nservice/reviews\n")
        let deployment = await cli.run("get", "deploy", "reviews-v1", "-o", "json")
        let object = try JSONValue(parsing: deployment.out)
        #expect(object["spec"]?["strategy"]?["rollingUpdate"]?["maxSurge"] == "25%")
        #expect(object["metadata"]?["annotations"]?[lastAppliedAnnotation] != nil)
    }

    @Test func removedFieldsAreRemovedAndServerFieldsKept() async throws {
        let cli = await CLIHarness()
        let dir = try TemporaryDirectory()
        let file = try dir.write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels: {team: a}
            data:
              a: "1"
              b: "2"
            """)
        #expect(await cli.run("apply", "-f", file).code == .success)
        // Someone else adds a label; the next apply must keep it.
        #expect(await cli.run("apply", "-f", try dir.write("patch.json", #"""
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}
            """#)).code == .success)
        _ = await cli.server.respond(to: .init(method: .patch, target: "/api/v1/namespaces/default/configmaps/settings",
                                               headers: ["Content-Type": "application/merge-patch+json"],
                                               body: Array(#"{"metadata":{"labels":{"owner":"ops"}}}"#.utf8)))
        try dir.write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels: {team: a}
            data:
              a: "1"
            """)
        #expect(await cli.run("apply", "-f", file).out == "configmap/settings configured\n")
        let object = try JSONValue(parsing: await cli.run("get", "cm", "settings", "-o", "json").out)
        #expect(object["data"] == ["a": "1"])
        #expect(object["metadata"]?["labels"] == ["team": "a", "owner": "ops"])
    }

    @Test func problemsPointAtTheirLines() async throws {
        let cli = await CLIHarness()
        let dir = try TemporaryDirectory()
        let file = try dir.write("vs.yaml", """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: helloworld
            spec:
              hosts:
              - helloworld
              http:
              - route:
                - destination:
                    host: helloworld
                    subset: v1
                  weight: 115
                - destination:
                    host: helloworld
                    subset: v2
                  weight: -15
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: extra
            datta: {}
            ---
            apiVersion: example.com/v1
            kind: Gizmo
            metadata:
              name: g
            """)
        let result = await cli.run("apply", "-f", file)
        #expect(result.code == .failure)
        #expect(result.out == "configmap/extra created\n")
        #expect(result.err == """
            \(file):17: VirtualService/helloworld: spec.http[0].route[1].weight: weight -15 < 0
            \(file):23: Warning: ConfigMap/extra: unknown field "datta"
            \(file):25: Gizmo/g: no matches for kind "Gizmo" in version "example.com/v1"

            """)
        let strict = await cli.run("apply", "--validate=strict", "-f", file)
        #expect(strict.err.contains("\(file):23: ConfigMap/extra: unknown field \"datta\""))
    }

    @Test func namespaceFlagAndManifestMustAgree() async throws {
        let cli = await CLIHarness()
        let dir = try TemporaryDirectory()
        let file = try dir.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n")
        let result = await cli.run("apply", "-n", "default", "-f", file)
        #expect(result.code == .failure)
        #expect(result.err.contains("the namespace from the provided object \"shop\" does not match the namespace \"default\""))
        #expect(await cli.run("apply", "-n", "shop", "-f", file).out == "configmap/a created\n")
        let dry = await cli.run("apply", "--dry-run", "-f", try dir.write("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"))
        #expect(dry.out == "configmap/b created (server dry run)\n")
        #expect(await cli.run("get", "cm", "b").code == .failure)
    }

    @Test func yamlErrorsNameTheFileAndLine() async throws {
        let cli = await CLIHarness()
        let dir = try TemporaryDirectory()
        let file = try dir.write("broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
        let result = await cli.run("apply", "-f", file)
        #expect(result.code == .failure)
        #expect(result.err.hasPrefix("\(file):5: "))
        #expect(await cli.run("apply", "-f", dir.path + "/missing.yaml").err
            == "meshlab apply: the path \"\(dir.path)/missing.yaml\" does not exist (see 'meshlab apply --help')\n")
    }
}

@Suite struct GetDeleteCommandTests {
    @Test func getsTablesAcrossNamespacesAndFormats() async throws {
        let cli = await CLIHarness()
        _ = await cli.run("apply", "-f", istioSamples + "/bookinfo/networking/destination-rule-all.yaml", "-n", "shop")
        let all = await cli.run("get", "dr", "-A")
        #expect(all.out.hasPrefix("NAMESPACE   NAME          HOST          AGE\nshop        details       details       "))
        let none = await cli.run("get", "dr")
        #expect(none.err == "No resources found in default namespace.\n")
        let missing = await cli.run("get", "dr", "nope", "-n", "shop")
        #expect(missing.code == .failure)
        #expect(missing.err == "Error from server (NotFound): destinationrules.networking.istio.io \"nope\" not found\n")
        let yaml = await cli.run("get", "destinationrules.networking.istio.io", "reviews", "-n", "shop", "-o", "yaml")
        #expect(yaml.out.hasPrefix("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"))
        let several = await cli.run("get", "dr,ns", "-n", "shop")
        #expect(several.out.contains("destinationrule.networking.istio.io/reviews"))
        #expect(several.out.contains("namespace/shop"))
        let unknown = await cli.run("get", "gizmos")
        #expect(unknown.code == .usage)
        #expect(unknown.err == "meshlab get: the server doesn't have a resource type \"gizmos\" (see 'meshlab get --help')\n")
    }

    @Test func deletesByFileNameAndLabel() async throws {
        let cli = await CLIHarness()
        let networking = istioSamples + "/bookinfo/networking/destination-rule-all.yaml"
        _ = await cli.run("apply", "-f", networking)
        #expect(await cli.run("delete", "dr", "reviews").out == "destinationrule.networking.istio.io \"reviews\" deleted\n")
        let file = await cli.run("delete", "-f", networking)
        #expect(file.code == .failure)  // reviews is already gone
        #expect(file.err == "Error from server (NotFound): destinationrules.networking.istio.io \"reviews\" not found\n")
        #expect(await cli.run("delete", "-f", networking, "--ignore-not-found").code == .success)

        let dir = try TemporaryDirectory()
        let file2 = try dir.write("cms.yaml", """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: {app: demo}}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, labels: {app: demo}}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
            """)
        #expect(await cli.run("apply", "-f", file2).code == .success)
        let byLabel = await cli.run("delete", "cm", "-l", "app=demo")
        #expect(byLabel.out == "configmap \"a\" deleted\nconfigmap \"b\" deleted\n")
        #expect(await cli.run("get", "cm", "-o", "name").out == "configmap/c\n")
        #expect(await cli.run("delete", "cm").code == .usage)
    }
}
