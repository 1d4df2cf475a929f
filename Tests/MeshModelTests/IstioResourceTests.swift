import MeshModel
import Testing

/// The Istio kinds as the rest of meshlab uses them: registry entries,
/// typed access, round trips, and how findings are reported.
@Suite struct IstioResourceTests {
    @Test(arguments: [
        ("vs", "VirtualService", "networking.istio.io"), ("dr", "DestinationRule", "networking.istio.io"),
        ("gw", "Gateway", "networking.istio.io"), ("se", "ServiceEntry", "networking.istio.io"),
        ("sidecars", "Sidecar", "networking.istio.io"), ("pa", "PeerAuthentication", "security.istio.io"),
        ("ap", "AuthorizationPolicy", "security.istio.io"), ("ra", "RequestAuthentication", "security.istio.io"),
    ])
    func kindsAreRegistered(name: String, kind: String, group: String) throws {
        let entry = try #require(ResourceRegistry.resource(named: name))
        #expect(entry.descriptor.kind == kind)
        #expect(entry.descriptor.group == group)
        let versions = group == "security.istio.io" ? ["v1", "v1beta1"] : ["v1", "v1beta1", "v1alpha3"]
        #expect(entry.descriptor.versions == versions)
        for version in versions {
            #expect(ResourceRegistry.resource(apiVersion: "\(group)/\(version)", kind: kind)?.descriptor.kind == kind)
        }
    }

    static let reviews: JSONValue = [
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
        "metadata": ["name": "reviews", "namespace": "shop"],
        "spec": [
            "hosts": ["reviews"],
            "http": [[
                "match": [["uri": ["prefix": "/api"], "headers": ["end-user": ["exact": "jason"], "x-any": [:]]]],
                "route": [
                    ["destination": ["host": "reviews", "subset": "v2"], "weight": 80],
                    ["destination": ["host": "reviews", "subset": "v3"], "weight": 20],
                ],
                "timeout": "1.5s",
                "retries": ["attempts": 2, "retryOn": "5xx"],
            ]],
        ],
        "status": ["anything": ["istio": "writes"]],
    ]

    @Test func decodesToTypedFields() throws {
        let vs = try ResourceCodec.decode(VirtualService.self, from: Self.reviews)
        let route = try #require(vs.spec.http?.first)
        let match = try #require(route.match?.first)
        #expect(match.uri?.kind == .prefix("/api"))
        #expect(match.headers?["end-user"]?.kind == .exact("jason"))
        #expect(match.headers?["x-any"]?.kind == .present)
        #expect(route.route?.map(\.weight) == [80, 20])
        #expect(route.route?.first?.destination == Istio.Destination(host: "reviews", subset: "v2"))
        #expect(route.timeout?.nanoseconds == 1_500_000_000)
        #expect(route.retries?.attempts == 2)
        #expect(vs.spec.appliesToMesh)
    }

    @Test func roundTripsKeepingVersionAndStatus() {
        let result = ResourceCodec.check(VirtualService.self, Self.reviews, options: CheckOptions())
        #expect(result.diagnostics.isEmpty)
        #expect(result.object == Self.reviews)
    }

    @Test func unknownFieldsAreWarningsWithTheirFullPath() throws {
        var object = Self.reviews
        var spec = try #require(object["spec"])
        var http = try #require(spec["http"]?.arrayValue)
        var route = try #require(http[0]["route"]?.arrayValue)
        route[0]["wieght"] = 5
        http[0]["route"] = .array(route)
        spec["http"] = .array(http)
        object["spec"] = spec
        let lenient = ResourceCodec.check(VirtualService.self, object, options: CheckOptions())
        #expect(lenient.isValid)
        #expect(lenient.warnings.map(\.description) == [#"unknown field "spec.http[0].route[0].wieght""#])
        let strict = ResourceCodec.check(VirtualService.self, object, options: CheckOptions(strict: true))
        #expect(!strict.isValid)
    }

    @Test func schemaErrorsHideTheWebhooksAsInACluster() {
        // A CEL rule (selector + targetRef) and a webhook rule (DENY without rules) both fail:
        // the apiserver rejects it before istiod's webhook is asked.
        let object: JSONValue = [
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": ["name": "x"],
            "spec": ["action": "DENY", "selector": ["matchLabels": ["app": "a"]], "targetRef": ["kind": "Service", "name": "a"]],
        ]
        let result = ResourceCodec.check(AuthorizationPolicy.self, object, options: CheckOptions())
        #expect(result.errors.map(\.description) == [#"spec: Invalid value: "object": only one of targetRefs or selector can be set"#])
    }

    @Test func webhookErrorsAreAllReported() {
        let object: JSONValue = [
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": ["name": "x"],
            "spec": ["hosts": ["reviews"], "http": [[
                "route": [["destination": ["host": "reviews"], "weight": -1], ["destination": ["host": "ratings"], "weight": 1]],
                "redirect": ["uri": "/x"],
            ]]],
        ]
        let result = ResourceCodec.check(VirtualService.self, object, options: CheckOptions())
        #expect(result.errors.map(\.description) == [
            "spec.http[0]: HTTP route cannot contain both route and redirect",
            "spec.http[0].route[0].weight: weight -1 < 0",
            // -1 + 1: Istio sums the weights as given.
            "spec.http[0].route: total destination weight = 0",
        ])
    }

    @Test func peerAuthenticationPortsReadAsNumbers() throws {
        let object: JSONValue = [
            "metadata": ["name": "p"],
            "spec": ["selector": ["matchLabels": ["app": "a"]], "portLevelMtls": ["8080": ["mode": "DISABLE"], "9090": [:]]],
        ]
        let policy = try ResourceCodec.decode(PeerAuthentication.self, from: object)
        #expect(policy.spec.portModes == [8080: .disable, 9090: .unset])
    }

    @Test func destinationRuleFindsSubsets() throws {
        let rule = DestinationRule(
            metadata: ObjectMeta(name: "reviews"),
            spec: DestinationRule.Spec(host: "reviews", subsets: [DestinationRule.Subset(name: "v1", labels: ["version": "v1"])]))
        #expect(rule.spec.subset(named: "v1")?.labels == ["version": "v1"])
        #expect(rule.spec.subset(named: "v2") == nil)
        var validation = Validation(namespace: "shop")
        rule.validate(at: .root, &validation)
        #expect(validation.diagnostics.isEmpty)
    }

    @Test func encodingPutsApiVersionAndKindFirst() {
        let gateway = Gateway(metadata: ObjectMeta(name: "edge"), spec: Gateway.Spec(
            selector: ["istio": "ingressgateway"],
            servers: [Gateway.Server(port: Gateway.Port(number: 80, protocol: "HTTP", name: "http"), hosts: ["*"])]))
        let object = ResourceCodec.encode(gateway)
        #expect(object.objectValue?.keys.prefix(2) == ["apiVersion", "kind"])
        #expect(object["apiVersion"] == "networking.istio.io/v1")
        #expect(object[path: "spec.servers[0].port.number"] == 80)
    }
}
