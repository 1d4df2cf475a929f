import FoundationEssentials
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// Serves one captured HTTP/1.1 connection's requests through the route table.
struct ProxyHTTPHandler: HTTPHandler {
    let sidecar: SidecarProxy
    let context: DownstreamContext

    nonisolated(nonsending) func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {
        try await sidecar.forward(request, response, context: context)
    }
}

/// Envoy's answers when the proxy itself responds.
enum LocalReply {
    static let noHealthyUpstream = "no healthy upstream"
    static let connectFailure = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
    static let connectionTermination =
        "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
    static let overflow = "upstream connect error or disconnect/reset before headers. reset reason: overflow"
    static let timeout = "upstream request timeout"
    static let faultAbort = "fault filter abort"
}

/// Headers that belong to one hop and are not forwarded (RFC 9110 §7.6.1).
let hopByHopHeaders = ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer",
                       "content-length"]

/// A timer's verdict, shared between the timer closure and the request task.
final class TimeoutFlag: Sendable {
    let fired = Atomic<Bool>(false)
}

extension SidecarProxy {
    /// One request: route, fault, then forward with retries, or answer locally.
    func forward(_ request: HTTPServerRequest, _ writer: HTTPResponseWriter, context: DownstreamContext) async throws {
        let start = ContinuousClock.now
        var record = RequestRecord()
        record.startEpochMs = AccessLogFormat.nowEpochMs()
        record.reporter = context.reporter
        record.downstreamLocalAddress = "\(context.originalDestination)"
        record.downstreamRemoteAddress = context.remote.map { "\($0)" }
        var exchange = Exchange(writer: writer, record: record, start: start)
        defer { finish(exchange.finished()) }

        var facts = RequestFacts(request.head)
        if facts.headers.first(name: "x-request-id") == nil {
            facts.headers.add(name: "x-request-id", value: UUID().uuidString.lowercased())
        }
        exchange.record.method = facts.method
        exchange.record.path = facts.target
        exchange.record.protocolName = request.head.version == .http1_0 ? "HTTP/1.0" : "HTTP/1.1"
        exchange.record.forwardedFor = facts.headers.first(name: "x-forwarded-for")
        exchange.record.userAgent = facts.headers.first(name: "user-agent")
        exchange.record.requestID = facts.headers.first(name: "x-request-id")
        exchange.record.authority = facts.authority
        stats.count("http.\(context.chain.http?.statPrefix ?? "unknown").downstream_rq_total")

        let snapshot = store.snapshot
        guard let manager = context.chain.http,
              let routeConfig = manager.routeConfig ?? manager.routeConfigName.flatMap({ snapshot.routes[$0] }) else {
            return try await exchange.reply(404, flags: ["NR"], details: "route_not_found")
        }
        let decision = withRandom { Router.route(facts, in: routeConfig, of: snapshot, random: &$0) }
        switch decision {
        case .noRoute:
            try await exchange.reply(404, flags: ["NR"], details: "route_not_found")
        case .direct(let status, let body, let route):
            exchange.record.routeName = route
            try await exchange.reply(status, body: body, details: "direct_response")
        case .redirect(let status, let location, let route):
            exchange.record.routeName = route
            try await exchange.reply(status, details: "direct_response", headers: [("location", location)])
        case .forward(let plan):
            exchange.record.routeName = plan.routeName
            if let fault = plan.route.fault, try await applyFault(fault, &exchange, context: context) { return }
            try await forward(plan, request: request, facts: facts, snapshot: snapshot, context: context, &exchange)
        }
    }

    /// Delays and aborts of Istio's fault injection; true when the request was answered (aborted).
    private func applyFault(_ fault: FaultPolicy, _ exchange: inout Exchange, context: DownstreamContext) async throws -> Bool {
        func happens(_ percent: Double?) -> Bool {
            let percent = percent ?? 100
            return withRandom { Double($0.next() % 1_000_000) / 10_000 } < percent
        }
        if let delay = fault.delayMs, delay > 0, happens(fault.delayPercent) {
            exchange.record.responseFlags.append("DI")
            try await context.eventLoop.sleep(for: .milliseconds(delay))
        }
        if let status = fault.abortStatus, happens(fault.abortPercent) {
            exchange.record.responseFlags.append("FI")
            try await exchange.reply(status, body: LocalReply.faultAbort, details: "fault_filter_abort")
            return true
        }
        return false
    }

