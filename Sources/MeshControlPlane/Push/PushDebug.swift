import MeshHTTP
import MeshModel

/// meshd's debug views of the push server, in istiod's shapes
/// (pilot/pkg/xds/debug.go), on :15014 and through the API:
///
/// - `GET /debug/syncz`: one object per proxy with Istio's `proxy`,
///   `cluster_sent`/`cluster_acked` (nonces) ... fields, plus `meshlab`: per type
///   (CDS, EDS, LDS, RDS) status, versions, nonces, last error and times.
/// - `GET /debug/config_dump?proxyID=POD.NAMESPACE`: the config the proxy runs
///   by meshd's records (the resources of its last ACK per type), as a
///   `ProxyConfig`; 404 when meshd knows no such proxy.
public struct PushDebugHandler: HTTPHandler {
    let server: PushServer

    public init(server: PushServer) { self.server = server }

    nonisolated(nonsending) public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        try await response.send(respond(to: request.head))
    }

    /// Answers one request; nil for a path it does not serve.
    public func respond(to head: HTTPRequestHead) -> HTTPResponse {
        switch head.path {
        case "/debug/syncz":
            return Self.json(server.syncz())
        case "/debug/config_dump":
            guard let id = head.queryValue("proxyID"), !id.isEmpty else {
                return HTTPResponse(status: .badRequest, text: "config_dump needs ?proxyID=POD.NAMESPACE\n")
            }
            guard let dump = server.configDump(proxyID: id) else {
                return HTTPResponse(status: .notFound, text: "meshd knows no proxy \(id)\n")
            }
            return Self.json(dump)
        default:
            return HTTPResponse(status: .notFound, text: "meshd serves /debug/syncz and /debug/config_dump?proxyID=\n")
        }
    }

    static func json(_ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: value.serializedBytes(.kubectl))
    }
}

/// The API's handler with meshd's `/debug/` paths beside it, so the CLI reads
/// sync status over the API socket it already uses (istioctl reaches istiod's
/// 15014 through the Kubernetes API in the same way).
public struct APIWithPushDebug: HTTPHandler {
    let api: any HTTPHandler
    let debug: PushDebugHandler

    public init(api: any HTTPHandler, push: PushServer) {
        self.api = api
        self.debug = PushDebugHandler(server: push)
    }

    nonisolated(nonsending) public func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        if request.path.hasPrefix("/debug/") { return try await debug.handle(request, response) }
        try await api.handle(request, response)
    }
}

extension PushServer {
    /// istiod's `/debug/syncz`, sorted by proxy.
    public func syncz() -> JSONValue {
        .array(proxyStates().map { Self.syncStatus($0.state, connected: $0.connected) })
    }

    static func syncStatus(_ state: ProxyStream, connected: Bool) -> JSONValue {
        var object: JSONObject = [
            "cluster_id": "Kubernetes",
            "proxy": .string(state.node.proxyName),
            "proxy_type": "sidecar",
            "istio_version": .string(MeshlabVersion.version),
        ]
        let istioNames: [ProxyResourceType: String] = [.cluster: "cluster", .listener: "listener", .route: "route",
                                                       .endpoint: "endpoint"]
        var types = JSONObject()
        for type in ProxyResourceType.pushOrder {
            let record = state.records[type] ?? TypeSyncRecord()
            if let name = istioNames[type] {
                if let sent = record.sentNonce { object[name + "_sent"] = .string(sent) }
                if let acked = record.ackedNonce { object[name + "_acked"] = .string(acked) }
            }
            var detail: JSONObject = ["status": .string(record.status.rawValue)]
            func put(_ key: String, _ value: String?) { if let value { detail[key] = .string(value) } }
            func put(_ key: String, time: Int?) { if let time { detail[key] = .string(Timestamp.format(epochSeconds: time)) } }
            put("sentVersion", record.sentVersion)
            put("sentNonce", record.sentNonce)
            put("sentAt", time: record.sentAt)
            if record.sentNonce != nil { detail["resources"] = .int(record.resourceCount) }
            put("ackedVersion", record.ackedVersion)
            put("ackedNonce", record.ackedNonce)
            put("ackedAt", time: record.ackedAt)
            put("error", record.lastError)
            put("errorNonce", record.errorNonce)
            put("errorAt", time: record.errorAt)
            types[type.shortName] = .object(detail)
        }
        object["meshlab"] = [
            "node": .string(state.node.id), "connected": .bool(connected), "types": .object(types),
        ]
        return .object(object)
    }

    /// What `proxyID` (`pod.namespace` or the full node id) runs by its last ACKs.
    public func configDump(proxyID: String) -> JSONValue? {
        guard let state = proxyStates().first(where: { $0.state.node.proxyName == proxyID || $0.state.node.id == proxyID })?.state
        else { return nil }
        let acked = state.ackedResources
        return [
            "listeners": .array(acked[.listener] ?? []), "routes": .array(acked[.route] ?? []),
            "clusters": .array(acked[.cluster] ?? []), "endpoints": .array(acked[.endpoint] ?? []),
        ]
    }
}

extension ProxyNode {
    /// istioctl's proxy name: `pod.namespace`.
    public var proxyName: String { "\(podName).\(namespace)" }
}
