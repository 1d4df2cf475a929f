import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization
import Testing
@testable import MeshProxy

final class Counter: Sendable {
    let value = Atomic<Int>(0)
    func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
    var count: Int { value.load(ordering: .relaxed) }
}

final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    /// The lines once there are `count` of them: a line is written just after its
    /// response went out, so the client may be a moment ahead (bounded wait).
    func waitFor(_ count: Int) async -> [String] {
        for _ in 0..<200 where all.count < count { try? await Task.sleep(for: .milliseconds(10)) }
        return all
    }

    /// The latest line, waiting for the `count`th to arrive.
    func last(of count: Int) async -> String { await waitFor(count).last ?? "" }
}

/// A local upstream: a MeshHTTP server on 127.0.0.1, port 0.
final class Upstream: Sendable {
    let listener: SocketListener
    let server = HTTPServer()
    let task: Task<Void, Never>
    let hits = Counter()

    init(group: EventLoopGroup, _ answer: @escaping @Sendable (HTTPRequest, Int) async -> HTTPResponse) throws {
        listener = try SocketListener.bind(.loopback(port: 0), group: group)
        let server = self.server, listener = self.listener
        let hits = self.hits
        task = Task {
            try? await server.serve(listener, handler: HTTPSimpleHandler { request in
                let count = hits.increment()
                return await answer(request, count)
            })
        }
    }

    var port: Int { Int(listener.localAddress.port ?? 0) }
    var endpoint: Endpoint { Endpoint(address: "127.0.0.1", port: port) }

    func stop() async {
        await server.shutdown(gracePeriod: .milliseconds(100))
        await task.value
    }
}

/// A sidecar on loopback with a static config whose one service `svc` (port 80)
/// has the given endpoints; the "original destination" is a made-up ClusterIP.
final class LoopbackMesh: Sendable {
    static let clusterIP = "10.96.0.50"
    let group: EventLoopGroup
    let sidecar: SidecarProxy
    let run: Task<Void, Never>
    let logs = LogLines()
    let outbound: SocketAddress
    let admin: SocketAddress

    static func config(endpoints: [Endpoint], route: RouteAction? = nil, loadBalancer: Cluster.LoadBalancer = .leastRequest,
                       configure: (inout Cluster) -> Void = { _ in }) -> ProxyConfig {
        var cluster = Cluster(name: "outbound|80||svc.default.svc.cluster.local", direction: .outbound, discovery: .eds,
                              loadBalancer: loadBalancer)
        cluster.serviceName = "svc.default.svc.cluster.local"
        configure(&cluster)
        var action = route ?? RouteAction(cluster: cluster.name)
        action.cluster = cluster.name
        let routes = RouteConfiguration(name: "80", virtualHosts: [
            VirtualHost(name: "svc.default.svc.cluster.local:80", domains: ["svc", "svc:80", clusterIP, "\(clusterIP):80"],
                        routes: [Route(name: "default", match: RouteMatch(prefix: "/"), route: action)]),
        ])
        var blackHole = Cluster(name: "BlackHoleCluster", direction: .outbound, discovery: .staticEndpoints)
        blackHole.staticEndpoints = []
        return ProxyConfig(
            listeners: [
                Listener(name: "0.0.0.0_80", address: "0.0.0.0", port: 80, direction: .outbound, filterChains: [
                    FilterChain(match: FilterChainMatch(applicationProtocol: "http"),
                                http: HTTPConnectionManager(routeConfigName: "80", statPrefix: "outbound_0.0.0.0_80")),
                    FilterChain(match: FilterChainMatch(applicationProtocol: "tcp"),
                                tcp: TCPProxy(cluster: cluster.name, statPrefix: "outbound|80||svc")),
                ]),
                Listener(name: "virtualOutbound", address: "0.0.0.0", port: 15001, direction: .outbound, filterChains: [
                    FilterChain(tcp: TCPProxy(cluster: "BlackHoleCluster", statPrefix: "BlackHoleCluster")),
                ]),
            ],
            routes: [routes], clusters: [cluster, blackHole],
            endpoints: [ClusterLoadAssignment(clusterName: cluster.name, endpoints: endpoints)])
    }