    /// Forwards to the plan's cluster with the route's retry policy and timeouts.
    private func forward(_ plan: ForwardPlan, request: HTTPServerRequest, facts: RequestFacts,
                         snapshot: ProxyConfigSnapshot, context: DownstreamContext, _ exchange: inout Exchange) async throws {
        exchange.record.upstreamCluster = plan.cluster
        guard let cluster = snapshot.clusters[plan.cluster] else {
            return try await exchange.reply(503, flags: ["NC"], details: "cluster_not_found")
        }
        exchange.record.destinationService = cluster.serviceName ?? Self.serviceName(fromCluster: cluster.name)
        if cluster.name == Self.blackHole {
            return try await exchange.reply(502, details: "cluster_not_found")
        }
        let endpoints: [Endpoint] = cluster.discovery == .originalDestination
            ? [Endpoint(address: context.destinationIP, port: context.destinationPort)]
            : snapshot.endpoints(of: cluster.name)

        let body: [UInt8]
        do {
            body = try await request.body.collect(upTo: options.maxRequestBodyBytes)
        } catch HTTPError.bodyTooLarge {
            return try await exchange.reply(413, body: "Payload Too Large", details: "request_payload_too_large")
        }
        exchange.record.bytesReceived = body.count

        var head = HTTPRequestHead(method: request.head.method, target: plan.target, version: .http1_1,
                                   headers: facts.headers)
        for name in hopByHopHeaders { head.headers.remove(name: name) }
        head.headers.replaceOrAdd(name: "host", value: plan.authority)
        if !head.headers.contains(name: "x-forwarded-proto") { head.headers.add(name: "x-forwarded-proto", value: "http") }
        Router.apply(plan.requestHeaders, to: &head.headers)

        let upstream = clusters.upstream(for: cluster)
        guard upstream.admitRequest() else {
            stats.count("cluster.\(cluster.name).upstream_rq_pending_overflow")
            return try await exchange.reply(503, body: LocalReply.overflow, flags: ["UO"], details: "overflow",
                                            headers: [("x-envoy-overloaded", "true")])
        }
        defer { upstream.finishRequest() }
        stats.count("cluster.\(cluster.name).upstream_rq_total")

        let action = plan.action
        var retry = RetryState(policy: action.retryPolicy)
        let deadline = RequestDeadline(start: exchange.start, routeTimeout: action.timeoutMs.map { .milliseconds($0) },
                                       perTryTimeout: action.retryPolicy?.perTryTimeoutMs.map { .milliseconds($0) })
        var tried = Set<Int>()
        var retriesHeld = 0
        defer { for _ in 0..<retriesHeld { upstream.finishRetry() } }

        while true {
            let (limit, isRouteTimeout) = deadline.tryBudget(now: .now)
            if let limit, limit <= .zero {
                stats.count("cluster.\(cluster.name).upstream_rq_timeout")
                return try await exchange.reply(504, body: LocalReply.timeout, flags: ["UT"], details: "upstream_response_timeout")
            }
            let picked = withRandom { random in
                upstream.pick(endpoints, excluded: retry.avoidsPreviousHosts ? tried : [], random: &random)
            }
            guard let index = picked else {
                return try await exchange.reply(503, body: LocalReply.noHealthyUpstream, flags: ["UH"],
                                                details: "no_healthy_upstream")
            }
            tried.insert(index)
            let endpoint = endpoints[index]
            exchange.record.upstreamHost = endpoint.key
            exchange.record.destinationWorkload = endpoint.podName.map(Self.workloadName(fromPod:))
            exchange.record.destinationWorkloadNamespace = endpoint.podName.flatMap(Self.namespace(fromPod:))

            let outcome = try await attempt(head: head, body: body, endpoint: endpoint, upstream: upstream, limit: limit,
                                            isRouteTimeout: isRouteTimeout, plan: plan, retry: retry, context: context,
                                            &exchange)
            switch outcome {
            case .delivered:
                return
            case .routeTimeout:
                stats.count("cluster.\(cluster.name).upstream_rq_timeout")
                return try await exchange.reply(504, body: LocalReply.timeout, flags: ["UT"],
                                                details: "upstream_response_timeout")
            case .retry:
                break
            }
            // The outcome was retriable and `attempt` had the retry admitted by the circuit breaker.
            retriesHeld += 1
            let backoff = withRandom { retry.nextBackoff(random: &$0) }
            stats.count("cluster.\(cluster.name).upstream_rq_retry")
            if deadline.isExpired(now: .now, after: backoff), let overall = deadline.overall {
                try await context.eventLoop.sleep(for: max(.zero, overall - .now))
            } else if backoff > .zero {
                try await context.eventLoop.sleep(for: backoff)
            }
        }
    }

