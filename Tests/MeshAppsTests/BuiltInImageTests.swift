import MeshModel
import Testing

@Suite struct BuiltInImageTests {
    @Test(arguments: [
        ("registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3", "reviews", ["--version", "v2"]),
        ("docker.io/istio/examples-bookinfo-productpage-v1:1.18.0", "productpage", []),
        ("docker.io/mccutchen/go-httpbin:v2.15.0", "httpbin", ["--port", "8080"]),
        ("fortio/fortio@sha256:abc", "fortio", []),
        ("docker.io/curlimages/curl:8.16.0", "sleep", []),
    ])
    func resolvesIstioSampleImages(image: String, app: String, arguments: [String]) {
        #expect(BuiltInImage.resolve(image: image) == BuiltInImage(app: app, arguments: arguments))
    }

    @Test func unknownImagesDoNotResolve() {
        #expect(BuiltInImage.resolve(image: "nginx:1.27") == nil)
        #expect(BuiltInImage.knownImages.contains("examples-helloworld-v1"))
    }
}