    /// `destination` stands in for SO_ORIGINAL_DST (no iptables on loopback).
    init(config: ProxyConfig, destination: SocketAddress = .ipv4(IPv4Address(clusterIP)!, port: 80)) throws {
        group = try EventLoopGroup(threads: 2, name: "test-proxy")
        let logs = self.logs
        let options = SidecarOptions(
            outboundAddress: .loopback(port: 0), inboundAddress: nil, adminAddress: .loopback(port: 0),
            healthAddress: nil, prometheusAddress: nil, originalDestination: { _ in destination },
            accessLog: { line in logs.append(line) }, randomSeed: 11)
        sidecar = SidecarProxy(options: options, store: try ProxyConfigStore(static: config), group: group)
        let bound = try sidecar.bind()
        outbound = bound.outbound.localAddress
        admin = bound.admin!.localAddress
        let sidecar = self.sidecar
        run = Task { try? await sidecar.run() }
    }

    func client() async throws -> HTTPClientConnection {
        HTTPClientConnection(stream: try await SocketConnection.connect(to: outbound, timeout: .seconds(5), on: group.next()))
    }

    func get(_ path: String = "/", host: String = "svc", headers: [(String, String)] = []) async throws -> HTTPResponse {
        let connection = try await client()
        defer { Task { await connection.close() } }
        var fields = HTTPHeaders([("Host", host)])
        for (name, value) in headers { fields.add(name: name, value: value) }
        return try await connection.send(HTTPRequest(method: .get, target: path, headers: fields))
    }

    func adminGet(_ path: String) async throws -> HTTPResponse {
        let connection = HTTPClientConnection(stream: try await SocketConnection.connect(to: admin, timeout: .seconds(5), on: group.next()))
        defer { Task { await connection.close() } }
        return try await connection.send(HTTPRequest(method: .get, target: path, headers: ["Host": "admin"]))
    }

    func stop() async {
        await sidecar.shutdown(gracePeriod: .milliseconds(200))
        await run.value
    }
}

