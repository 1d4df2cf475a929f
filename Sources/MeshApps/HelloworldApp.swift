import MeshHTTP

/// Istio's helloworld sample (app.py): `GET /hello` says which version and which
/// pod answered, the sample Istio's canary and locality tasks count answers with.
///
/// The version is `SERVICE_VERSION` (the real image's variable; its Dockerfile sets
/// v1 or v2, which meshlab's catalog passes as `--version`), the instance is the pod
/// name. The real handler also burns CPU (a million square roots) for autoscaling
/// demos; this one answers at once.
public struct HelloworldApp: HTTPApp {
    public let version: String
    public let instance: String

    public init(version: String, instance: String) {
        self.version = version
        self.instance = instance
    }

    /// The image's version unless the container sets `SERVICE_VERSION`.
    public init(imageVersion: String, environment: AppEnvironment) {
        self.init(version: environment["SERVICE_VERSION"] ?? imageVersion, instance: environment.podName)
    }

    public var identity: String { "helloworld-\(version)" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let body: String
        switch request.head.path {
        case "/hello": body = "Hello version: \(version), instance: \(instance)\n"
        case "/health": body = "Helloworld is healthy"
        default: return FlaskPages.notFound  // Flask's pages, as the real app's
        }
        guard request.method == .get || request.method == .head else { return FlaskPages.methodNotAllowed }
        return .html(body)
    }
}
