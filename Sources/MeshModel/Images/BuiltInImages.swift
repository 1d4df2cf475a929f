/// The container images meshlab runs without a container runtime: each maps
/// to a built-in app (`meshlab app NAME ...`), so that Istio's samples apply
/// unchanged. Matching looks at the image's last path component without its
/// tag or digest (`registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3`
/// → `examples-bookinfo-reviews-v2`), so any registry or tag works.
public struct BuiltInImage: Sendable, Hashable {
    /// The app, as `meshlab app NAME` runs it (for Istio's proxy image: `pilot-agent`).
    public var app: String
    /// Arguments the image itself implies (its version), before the container's `args`.
    public var arguments: [String]
    /// Istio's proxyv2 image (any registry or tag): its entry point, pilot-agent,
    /// runs the subcommand its `args` name, and so does meshlab.
    public var isIstioProxy: Bool

    public init(app: String, arguments: [String] = [], isIstioProxy: Bool = false) {
        self.app = app
        self.arguments = arguments
        self.isIstioProxy = isIstioProxy
    }

    /// Istio's proxy image, as the injector puts it in `istio-init` and `istio-proxy`.
    public static let istioProxy = BuiltInImage(app: "pilot-agent", isIstioProxy: true)

    /// pilot-agent's subcommands that meshlab has, and the meshlab command for each.
    public static let pilotAgentCommands = ["istio-iptables": "pod-init", "proxy": "proxy"]

    /// The arguments after `meshlab` for a container of this image with `args`:
    /// `app NAME <image arguments> <args>`; for Istio's proxy image,
    /// `istio-iptables ARGS` → `pod-init ARGS` (the istio-init role) and
    /// `proxy ARGS` → `proxy ARGS` (the sidecar, as `pilot-agent proxy sidecar ...`).
    /// Nil when meshlab has no such command (another pilot-agent subcommand).
    public func meshlabArguments(containerArguments args: [String]) -> [String]? {
        guard isIstioProxy else { return ["app", app] + arguments + args }
        guard let first = args.first, let command = Self.pilotAgentCommands[first] else { return nil }
        return [command] + args.dropFirst()
    }

    /// What the Pulled event names: `app reviews`, or `pilot-agent`.
    public var summary: String { isIstioProxy ? app : "app \(app)" }

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
        // The injector's istio-init and istio-proxy containers (docker.io/istio/proxyv2:1.x, registry.istio.io/.../proxyv2).
        "proxyv2": .istioProxy,
    ]
}