    enum AttemptResult {
        /// A final response went to the client (or a final failure was answered).
        case delivered
        /// The outcome is retried (a retry was admitted; a response's body was drained).
        case retry
        /// The route timeout passed during the try: the caller answers 504 UT.
        case routeTimeout
    }

    /// One try on one endpoint. Answers the client itself when the outcome is final.
    private func attempt(head: HTTPRequestHead, body: [UInt8], endpoint: Endpoint, upstream: UpstreamCluster,
                         limit: Duration?, isRouteTimeout: Bool, plan: ForwardPlan, retry: RetryState, context: DownstreamContext,
                         _ exchange: inout Exchange) async throws -> AttemptResult {
        let destination = HTTPDestination(host: endpoint.address, port: endpoint.port)
        let key = endpoint.key
        let clusterName = upstream.cluster.name
        upstream.record(key) { $0.requestsTotal += 1; $0.requestsActive += 1 }
        defer { upstream.record(key) { $0.requestsActive -= 1 } }
        let flag = TimeoutFlag()
        var connected = false
        let wantsRetry = { (outcome: TryOutcome) -> Bool in
            retry.shouldRetry(after: outcome) && upstream.admitRetry()
        }
        var localExchange = exchange
        defer { exchange = localExchange }
        do {
            let result: AttemptResult = try await upstream.pool.withConnection(to: destination) { connection in
                connected = true
                let timer = limit.map { limit in
                    context.eventLoop.schedule(after: limit) {
                        flag.fired.store(true, ordering: .releasing)
                        Task { await connection.close() }
                    }
                }
                let sentAt = ContinuousClock.now
                try await connection.writeRequestHead(head, bodyLength: body.count)
                if !body.isEmpty { try await connection.writeRequestBody(body) }
                try await connection.finishRequest()
                let responseHead = try await connection.readResponseHead()
                timer?.cancel()
                if flag.fired.load(ordering: .acquiring) { throw IOError.timedOut(.read) }
                let status = Int(responseHead.status.code)
                let serviceTime = Self.milliseconds(ContinuousClock.now - sentAt)
                upstream.record(key) { stats in
                    if status >= 500 { stats.requestsError += 1 } else { stats.requestsSuccess += 1 }
                }
                self.stats.count("cluster.\(clusterName).upstream_rq_\(status)")
                if retry.isRetriable(.response(status: status)) {
                    if wantsRetry(.response(status: status)) {
                        while try await connection.readResponseBody() != nil {}
                        return .retry
                    }
                    if retry.retriesDone > 0 { localExchange.record.responseFlags.append("URX") }
                }
                try await localExchange.relay(responseHead, from: connection, serviceTimeMs: serviceTime,
                                              edits: plan.responseHeaders)
                if let maximum = upstream.cluster.maxRequestsPerConnection, maximum > 0,
                   connection.requestCount >= maximum {
                    await connection.close()  // not reusable: the pool drops it instead of keeping it
                }
                return .delivered
            }
            return result
        } catch let error where !(error is CancellationError) {
            if localExchange.responseStarted { throw error }  // mid-body: the client sees a cut response
            let outcome: TryOutcome
            if flag.fired.load(ordering: .acquiring) {
                if isRouteTimeout { return .routeTimeout }
                outcome = .perTryTimeout
                upstream.record(key) { $0.requestsTimeout += 1 }
            } else if !connected {
                outcome = .connectFailure
                upstream.record(key) { $0.connectFailures += 1 }
                stats.count("cluster.\(clusterName).upstream_cx_connect_fail")
            } else {
                outcome = .reset
                upstream.record(key) { $0.requestsError += 1 }
            }
            if wantsRetry(outcome) { return .retry }
            let exhausted = retry.retriesDone > 0 && retry.isRetriable(outcome) ? ["URX"] : []
            switch outcome {
            case .perTryTimeout:
                try await localExchange.reply(504, body: LocalReply.timeout, flags: ["UT"] + exhausted,
                                              details: "upstream_per_try_timeout")
            case .connectFailure:
                try await localExchange.reply(503, body: LocalReply.connectFailure, flags: ["UF"] + exhausted,
                                              details: "upstream_reset_before_response_started{connection_failure}")
            case .reset, .response:
                try await localExchange.reply(503, body: LocalReply.connectionTermination, flags: ["UC"] + exhausted,
                                              details: "upstream_reset_before_response_started{connection_termination}")
            }
            return .delivered
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// `reviews.default.svc.cluster.local` from `outbound|9080|v1|reviews.default.svc.cluster.local`.
    static func serviceName(fromCluster name: String) -> String? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[3].isEmpty else { return nil }
        return String(parts[3])
    }

    /// `reviews-v1` from the pod name `reviews-v1-7f9c6d-x2x4z.default` (ReplicaSet hash and suffix dropped).
    static func workloadName(fromPod pod: String) -> String {
        let name = pod.split(separator: ".").first.map(String.init) ?? pod
        let parts = name.split(separator: "-")
        return parts.count > 2 ? parts.dropLast(2).joined(separator: "-") : name
    }

    static func namespace(fromPod pod: String) -> String? {
        let parts = pod.split(separator: ".")
        return parts.count > 1 ? String(parts[1]) : nil
    }
}

/// One request's response side and its record.
struct Exchange {
    let writer: HTTPResponseWriter
    var record: RequestRecord
    let start: ContinuousClock.Instant
    private(set) var responseStarted = false