@Suite(.serialized) struct SidecarLoopbackTests {
    @Test func forwardsWithEnvoyHeadersAndKeepsConnectionsAlive() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstream = try Upstream(group: group) { request, _ in
            HTTPResponse(status: .ok, headers: ["x-seen-request-id": request.headers["x-request-id"] ?? "",
                                                "x-seen-host": request.headers["host"] ?? "",
                                                "x-seen-proto": request.headers["x-forwarded-proto"] ?? "",
                                                "x-seen-trace": request.headers["x-b3-traceid"] ?? ""],
                         text: "hello from upstream")
        }
        let mesh = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint]))
        let connection = try await mesh.client()
        for _ in 0..<5 {
            let response = try await connection.send(HTTPRequest(method: .get, target: "/a", headers: [
                "Host": "svc", "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7", "User-Agent": "test",
            ]))
            #expect(response.status == .ok)
            #expect(response.bodyText == "hello from upstream")
            let requestID = response.headers["x-seen-request-id"] ?? ""
            #expect(requestID.count == 36 && requestID.split(separator: "-").count == 5, "\(requestID)")
            #expect(Array(requestID)[14] == "4")  // UUID v4
            #expect(response.headers["x-seen-host"] == "svc")
            #expect(response.headers["x-seen-proto"] == "http")
            #expect(response.headers["x-seen-trace"] == "80f198ee56343ba864fe8b2a57d3eff7")
            #expect(response.headers["x-envoy-upstream-service-time"].flatMap(Int.init) != nil)
        }
        await connection.close()
        // Five requests, one upstream connection (keep-alive pool).
        let pool = try #require(mesh.sidecar.clusters.all["outbound|80||svc.default.svc.cluster.local"])
        #expect(pool.poolStatistics.connectionsOpened == 1)
        #expect(pool.poolStatistics.reuses == 4)
        // One access-log line per request, Istio's format.
        let lines = await mesh.logs.waitFor(5)
        #expect(lines.count == 5)
        #expect(lines.first?.contains("\"GET /a HTTP/1.1\" 200 - via_upstream") == true, "\(lines.first ?? "")")
        #expect(lines.first?.contains("outbound|80||svc.default.svc.cluster.local") == true)
        #expect(lines.first?.contains("\"test\"") == true)
        // Admin pages.
        let clusters = try await mesh.adminGet("/clusters")
        #expect(clusters.bodyText.contains("outbound|80||svc.default.svc.cluster.local::127.0.0.1:\(upstream.port)::rq_total::5"))
        let dump = try await mesh.adminGet("/config_dump")
        #expect(try JSONValue(parsing: dump.bodyText)["config"]?["clusters"]?[0]?["name"] == "outbound|80||svc.default.svc.cluster.local")
        let prometheus = try await mesh.adminGet("/stats/prometheus")
        #expect(prometheus.bodyText.contains("istio_requests_total{reporter=\"source\""))
        #expect(prometheus.bodyText.contains("destination_service=\"svc.default.svc.cluster.local\""))
        #expect(prometheus.bodyText.contains("response_code=\"200\""))
        #expect(prometheus.bodyText.contains("} 5\n"))
        #expect(try await mesh.adminGet("/ready").status == .ok)
        await mesh.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func retriesRecoverAHalfFailingUpstream() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        // Every other request fails with 503.
        let upstream = try Upstream(group: group) { _, count in
            count % 2 == 0 ? HTTPResponse(status: HTTPStatus(code: 503), text: "flaky") : HTTPResponse(status: .ok, text: "ok")
        }
        let withoutRetries = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint]))
        var failures = 0
        for _ in 0..<20 where try await withoutRetries.get().status.code == 503 { failures += 1 }
        #expect(failures == 10)
        await withoutRetries.stop()

        var action = RouteAction()
        action.retryPolicy = RetryPolicy(numRetries: 3, retryOn: ["5xx"])
        let withRetries = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint], route: action))
        for _ in 0..<20 {
            #expect(try await withRetries.get().status == .ok)
        }
        #expect(withRetries.sidecar.stats.counter("cluster.outbound|80||svc.default.svc.cluster.local.upstream_rq_retry") == 19)  // failures at hits 2, 4, ... 38: each retried once
        await withRetries.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func exhaustedRetriesReturnTheLastAnswerWithURX() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstream = try Upstream(group: group) { _, _ in HTTPResponse(status: HTTPStatus(code: 503), text: "down") }
        var action = RouteAction()
        action.retryPolicy = RetryPolicy(numRetries: 2, retryOn: ["5xx"])
        let mesh = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint], route: action))
        let response = try await mesh.get()
        #expect(response.status.code == 503)
        #expect(response.bodyText == "down")
        #expect(upstream.hits.count == 3)
        #expect(await mesh.logs.last(of: 1).contains(" 503 URX via_upstream "))
        await mesh.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func slowUpstreamTimesOutWithUT() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstream = try Upstream(group: group) { _, _ in
            try? await Task.sleep(for: .milliseconds(500))
            return HTTPResponse(status: .ok, text: "late")
        }
        let mesh = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint],
                                                                route: RouteAction(cluster: nil, timeoutMs: 100)))
        let response = try await mesh.get()
        #expect(response.status.code == 504)
        #expect(response.bodyText == "upstream request timeout")
        #expect(await mesh.logs.last(of: 1).contains(" 504 UT "))
        await mesh.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func noEndpointsNoRouteAndConnectFailures() async throws {
        let empty = try LoopbackMesh(config: LoopbackMesh.config(endpoints: []))
        let uh = try await empty.get()
        #expect(uh.status.code == 503)
        #expect(uh.bodyText == "no healthy upstream")
        let nr = try await empty.get(host: "elsewhere")
        #expect(nr.status.code == 404)
        #expect(nr.body.isEmpty)
        #expect(await empty.logs.last(of: 2).contains(" 404 NR route_not_found "))
        await empty.stop()

        // A port nobody listens on: 503 UF with Envoy's body.
        let closed = try SocketListener.bind(.loopback(port: 0), group: EventLoopGroup.shared)
        let port = Int(closed.localAddress.port ?? 0)
        await closed.close()
        let refused = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [Endpoint(address: "127.0.0.1", port: port)]))
        let uf = try await refused.get()
        #expect(uf.status.code == 503)
        #expect(uf.bodyText == LocalReply.connectFailure)
        #expect(await refused.logs.last(of: 1).contains(" 503 UF "))
        await refused.stop()

        // Unhealthy endpoints get no traffic.
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstream = try Upstream(group: group) { _, _ in HTTPResponse(status: .ok, text: "ok") }
        var sick = upstream.endpoint
        sick.healthy = false
        let unhealthy = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [sick]))
        #expect(try await unhealthy.get().status.code == 503)
        #expect(upstream.hits.count == 0)
        await unhealthy.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func leastRequestSpreadsOverEndpoints() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstreams = try (0..<3).map { _ in try Upstream(group: group) { _, _ in HTTPResponse(status: .ok, text: "ok") } }
        let mesh = try LoopbackMesh(config: LoopbackMesh.config(endpoints: upstreams.map(\.endpoint)))
        for _ in 0..<60 { _ = try await mesh.get() }
        let hits = upstreams.map { $0.hits.count }
        #expect(hits.reduce(0, +) == 60)
        #expect(hits.allSatisfy { $0 >= 8 }, "\(hits)")
        await mesh.stop()
        for upstream in upstreams { await upstream.stop() }
        group.shutdown()
    }

    @Test func circuitBreakerAndFaults() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        let upstream = try Upstream(group: group) { _, _ in HTTPResponse(status: .ok, text: "ok") }
        var aborting = LoopbackMesh.config(endpoints: [upstream.endpoint])
        aborting.routes[0].virtualHosts[0].routes[0].fault = FaultPolicy(abortStatus: 418, abortPercent: 100)
        let mesh = try LoopbackMesh(config: aborting)
        let aborted = try await mesh.get()
        #expect(aborted.status.code == 418)
        #expect(aborted.bodyText == "fault filter abort")
        #expect(await mesh.logs.last(of: 1).contains(" 418 FI fault_filter_abort "))
        await mesh.stop()

        let closed = try LoopbackMesh(config: LoopbackMesh.config(endpoints: [upstream.endpoint]) { cluster in
            cluster.circuitBreakers = CircuitBreakers(maxRequests: 0)
        })
        let overflow = try await closed.get()
        #expect(overflow.status.code == 503)
        #expect(overflow.headers["x-envoy-overloaded"] == "true")
        #expect(await closed.logs.last(of: 1).contains(" 503 UO "))
        await closed.stop()
        await upstream.stop()
        group.shutdown()
    }

    @Test func opaqueTCPIsProxiedAndUnknownHTTPIsRefused() async throws {
        let group = try EventLoopGroup(threads: 1, name: "upstream")
        // A TCP echo server.
        let echo = try SocketListener.bind(.loopback(port: 0), group: group)
        let echoTask = Task {
            while let connection = try? await echo.accept() {
                Task {
                    while let bytes = try? await connection.read(maxBytes: 4096) { try? await connection.write(bytes) }
                    await connection.close()
                }
            }
        }
        let mesh = try LoopbackMesh(config: LoopbackMesh.config(
            endpoints: [Endpoint(address: "127.0.0.1", port: Int(echo.localAddress.port ?? 0))]))
        let connection = try await SocketConnection.connect(to: mesh.outbound, timeout: .seconds(5), on: group.next())
        try await connection.write([0x00, 0x01, 0x02, 0x03])
        var received = ByteBuffer()
        while received.readableBytes < 4, try await connection.read(into: &received, maxBytes: 64, timeout: .seconds(5)) != nil {}
        #expect(received.readableArray == [0x00, 0x01, 0x02, 0x03])
        await connection.close()
        await mesh.stop()

        // An unknown destination under REGISTRY_ONLY (virtualOutbound → BlackHoleCluster): HTTP gets 502.
        let blocked = try LoopbackMesh(config: LoopbackMesh.config(endpoints: []), destination: .ipv4(IPv4Address(1, 2, 3, 4), port: 443))
        let response = try await blocked.get(host: "example.com")
        #expect(response.status.code == 502)
        await blocked.stop()
        await echo.close()
        await echoTask.value
        group.shutdown()
    }
}

