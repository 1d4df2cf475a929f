import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Synchronization

/// Settings of the sidecar's push client.
public struct DiscoveryClientOptions: Sendable {
    public var address: DiscoveryAddress
    /// Who this sidecar is; sent with the stream's first request.
    public var node: ProxyNode
    /// Names to IPv4 addresses. The default takes IPv4 literals only; the
    /// sidecar passes a resolver that asks the pod's DNS (MeshApps' HostResolver).
    public var resolve: @Sendable (String) async throws -> [IPv4Address]
    /// Reconnect delays: doubling from `initialBackoff` up to `maxBackoff`, each
    /// between half and all of that step (jitter, so sidecars that lost meshd
    /// together do not all come back in the same instant).
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var connectTimeout: Duration
    /// Seeds the jitter (tests); nil: random.
    public var seed: UInt64?
    public var maxMessageBytes: Int
    public var log: @Sendable (String) -> Void

    public init(address: DiscoveryAddress, node: ProxyNode,
                resolve: @escaping @Sendable (String) async throws -> [IPv4Address] = DiscoveryClientOptions.literalOnly,
                initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5),
                connectTimeout: Duration = .seconds(5), seed: UInt64? = nil,
                maxMessageBytes: Int = DiscoveryWire.defaultMaxMessageBytes,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.address = address
        self.node = node
        self.resolve = resolve
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.connectTimeout = connectTimeout
        self.seed = seed
        self.maxMessageBytes = maxMessageBytes
        self.log = log
    }

    /// The default resolver: an IPv4 literal is itself; a name is an error that says what to do.
    public static let literalOnly: @Sendable (String) async throws -> [IPv4Address] = { host in
        guard let address = IPv4Address(host) else { throw DiscoveryError("cannot resolve \(host): no resolver given") }
        return [address]
    }
}

/// A push stream failure, in one line.
public struct DiscoveryError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The sidecar's end of the push stream (Envoy's ADS client, state of the
/// world): connects to meshd, sends its node and a request for each type
/// (CDS, EDS, LDS, RDS, in that order), hands every response to the
/// `ProxyConfigSink` and ACKs it, or NACKs with the sink's error and keeps
/// the previous version.
///
/// While meshd is unreachable the sidecar keeps serving with what it last
/// accepted (the sink still holds it) and reconnects with capped, jittered
/// exponential backoff; on reconnect its requests carry the versions it runs,
/// as Envoy's do. Wire format: `DiscoveryWire`.
public final class DiscoveryClient: MeshIO.Service {
    public let options: DiscoveryClientOptions
    private let sink: any ProxyConfigSink
    private let state = Mutex(State())

    private struct State {
        var accepted: [ProxyResourceType: String] = [:]
        var connected = false
        var streams = 0
        var random = SplitMix64(seed: 0)
    }

    public init(options: DiscoveryClientOptions, sink: any ProxyConfigSink) {
        self.options = options
        self.sink = sink
        var system = SystemRandomNumberGenerator()
        state.withLock { $0.random = SplitMix64(seed: options.seed ?? system.next()) }
    }

    /// The version the sidecar runs per type (what it last ACKed).
    public var acceptedVersions: [ProxyResourceType: String] { state.withLock { $0.accepted } }
    /// Whether a stream to meshd is open now.
    public var isConnected: Bool { state.withLock { $0.connected } }
    /// How many streams were opened so far (1 after the first connect, 2 after a reconnect).
    public var streamCount: Int { state.withLock { $0.streams } }

