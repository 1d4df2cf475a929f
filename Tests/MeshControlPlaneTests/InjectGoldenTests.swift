import Foundation
import MeshControlPlane
import MeshModel
import Testing

/// Istio's own injection goldens (pkg/kube/inject/testdata/inject, copied to
/// ../shared/istio): each `X.yaml` injected by meshlab must match
/// `X.yaml.injected` in everything meshlab models.
///
/// Deliberately left out, and so removed from the expected side before comparing:
/// - `volumes` and every container's `volumeMounts` (workload-socket, istio-envoy,
///   istio-data, istio-podinfo, istio-token, istiod-ca-cert, …): meshlab's sidecar
///   gets its identity and bootstrap from the node agent, not from mounted files;
///   for the same reason the `volumes` list in `sidecar.istio.io/status` is null.
/// - What Go's serializer adds to every object istioctl prints: `strategy: {}`,
///   `status: {}`, `resources: {}` on the app containers (empty values, not settings).
@Suite(.enabled(if: InjectGoldens.available, "needs Istio's injection goldens in ../shared/istio"))
struct InjectGoldenTests {
    /// The image Istio's tests inject (values in inject_test.go): used so the goldens compare as they are.
    let settings = InjectionSettings(proxyImage: "registry.istio.io/testing/proxyv2:latest")

    @Test(arguments: ["hello", "traffic-annotations"])
    func injectedLikeIstio(_ name: String) throws {
        let (input, expected) = try InjectGoldens.pair(name)
        let injected = try ManifestInjection.inject(input, settings: settings)
        let actualPod = try #require(injected[path: "spec.template"])
        let expectedPod = try #require(expected[path: "spec.template"])

        #expect(actualPod[path: "metadata.labels"] == expectedPod[path: "metadata.labels"])
        var expectedAnnotations = try #require(expectedPod[path: "metadata.annotations"]?.objectValue)
        var actualAnnotations = try #require(actualPod[path: "metadata.annotations"]?.objectValue)
        let expectedStatus = try JSONValue(parsing: Array(try #require(expectedAnnotations["sidecar.istio.io/status"]?.stringValue).utf8))
        let actualStatus = try JSONValue(parsing: Array(try #require(actualAnnotations["sidecar.istio.io/status"]?.stringValue).utf8))
        for key in ["initContainers", "containers", "imagePullSecrets", "revision"] {
            #expect(actualStatus[key] == expectedStatus[key], "status.\(key)")
        }
        #expect(actualStatus["volumes"] == .null)
        expectedAnnotations["sidecar.istio.io/status"] = nil
        actualAnnotations["sidecar.istio.io/status"] = nil
        #expect(JSONValue.object(actualAnnotations) == JSONValue.object(expectedAnnotations))

        // The app containers are untouched.
        let expectedApps = (expectedPod[path: "spec.containers"]?.arrayValue ?? []).map(InjectGoldens.withoutEmptyResources)
        #expect(actualPod[path: "spec.containers"]?.arrayValue ?? [] == expectedApps)

        // istio-init and istio-proxy, field by field (a mismatch names the field).
        let expectedInits = try #require(expectedPod[path: "spec.initContainers"]?.arrayValue)
        let actualInits = try #require(actualPod[path: "spec.initContainers"]?.arrayValue)
        #expect(actualInits.map { $0["name"] } == expectedInits.map { $0["name"] })
        for (actual, expected) in zip(actualInits, expectedInits) {
            var expected = try #require(expected.objectValue)
            expected["volumeMounts"] = nil
            let actual = try #require(actual.objectValue)
            #expect(actual.keys.sorted() == expected.keys.sorted(), "\(expected["name"]!) fields")
            for key in expected.keys {
                #expect(actual[key] == expected[key], "\(expected["name"]!.stringValue!).\(key)")
            }
        }
        #expect(actualPod[path: "spec.volumes"] == nil)
    }

    @Test(arguments: ["hello-host-network", "hello-ignore"])
    func leftAlone(_ name: String) throws {
        let (input, expected) = try InjectGoldens.pair(name)
        #expect(try ManifestInjection.inject(input, settings: settings) == input)
        // And Istio's expected output is the input as Go prints it.
        let expectedPod = try #require(expected[path: "spec.template"])
        #expect(expectedPod[path: "metadata"] == input[path: "spec.template.metadata"])
        #expect(expectedPod[path: "spec.initContainers"] == nil)
    }

    @Test func badIncludeIPRangesIsRejected() throws {
        let input = try InjectGoldens.load("traffic-annotations-bad-includeipranges.yaml")
        #expect(throws: InjectionRejection(
            "invalid value 'bad' for annotation 'traffic.sidecar.istio.io/includeOutboundIPRanges': includeIPRanges invalid: failed parsing cidr 'bad': netip.ParsePrefix(\"bad\"): no '/'"
        )) {
            try ManifestInjection.inject(input, settings: settings)
        }
    }
}

enum InjectGoldens {
    static let directory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/istio/pkg/kube/inject/testdata/inject").path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: directory + "/hello.yaml.injected") }

    static func load(_ file: String) throws -> JSONValue {
        let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
        return try #require(try YAML.loadAll(text, file: file).first?.value)
    }

    static func pair(_ name: String) throws -> (input: JSONValue, expected: JSONValue) {
        (try load(name + ".yaml"), try load(name + ".yaml.injected"))
    }

    /// A container without the `resources: {}` Go prints for an empty struct.
    static func withoutEmptyResources(_ container: JSONValue) -> JSONValue {
        var container = container
        if container["resources"] == .object([:]) { container["resources"] = nil }
        return container
    }
}
