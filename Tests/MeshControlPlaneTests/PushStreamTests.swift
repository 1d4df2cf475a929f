@testable import MeshControlPlane
import MeshModel
import Testing

/// The xDS state-of-the-world rules of one stream, without sockets.
@Suite struct PushStreamTests {
    let node = ProxyNode(podName: "web-1", namespace: "default", podIP: "10.44.0.9", serviceAccount: "default")

    func resources(clusters: [String] = ["a"], routes: [String] = ["80"]) -> ProxyResources {
        ProxyResources(ProxyConfig(
            routes: routes.map { RouteConfiguration(name: $0, virtualHosts: []) },
            clusters: clusters.map { Cluster(name: $0, direction: .outbound, discovery: .eds) }))
    }

    func subscribed() -> (ProxyStream, [DiscoveryResponse]) {
        var stream = ProxyStream(node: node, current: resources(), noncePrefix: "t", controlPlane: "meshd/test")
        var sent: [DiscoveryResponse] = []
        for type in ProxyResourceType.pushOrder {
            sent += stream.receive(DiscoveryRequest(node: node, type: type), now: 1)
        }
        return (stream, sent)
    }

    @Test func firstRequestsAreAnsweredInOrderWithDistinctNonces() {
        let (stream, sent) = subscribed()
        #expect(sent.map(\.typeURL) == ProxyResourceType.pushOrder.map(\.rawValue))
        #expect(Set(sent.map(\.nonce)).count == 4)
        #expect(sent[0].resources.count == 1)
        #expect(ProxyResourceType.pushOrder.allSatisfy { stream.records[$0]?.status == .stale })
    }

    @Test func ackMakesSyncedAndStaleNonceIsIgnored() {
        var (stream, sent) = subscribed()
        let cds = sent[0]
        #expect(stream.receive(DiscoveryRequest(versionInfo: cds.versionInfo, type: .cluster, responseNonce: cds.nonce), now: 2).isEmpty)
        #expect(stream.records[.cluster]?.status == .synced)
        #expect(stream.records[.cluster]?.ackedVersion == cds.versionInfo)
        #expect(stream.ackedResources[.cluster] == cds.resources)

        // A newer push supersedes; a late answer to the old nonce changes nothing.
        let next = stream.update(to: resources(clusters: ["a", "b"]), now: 3)
        #expect(next.map(\.typeURL) == [ProxyResourceType.cluster.rawValue])
        _ = stream.receive(DiscoveryRequest(versionInfo: "x", type: .cluster, responseNonce: cds.nonce), now: 4)
        #expect(stream.records[.cluster]?.status == .stale)
        #expect(stream.records[.cluster]?.ackedVersion == cds.versionInfo)
    }

    @Test func nackIsRecordedNotResentAndHealedByTheNextChange() {
        var (stream, sent) = subscribed()
        let rds = sent[3]
        let nack = DiscoveryRequest(versionInfo: "", type: .route, responseNonce: rds.nonce,
                                    errorDetail: ErrorDetail(message: "route 80: unknown cluster"))
        #expect(stream.receive(nack, now: 2).isEmpty)
        #expect(stream.records[.route]?.status == .error)
        #expect(stream.records[.route]?.lastError == "route 80: unknown cluster")
        #expect(stream.ackedResources[.route] == nil)
        // Same config again: nothing is resent (no NACK loop).
        #expect(stream.update(to: resources(), now: 3).isEmpty)
        // Changed routes: pushed, then ACKed: synced again.
        let fix = stream.update(to: resources(routes: ["80", "9080"]), now: 4)
        #expect(fix.map(\.typeURL) == [ProxyResourceType.route.rawValue])
        #expect(stream.records[.route]?.status == .stale)
        _ = stream.receive(DiscoveryRequest(versionInfo: fix[0].versionInfo, type: .route, responseNonce: fix[0].nonce), now: 5)
        #expect(stream.records[.route]?.status == .synced)
    }

    @Test func onlySubscribedChangedTypesArePushedInPushOrder() {
        var stream = ProxyStream(node: node, current: resources(), noncePrefix: "t", controlPlane: "meshd/test")
        _ = stream.receive(DiscoveryRequest(node: node, type: .route), now: 1)
        _ = stream.receive(DiscoveryRequest(type: .cluster), now: 1)
        let pushed = stream.update(to: resources(clusters: ["z"], routes: ["81"]), now: 2)
        #expect(pushed.map(\.typeURL) == [ProxyResourceType.cluster.rawValue, ProxyResourceType.route.rawValue])
        #expect(stream.records[.listener] == nil)
    }

    @Test(arguments: [
        (nil, nil, nil, ProxySyncStatus.notSent),
        ("n1", "n1", nil, .synced),
        ("n2", "n1", nil, .stale),
        ("n2", nil, nil, .stale),
        ("n2", "n1", "n2", .error),
        ("n3", "n1", "n2", .stale),
        ("n3", "n3", "n2", .synced),
    ] as [(String?, String?, String?, ProxySyncStatus)])
    func statusFollowsIstiosRules(sent: String?, acked: String?, refused: String?, expected: ProxySyncStatus) {
        var record = TypeSyncRecord()
        record.sentNonce = sent
        record.ackedNonce = acked
        record.errorNonce = refused
        #expect(record.status == expected)
    }

    @Test func versionsAreContentHashes() {
        #expect(resources()[.cluster].version == resources()[.cluster].version)
        #expect(resources()[.cluster].version != resources(clusters: ["b"])[.cluster].version)
        #expect(resources()[.cluster].version.count == 16)
    }
}
