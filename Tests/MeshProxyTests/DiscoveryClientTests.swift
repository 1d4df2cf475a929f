import MeshModel
@testable import MeshProxy
import Testing

/// Where the sidecar looks for meshd, and how it backs off while meshd is away.
@Suite struct DiscoveryClientTests {
    @Test(arguments: [
        ("istiod.istio-system.svc:15012", "istiod.istio-system.svc", 15010),
        ("istiod.istio-system.svc:15010", "istiod.istio-system.svc", 15010),
        ("10.44.0.1:16010", "10.44.0.1", 16010),
        ("[::1]:15012", "::1", 15010),
    ])
    func addressesParse(text: String, host: String, port: Int) throws {
        #expect(try DiscoveryAddress(parsing: text) == DiscoveryAddress(host: host, port: port))
    }

    @Test(arguments: ["", "istiod", "istiod:", ":15010", "istiod:0", "istiod:99999", "istiod:abc"])
    func badAddressesAreRefused(text: String) {
        #expect(throws: DiscoveryAddressError.self) { try DiscoveryAddress(parsing: text) }
    }

    @Test func theEnvironmentOverridesProxyConfig() throws {
        let address = try DiscoveryAddress.resolve(proxyConfigAddress: "istiod.istio-system.svc:15012",
                                                   environment: ["MESHLAB_DISCOVERY_ADDRESS": "127.0.0.1:4000"])
        #expect(address == DiscoveryAddress(host: "127.0.0.1", port: 4000))
        #expect(try DiscoveryAddress.resolve(proxyConfigAddress: nil, environment: [:]).port == 15010)
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        let node = ProxyNode(podName: "web-1", namespace: "default", podIP: "10.44.0.9", serviceAccount: "default")
        let client = DiscoveryClient(options: DiscoveryClientOptions(
            address: DiscoveryAddress(host: "127.0.0.1", port: 1), node: node, initialBackoff: .milliseconds(100),
            maxBackoff: .seconds(2), seed: 1), sink: NoSink())
        for failures in 1...10 {
            let step = min(2000, 100 << (failures - 1))
            let delay = client.backoff(failures: failures)
            #expect(delay >= .milliseconds(step / 2) && delay <= .milliseconds(step), "failure \(failures): \(delay)")
        }
    }

    @Test func aNameWithoutAResolverIsAClearError() async {
        await #expect(throws: DiscoveryError.self) { try await DiscoveryClientOptions.literalOnly("istiod.istio-system.svc") }
    }
}

private struct NoSink: ProxyConfigSink {
    func apply(_ type: ProxyResourceType, resources: [JSONValue], version: String) async throws {}
}
