import MeshHTTP

/// The headers bookinfo's services copy from the request they serve onto the
/// requests they make, so that the sidecars can join the spans of one trace and
/// route by user (`end-user`). The lists follow productpage.py and reviews'
/// LibertyRestEndpoint.java; `b3` (Zipkin's single header) is added to both, and the
/// x-b3-* headers, which productpage's tracer injects, are copied as received.
enum TraceHeaders {
    static let propagated: [String] = [
        "x-request-id",
        "x-ot-span-context",
        "x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority",
        "traceparent", "tracestate",
        "x-cloud-trace-context",
        "grpc-trace-bin",
        "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3",
        "sw8",
        "user-agent",
        "cookie", "authorization", "jwt",
    ]

    /// What productpage sends on: the list above (`end-user` comes from its login cookie).
    static let productpage = propagated
    /// What reviews sends on to ratings: the list above and `end-user`.
    static let reviews = propagated + ["end-user"]

    /// The fields of `incoming` named in `names`, in the list's order, each value as received.
    static func forward(_ names: [String], from incoming: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for name in names {
            for value in incoming.values(for: name) { headers.add(name: name, value: value) }
        }
        return headers
    }
}
