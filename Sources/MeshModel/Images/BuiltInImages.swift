/// The container images meshlab runs without a container runtime: each maps
/// to a built-in app (`meshlab app NAME ...`), so that Istio's samples apply
/// unchanged. Matching looks at the image's last path component without its
/// tag or digest (`registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3`
/// → `examples-bookinfo-reviews-v2`), so any registry or tag works.
public struct BuiltInImage: Sendable, Hashable {
    /// The app, as `meshlab app NAME` runs it.
    public var app: String
    /// Arguments the image itself implies (its version), before the container's `args`.
    public var arguments: [String]

    public init(app: String, arguments: [String] = []) {
        self.app = app
        self.arguments = arguments
    }

    /// The image's name without registry, path, tag or digest.
    public static func repositoryName(of image: String) -> String {
        var name = Substring(image)
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        return String(name)
    }

    /// The built-in app an image runs, or nil when meshlab cannot run it.
    public static func resolve(image: String) -> BuiltInImage? {
        let name = repositoryName(of: image)
        if let app = catalog[name] { return app }
        return nil
    }

    /// The names people can use, for the "cannot run" event.
    public static var knownImages: [String] { catalog.keys.sorted() }

    static let catalog: [String: BuiltInImage] = [
        "examples-bookinfo-productpage-v1": BuiltInImage(app: "productpage"),
        "examples-bookinfo-details-v1": BuiltInImage(app: "details", arguments: ["--version", "v1"]),
        "examples-bookinfo-details-v2": BuiltInImage(app: "details", arguments: ["--version", "v2"]),
        "examples-bookinfo-ratings-v1": BuiltInImage(app: "ratings", arguments: ["--version", "v1"]),
        "examples-bookinfo-ratings-v2": BuiltInImage(app: "ratings", arguments: ["--version", "v2"]),
        "examples-bookinfo-reviews-v1": BuiltInImage(app: "reviews", arguments: ["--version", "v1"]),
        "examples-bookinfo-reviews-v2": BuiltInImage(app: "reviews", arguments: ["--version", "v2"]),
        "examples-bookinfo-reviews-v3": BuiltInImage(app: "reviews", arguments: ["--version", "v3"]),
        "examples-helloworld-v1": BuiltInImage(app: "helloworld", arguments: ["--version", "v1"]),
        "examples-helloworld-v2": BuiltInImage(app: "helloworld", arguments: ["--version", "v2"]),
        // go-httpbin listens on 8080, kennethreitz's httpbin on 80: their samples say so.
        "go-httpbin": BuiltInImage(app: "httpbin", arguments: ["--port", "8080"]),
        "httpbin": BuiltInImage(app: "httpbin", arguments: ["--port", "80"]),
        "fortio": BuiltInImage(app: "fortio"),
        // An idle client: the samples run `sleep infinity` in it through `command`.
        "curl": BuiltInImage(app: "sleep"),
        "sleep": BuiltInImage(app: "sleep"),
    ]
}
