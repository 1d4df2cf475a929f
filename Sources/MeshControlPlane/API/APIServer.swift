import MeshHTTP
import MeshModel
import Synchronization

/// Settings of the API server.
public struct APIServerOptions: Sendable {
    /// What discovery tells clients the server is at (`127.0.0.1:15080`).
    public var serverAddress: String
    /// Largest request body accepted (the apiserver's limit is 3 MiB).
    public var maxBodyBytes: Int
    /// The kinds served.
    public var resources: [RegisteredResource]
    /// Seconds since the epoch, for the AGE column of Table responses.
    public var now: @Sendable () -> Int
    /// Where Service ClusterIPs come from (the apiserver's `--service-cluster-ip-range`).
    public var serviceCIDR: IPv4CIDR
    /// The node every pod is bound to: the lab has one, and no scheduler.
    public var nodeName: String

    public static let defaultServiceCIDR = IPv4CIDR("10.96.0.0/16")!
    public static let defaultNodeName = "meshlab"

    public init(serverAddress: String = "127.0.0.1:15080", maxBodyBytes: Int = 3 << 20,
                resources: [RegisteredResource] = ResourceRegistry.all,
                now: @escaping @Sendable () -> Int = { Int(Timestamp.now()) },
                serviceCIDR: IPv4CIDR = APIServerOptions.defaultServiceCIDR,
                nodeName: String = APIServerOptions.defaultNodeName) {
        self.serverAddress = serverAddress
        self.maxBodyBytes = maxBodyBytes
        self.resources = resources
        self.now = now
        self.serviceCIDR = serviceCIDR
        self.nodeName = nodeName
    }
}

/// The Kubernetes-style REST API over the store: the paths, verbs, status
/// codes and `Status` bodies of the apiserver, so that kubectl-like clients
/// (meshlab's own CLI first) work against it.
///
/// `respond(to:)` answers every request with a whole response and is what
/// tests call; `handle` adds streaming for `?watch=true`.
public final class APIServer: HTTPHandler, Sendable {
    public let store: ResourceStore
    let options: APIServerOptions
    /// Per-kind create, update and delete rules (ClusterIPs, pod binding, immutable fields).
    let strategies: ResourceStrategies
    /// Mutating and validating webhooks, called on create and update.
    public let admissionWebhooks: AdmissionWebhooks
    private let ready = Atomic<Bool>(false)

    /// Namespaces the apiserver refuses to delete.
    static let protectedNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

    /// Builds the server over `store`; the ClusterIP pool is read from the services stored there.
    public init(store: ResourceStore, options: APIServerOptions = APIServerOptions()) {
        self.store = store
        self.options = options
        strategies = ResourceStrategies(store: store, options: options)
        admissionWebhooks = AdmissionWebhooks(store: store)
    }

    /// Whether `/readyz` answers ok: set once the daemon has finished starting.
    public func setReady(_ value: Bool) { ready.store(value, ordering: .releasing) }
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    // MARK: HTTP

    public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        if request.method == .get, let watch = watchRequest(request.head) {
            switch watch {
            case .success(let plan): return try await streamWatch(plan, request: request, response: response)
            case .failure(let status): return try await response.send(Self.reply(status))
            }
        }
        let body: [UInt8]
        do {
            body = try await request.body.collect(upTo: options.maxBodyBytes)
        } catch HTTPError.bodyTooLarge {
            return try await response.send(Self.reply(StatusObject(
                code: 413, reason: .requestEntityTooLarge, message: "the request body is larger than \(options.maxBodyBytes) bytes")))
        }
        try await response.send(await respond(to: HTTPRequest(head: request.head, body: body)))
    }

    /// Answers one whole request.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let path = String(request.head.path)
        switch path {
        case "/healthz", "/livez":
            return HTTPResponse(status: .ok, text: "ok")
        case "/readyz":
            return isReady ? HTTPResponse(status: .ok, text: "ok")
                : HTTPResponse(status: HTTPStatus(code: 500), text: "[-]meshlab-daemon: still starting\nreadyz check failed")
        case "/version":
            return Self.reply(json: [
                "major": .string(MeshlabVersion.kubernetesMajor), "minor": .string(MeshlabVersion.kubernetesMinor),
                "gitVersion": .string(MeshlabVersion.gitVersion), "platform": "linux/amd64",
                "meshlab": .string(MeshlabVersion.version),
            ])
        default:
            break
        }
        guard let apiPath = APIPath(path) else { return Self.reply(.pathNotFound(path)) }
        if case .resource(let resourcePath) = apiPath {
            do {
                return try await ResourceRequest(server: self, path: resourcePath, request: request).respond()
            } catch {
                return Self.reply(error)
            }
        }
        guard request.method == .get else { return Self.reply(.methodNotAllowed(request.method.rawValue)) }
        switch apiPath {
        case .coreVersions:
            return Self.reply(json: Discovery.coreVersions(serverAddress: options.serverAddress))
        case .groups:
            return Self.reply(json: Discovery.groups(options.resources))
        case .groupVersion(let group, let version):
            guard let list = Discovery.resourceList(options.resources, group: group, version: version) else {
                return Self.reply(.pathNotFound(path))
            }
            return Self.reply(json: list)
        case .resource:
            preconditionFailure("handled above")
        }
    }

    /// The registered kind served at a resource path, or a 404 Status.
    func resource(for path: APIPath.ResourcePath) throws(StatusObject) -> RegisteredResource {
        guard let registered = options.resources.first(where: {
            $0.descriptor.group == path.group && $0.descriptor.plural == path.plural
                && $0.descriptor.versions.contains(path.version)
        }) else {
            throw StatusObject.pathNotFound(path.plural)
        }
        if !registered.descriptor.namespaced && path.namespace != nil { throw StatusObject.pathNotFound(path.plural) }
        switch path.subresource {
        case nil: break
        case "status" where registered.descriptor.hasStatus: break
        case "scale" where ScaleSubresource.serves(registered.descriptor): break
        case let sub?: throw StatusObject.pathNotFound(sub)
        }
        return registered
    }

    // MARK: Replies

    static func reply(json: JSONValue, status: HTTPStatus = .ok, warnings: [String] = []) -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        for warning in warnings { headers.add(name: "Warning", value: warningHeader(warning)) }
        return HTTPResponse(status: status, headers: headers, body: json.serializedBytes())
    }

    static func reply(_ status: StatusObject) -> HTTPResponse {
        reply(json: status.json, status: HTTPStatus(code: status.code))
    }

    /// RFC 7234 warn-code 299 with the text quoted, as the apiserver sends warnings.
    static func warningHeader(_ text: String) -> String {
        var quoted = ""
        JSONValue.writeQuoted(text, to: &quoted)
        return "299 - \(quoted)"
    }
}