    /// Streams config until graceful shutdown or cancellation, reconnecting as needed.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { await self.runUntilCancelled() }
    }

    public func runUntilCancelled() async {
        var failures = 0
        while !Task.isCancelled {
            var reason: String
            do {
                let answered = try await session()
                if answered { failures = 0 }
                reason = "meshd closed the stream"
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                reason = "\(error)"
            }
            state.withLock { $0.connected = false }
            failures += 1
            let delay = backoff(failures: failures)
            options.log("discovery: no stream to meshd at \(options.address) (\(reason)); "
                + "keeping the last config, retrying in \(delay.milliseconds) ms")
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// Half of the doubled step, plus a random part of the other half.
    func backoff(failures: Int) -> Duration {
        let base = options.initialBackoff.milliseconds
        let step = min(options.maxBackoff.milliseconds, base << min(failures - 1, 20))
        let jitter = state.withLock { step / 2 > 0 ? Int($0.random.next() % UInt64(step / 2 + 1)) : 0 }
        return .milliseconds(step - step / 2 + jitter)
    }

    /// One stream: connect, subscribe, then apply and answer responses until it
    /// ends. Returns whether meshd sent anything (a stream that worked resets the backoff).
    private func session() async throws -> Bool {
        guard let ip = try await options.resolve(options.address.host).first else {
            throw DiscoveryError("\(options.address.host) has no address")
        }
        let stream = try await SocketConnection.connect(
            to: .ipv4(ip, port: UInt16(options.address.port)), timeout: options.connectTimeout,
            on: EventLoopGroup.shared.next())
        var answered = false
        do {
            var decoder = DiscoveryFrameDecoder(maxMessageBytes: options.maxMessageBytes)
            try await Self.handshake(stream, host: options.address.description, decoder: &decoder)
            let versions = state.withLock { state in
                state.connected = true
                state.streams += 1
                return state.accepted
            }
            options.log("discovery: connected to meshd at \(options.address)")
            var subscriptions: [UInt8] = []
            for (index, type) in ProxyResourceType.pushOrder.enumerated() {
                let request = DiscoveryRequest(versionInfo: versions[type] ?? "", node: index == 0 ? options.node : nil,
                                               type: type)
                subscriptions += DiscoveryWire.frame(request)
            }
            try await stream.write(subscriptions)
            while let response = try await Self.readResponse(stream, decoder: &decoder) {
                answered = true
                try await stream.write(DiscoveryWire.frame(await answer(response)))
            }
        } catch {
            await stream.close()
            if let error = error as? DiscoveryFrameError { throw DiscoveryError("meshd sent \(error)") }
            throw error
        }
        await stream.close()
        return answered
    }

    /// Applies one response through the sink: the ACK, or the NACK with the previous version.
    func answer(_ response: DiscoveryResponse) async -> DiscoveryRequest {
        guard let type = ProxyResourceType(rawValue: response.typeURL) else {
            return DiscoveryRequest(type: .cluster, responseNonce: response.nonce,
                                    errorDetail: ErrorDetail(message: "unknown type \(response.typeURL)"))
                .withTypeURL(response.typeURL)
        }
        do {
            try await sink.apply(type, resources: response.resources, version: response.versionInfo)
            state.withLock { $0.accepted[type] = response.versionInfo }
            return DiscoveryRequest(versionInfo: response.versionInfo, type: type, responseNonce: response.nonce)
        } catch {
            let previous = state.withLock { $0.accepted[type] } ?? ""
            options.log("discovery: refused \(type.shortName) version \(response.versionInfo): \(error)")
            return DiscoveryRequest(versionInfo: previous, type: type, responseNonce: response.nonce,
                                    errorDetail: ErrorDetail(message: "\(error)"))
        }
    }

    // MARK: Wire

    /// Sends the upgrade request and reads meshd's 101; bytes after it go to `decoder`.
    static func handshake(_ stream: any ByteStream, host: String, decoder: inout DiscoveryFrameDecoder) async throws {
        let request = HTTPRequest(method: .get, target: DiscoveryWire.path, headers: [
            "Host": host, "Connection": "Upgrade", "Upgrade": DiscoveryWire.upgradeToken,
        ])
        try await stream.write(HTTPSerializer.serialize(request))
        var parser = HTTPResponseParser(limits: HTTPParserLimits(maxBodyBytes: 64 * 1024))
        parser.expectResponse(to: .get)
        var buffer = ByteBuffer()
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        while true {
            do {
                while let part = try parser.next() {
                    switch part {
                    case .head(let parsed): head = parsed
                    case .body(let bytes): body += bytes
                    case .end:
                        guard let head else { continue }
                        guard head.status.code == 101 else {
                            let text = String(decoding: body.prefix(200), as: UTF8.self)
                            throw DiscoveryError("meshd answered \(head.status.code) to the stream request: \(text)")
                        }
                        decoder.append(parser.takeBufferedBytes())
                        return
                    }
                }
            } catch let error as HTTPParseError {
                throw DiscoveryError("meshd's handshake answer is not HTTP: \(error)")
            }
            buffer.clear()
            guard try await stream.read(into: &buffer, maxBytes: 16 * 1024, timeout: .seconds(10)) != nil else {
                if head != nil { parser.endOfInput() ; continue }
                throw DiscoveryError("meshd closed the connection during the handshake")
            }
            parser.append(contentsOf: buffer.readableBytesView)
        }
    }

    static func readResponse(_ stream: any ByteStream, decoder: inout DiscoveryFrameDecoder) async throws
        -> DiscoveryResponse?
    {
        var buffer = ByteBuffer()
        while true {
            if let response = try decoder.next(DiscoveryResponse.self) { return response }
            buffer.clear()
            guard try await stream.read(into: &buffer, maxBytes: 256 * 1024, timeout: nil) != nil else { return nil }
            decoder.append(buffer.readableBytesView)
        }
    }
}

extension DiscoveryRequest {
    /// The same request for a type URL this side does not know (NACKing it).
    fileprivate func withTypeURL(_ typeURL: String) -> DiscoveryRequest {
        var copy = self
        copy.typeURL = typeURL
        return copy
    }
}

extension Duration {
    fileprivate var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
