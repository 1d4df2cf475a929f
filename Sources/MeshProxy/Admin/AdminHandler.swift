import MeshHTTP
import MeshModel

/// Envoy's admin endpoints on 15000, readiness on 15021 and metrics on 15090.
struct AdminHandler: HTTPHandler {
    enum Role: Sendable {
        /// /config_dump, /clusters, /stats, /logging, /ready, /stats/prometheus.
        case admin
        /// /healthz/ready only.
        case health
        /// /stats/prometheus only.
        case prometheus
    }

    let sidecar: SidecarProxy
    let role: Role

    nonisolated(nonsending) func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        try await response.send(answer(request.head))
    }

    func answer(_ head: HTTPRequestHead) -> HTTPResponse {
        let path = String(head.path)
        switch (role, path) {
        case (.health, "/healthz/ready"), (.admin, "/ready"):
            return sidecar.store.isReady
                ? HTTPResponse(status: .ok, text: "LIVE\n")
                : HTTPResponse(status: HTTPStatus(code: 503), text: "PRE_INITIALIZING\n")
        case (.prometheus, "/stats/prometheus"), (.admin, "/stats/prometheus"):
            return HTTPResponse(status: .ok, text: sidecar.stats.renderPrometheus(), contentType: "text/plain; version=0.0.4")
        case (.admin, "/config_dump"):
            return HTTPResponse(status: .ok, text: AdminPages.configDump(sidecar.store) + "\n", contentType: "application/json")
        case (.admin, "/clusters"):
            return HTTPResponse(status: .ok, text: AdminPages.clusters(sidecar))
        case (.admin, "/stats"):
            return HTTPResponse(status: .ok, text: sidecar.stats.renderText())
        case (.admin, "/logging"):
            if head.method == .post, let level = head.queryValue("level") {
                let known = ["trace", "debug", "info", "warning", "error", "critical", "off"]
                guard known.contains(level) else {
                    return HTTPResponse(status: .badRequest, text: "unknown level \(level): one of \(known.joined(separator: ", "))\n")
                }
                sidecar.logLevel.withLock { $0 = level }
            }
            return HTTPResponse(status: .ok, text: "active loggers:\n  proxy: \(sidecar.logLevel.withLock { $0 })\n")
        case (.admin, "/"), (.admin, "/help"):
            return HTTPResponse(status: .ok, text: "admin commands are:\n  /clusters\n  /config_dump\n  /logging\n  /ready\n  /stats\n  /stats/prometheus\n")
        default:
            return HTTPResponse(status: .notFound, text: "invalid path. admin commands are listed at /help\n")
        }
    }
}

/// The admin pages' bodies, rendered deterministically.
enum AdminPages {
    /// The configuration in force as JSON, with the version applied per type.
    static func configDump(_ store: ProxyConfigStore) -> String {
        var object = JSONObject()
        var versions = JSONObject()
        for (type, version) in store.versions.sorted(by: { $0.key.shortName < $1.key.shortName }) {
            versions[type.shortName] = .string(version)
        }
        object["versions"] = .object(versions)
        object["config"] = ValueCodec.encode(store.snapshot.config)
        return JSONValue.object(object).serialized(.kubectl)
    }

    /// Envoy's `/clusters` text: `cluster::ip:port::stat::value` per endpoint.
    static func clusters(_ sidecar: SidecarProxy) -> String {
        let snapshot = sidecar.store.snapshot
        let upstreams = sidecar.clusters.all
        var out = ""
        for cluster in snapshot.config.clusters.sorted(by: { $0.name < $1.name }) {
            let upstream = upstreams[cluster.name]
            out += "\(cluster.name)::observability_name::\(cluster.name)\n"
            if let breakers = cluster.circuitBreakers {
                out += "\(cluster.name)::default_priority::max_connections::\(breakers.maxConnections ?? 4_294_967_295)\n"
                out += "\(cluster.name)::default_priority::max_requests::\(breakers.maxRequests ?? 4_294_967_295)\n"
            }
            for endpoint in snapshot.endpoints(of: cluster.name) {
                let prefix = "\(cluster.name)::\(endpoint.key)::"
                let stats = upstream?.stats(of: endpoint.key) ?? UpstreamCluster.EndpointStats()
                out += prefix + "cx_connect_fail::\(stats.connectFailures)\n"
                out += prefix + "rq_active::\(stats.requestsActive)\n"
                out += prefix + "rq_error::\(stats.requestsError)\n"
                out += prefix + "rq_success::\(stats.requestsSuccess)\n"
                out += prefix + "rq_timeout::\(stats.requestsTimeout)\n"
                out += prefix + "rq_total::\(stats.requestsTotal)\n"
                out += prefix + "health_flags::\(endpoint.healthy ? "healthy" : "/failed_eds_health")\n"
                out += prefix + "weight::1\n"
            }
        }
        return out
    }
}
