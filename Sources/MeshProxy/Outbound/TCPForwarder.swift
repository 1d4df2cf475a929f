import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

extension SidecarProxy {
    /// Proxies a whole connection to one endpoint of the chain's cluster (weighted
    /// clusters picked once per connection), bytes both ways, half-closes passed on.
    func proxyTCP(_ downstream: any ByteStream, tcp: TCPProxy, context: DownstreamContext,
                  snapshot: ProxyConfigSnapshot) async {
        let start = ContinuousClock.now
        var record = RequestRecord()
        record.tcp = true
        record.startEpochMs = AccessLogFormat.nowEpochMs()
        record.reporter = context.reporter
        record.downstreamLocalAddress = "\(context.originalDestination)"
        record.downstreamRemoteAddress = context.remote.map { "\($0)" }
        defer {
            record.durationMs = Self.milliseconds(ContinuousClock.now - start)
            finish(record)
        }
        let clusterName = tcp.cluster ?? withRandom { random in
            tcp.weightedClusters.flatMap { Router.pick($0, random: &random)?.name }
        }
        guard let clusterName, let cluster = snapshot.clusters[clusterName] else {
            record.responseFlags = ["NC"]
            return
        }
        record.upstreamCluster = cluster.name
        record.destinationService = cluster.serviceName ?? Self.serviceName(fromCluster: cluster.name)
        if cluster.name == Self.blackHole { return }
        let endpoints: [Endpoint] = cluster.discovery == .originalDestination
            ? [Endpoint(address: context.destinationIP, port: context.destinationPort)]
            : snapshot.endpoints(of: cluster.name)
        let upstream = clusters.upstream(for: cluster)
        guard let index = withRandom({ upstream.pick(endpoints, excluded: [], random: &$0) }) else {
            record.responseFlags = ["UH"]
            return
        }
        let endpoint = endpoints[index]
        record.upstreamHost = endpoint.key
        guard upstream.admitRequest() else {
            record.responseFlags = ["UO"]
            return
        }
        defer { upstream.finishRequest() }
        let connection: SocketConnection
        do {
            let address = try SocketAddress(parsing: endpoint.key)
            let source = cluster.upstreamBindAddress.flatMap { try? SocketAddress(parsing: "\($0):0") }
            connection = try await SocketConnection.connect(
                to: address, from: source, timeout: .milliseconds(cluster.connectTimeoutMs ?? 10_000), on: context.eventLoop)
        } catch {
            upstream.record(endpoint.key) { $0.connectFailures += 1 }
            stats.count("cluster.\(cluster.name).upstream_cx_connect_fail")
            record.responseFlags = ["UF"]
            return
        }
        record.upstreamLocalAddress = connection.localAddress.map { "\($0)" }
        upstream.record(endpoint.key) { $0.requestsTotal += 1; $0.requestsActive += 1 }
        stats.count("cluster.\(cluster.name).upstream_cx_total")
        let (sent, received) = await withTaskGroup(of: (Bool, Int).self) { group in
            group.addTask { (true, await Self.pump(from: downstream, to: connection)) }
            group.addTask { (false, await Self.pump(from: connection, to: downstream)) }
            var sent = 0, received = 0
            for await (up, count) in group { if up { sent = count } else { received = count } }
            return (sent, received)
        }
        upstream.record(endpoint.key) { $0.requestsActive -= 1; $0.requestsSuccess += 1 }
        record.bytesReceived = sent
        record.bytesSent = received
        await connection.close()
    }

    /// Copies bytes until end of stream, then half-closes the other side; on a
    /// failure, closes both so the opposite pump ends too. Returns the bytes copied.
    static func pump(from source: any ByteStream, to sink: any ByteStream) async -> Int {
        var buffer = ByteBuffer(capacity: 16 * 1024)
        var total = 0
        do {
            while let count = try await source.read(into: &buffer, maxBytes: 64 * 1024, timeout: nil) {
                total += count
                try await sink.write(buffer)
                buffer.clear()
            }
            try? await sink.shutdownWrite()
        } catch {
            await sink.close()
            await source.close()
        }
        return total
    }

    /// HTTP sent to an unknown destination under REGISTRY_ONLY: 502, as Istio's blackhole does.
    func refuseHTTPToBlackHole(_ stream: any ByteStream, context: DownstreamContext) async {
        var record = RequestRecord()
        record.startEpochMs = AccessLogFormat.nowEpochMs()
        record.reporter = context.reporter
        record.responseCode = 502
        record.upstreamCluster = Self.blackHole
        record.responseCodeDetails = "direct_response"
        record.downstreamLocalAddress = "\(context.originalDestination)"
        record.downstreamRemoteAddress = context.remote.map { "\($0)" }
        let response = "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nserver: envoy\r\nconnection: close\r\n\r\n"
        try? await stream.write(response)
        finish(record)
    }
}
