import MeshModel
import Testing

/// Istio's own samples and feature fixtures must apply unchanged: every
/// Istio document in them is valid, with no diagnostics at all except the
/// warnings real Istio also prints for them (listed here, so a new one fails).
@Suite(.enabled(if: IstioTestSupport.hasIstioFiles, "needs ../shared/istio"))
struct IstioSamplesTests {
    /// The warnings istiod's webhook gives these fixtures, by `file: Kind/name`.
    static let expectedWarnings: [String: [String]] = [
        // samples/bookinfo/networking/fault-injection-details-v1.yaml: both rules match everything,
        // so the second can never be reached (istioctl validate prints the same).
        "samples/bookinfo/networking/fault-injection-details-v1.yaml: VirtualService/details": ["spec.http[1]: virtualService rule #1 not used (only the last rule can have no matches)"],
        // tests/testdata/config/destination-rule-all.yaml uses the deprecated top-level field on purpose.
        "tests/testdata/config/destination-rule-all.yaml: DestinationRule/destall": [
            "spec.subsets[1].trafficPolicy.loadBalancer.consistentHash.minimumRingSize: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
        ],
    ]

    static var files: [String] {
        let root = IstioTestSupport.istioDirectory
        return IstioTestSupport.yamlFiles(under: root + "/samples") + IstioTestSupport.yamlFiles(under: root + "/tests/testdata/config")
    }

    @Test func everyIstioDocumentIsAcceptedAsIs() throws {
        var checked = 0
        for file in Self.files {
            for document in try IstioTestSupport.documents(inFile: file) where IstioTestSupport.isIstio(document) {
                let label = "\(file.dropFirst(IstioTestSupport.istioDirectory.count + 1)): \(IstioTestSupport.label(document))"
                let result = try #require(IstioTestSupport.check(document, strict: true), "\(label): kind not served")
                #expect(result.isValid, "\(label): \(result.diagnostics)")
                #expect(result.diagnostics.map(\.description) == Self.expectedWarnings[label, default: []], "\(label)")
                checked += 1
            }
        }
        // Guards against a reader or a filter that silently finds nothing.
        #expect(checked == 54)
    }
}