    init(writer: HTTPResponseWriter, record: RequestRecord, start: ContinuousClock.Instant) {
        self.writer = writer
        self.record = record
        self.start = start
    }

    /// The record, completed with the duration.
    func finished() -> RequestRecord {
        var record = self.record
        record.durationMs = SidecarProxy.milliseconds(ContinuousClock.now - start)
        return record
    }

    /// Answers from the proxy itself, as Envoy does (text body, `server: envoy`).
    mutating func reply(_ status: Int, body: String? = nil, flags: [String] = [], details: String,
                        headers extra: [(String, String)] = []) async throws {
        var headers = HTTPHeaders()
        let bytes = Array((body ?? "").utf8)
        if !bytes.isEmpty { headers.add(name: "content-type", value: "text/plain") }
        for (name, value) in extra { headers.add(name: name, value: value) }
        headers.add(name: "date", value: HTTPDate.format(secondsSinceEpoch: Int(record.startEpochMs / 1000)))
        headers.add(name: "server", value: "envoy")
        record.responseCode = status
        record.responseFlags += flags.filter { !record.responseFlags.contains($0) }
        record.responseCodeDetails = details
        record.bytesSent = bytes.count
        responseStarted = true
        try await writer.send(HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: bytes))
    }

    /// Streams an upstream response to the client.
    mutating func relay(_ head: HTTPResponseHead, from connection: HTTPClientConnection, serviceTimeMs: Int,
                        edits: [HeaderMutation]) async throws {
        var head = head
        let declaredLength = head.headers.first(name: "content-length")
        let closeAfter = head.headers.containsToken("close", in: "connection")
        for name in hopByHopHeaders { head.headers.remove(name: name) }
        if let declaredLength, !head.headers.contains(name: "transfer-encoding") {
            head.headers.add(name: "content-length", value: declaredLength)
        }
        if closeAfter { head.headers.add(name: "connection", value: "close") }
        head.headers.replaceOrAdd(name: "x-envoy-upstream-service-time", value: String(serviceTimeMs))
        Router.apply(edits, to: &head.headers)
        head.version = .http1_1
        record.responseCode = Int(head.status.code)
        record.upstreamServiceTimeMs = serviceTimeMs
        record.responseCodeDetails = "via_upstream"
        responseStarted = true
        try await writer.writeHead(head)
        while let chunk = try await connection.readResponseBody() {
            record.bytesSent += chunk.count
            try await writer.writeBody(chunk)
        }
        try await writer.finish(trailers: connection.trailers.isEmpty ? nil : connection.trailers)
    }
}