@Suite struct SidecarInboundTests {
    /// Inbound: the chain for the destination port, an ORIGINAL_DST cluster, and the
    /// hop to the app made from 127.0.0.6 (what Istio's capture rules let through).
    @Test func inboundReachesTheAppFrom127_0_0_6() async throws {
        let group = try EventLoopGroup(threads: 1, name: "app")
        // The app answers with the address its caller connected from.
        let appListener = try SocketListener.bind(.loopback(port: 0), group: group)
        let appTask = Task {
            while let peer = try? await appListener.accept() {
                Task {
                    var buffer = ByteBuffer()
                    while (try? await peer.read(into: &buffer, maxBytes: 4096, timeout: .seconds(5))) ?? nil != nil {
                        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
                        guard text.contains("\r\n\r\n") else { continue }
                        buffer.clear()
                        let body = peer.remoteAddress.map { "\($0)" }?.split(separator: ":").first.map(String.init) ?? "?"
                        try? await peer.write("HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)")
                    }
                    await peer.close()
                }
            }
        }
        let app = (port: Int(appListener.localAddress.port ?? 0), unused: 0)
        var inboundCluster = Cluster(name: "inbound|\(app.port)||", direction: .inbound, discovery: .originalDestination,
                                     loadBalancer: .passthrough)
        inboundCluster.upstreamBindAddress = "127.0.0.6"
        inboundCluster.maxRequestsPerConnection = 1
        let local = RouteConfiguration(name: "inbound|\(app.port)||", virtualHosts: [
            VirtualHost(name: "inbound|http|\(app.port)", domains: ["*"],
                        routes: [Route(name: "default", route: RouteAction(cluster: inboundCluster.name))]),
        ])
        let config = ProxyConfig(
            listeners: [
                Listener(name: "virtualOutbound", address: "0.0.0.0", port: 15001, direction: .outbound, filterChains: []),
                Listener(name: "virtualInbound", address: "0.0.0.0", port: 15006, direction: .inbound, filterChains: [
                    FilterChain(name: "0.0.0.0_\(app.port)", match: FilterChainMatch(destinationPort: app.port),
                                http: HTTPConnectionManager(routeConfig: local, statPrefix: "inbound_0.0.0.0_\(app.port)")),
                ]),
            ],
            clusters: [inboundCluster])
        let proxyGroup = try EventLoopGroup(threads: 1, name: "proxy")
        let logs = LogLines()
        let options = SidecarOptions(
            outboundAddress: .loopback(port: 0), inboundAddress: .loopback(port: 0), adminAddress: nil, healthAddress: nil,
            prometheusAddress: nil, originalDestination: { _ in .loopback(port: UInt16(app.port)) },
            accessLog: { logs.append($0) }, randomSeed: 1)
        let sidecar = SidecarProxy(options: options, store: try ProxyConfigStore(static: config), group: proxyGroup)
        let bound = try sidecar.bind()
        let run = Task { try? await sidecar.run() }
        let connection = HTTPClientConnection(stream: try await SocketConnection.connect(
            to: bound.inbound!.localAddress, timeout: .seconds(5), on: proxyGroup.next()))
        for _ in 0..<3 {
            let response = try await connection.send(HTTPRequest(method: .get, target: "/", headers: ["Host": "reviews:9080"]))
            #expect(response.bodyText == "127.0.0.6")
        }
        await connection.close()
        let line = await logs.last(of: 3)
        #expect(line.contains("inbound|\(app.port)||"), "\(line)")
        // maxRequestsPerConnection 1: every request on its own upstream connection.
        #expect(sidecar.clusters.all[inboundCluster.name]?.poolStatistics.connectionsOpened == 3)
        #expect(sidecar.stats.renderPrometheus().contains("reporter=\"destination\""))
        await sidecar.shutdown(gracePeriod: .milliseconds(100))
        await run.value
        await appListener.close()
        await appTask.value
        group.shutdown()
        proxyGroup.shutdown()
    }
}
