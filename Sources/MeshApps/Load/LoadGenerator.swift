import MeshHTTP
import MeshIO
import MeshSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Sends the requests `LoadSettings` asks for over keep-alive connections and
/// measures them: the I/O shell around `LoadSchedule`, `LoadTally` and
/// `LatencyHistogram`.
///
/// Each connection is one task on one event loop, with its own counters (no
/// shared state but the closed-loop request budget). The host is resolved once,
/// as wrk does, through the pod's /etc/resolv.conf when run inside a pod.
/// A connection that fails is replaced by a new one for the next request.
public struct LoadGenerator: Sendable {
    public let settings: LoadSettings
    let group: EventLoopGroup
    let resolve: @Sendable (String) async throws -> [IPv4Address]

    /// `resolve` turns the URL's host into addresses (default: this machine's or pod's resolver).
    public init(settings: LoadSettings, group: EventLoopGroup = .shared,
                resolve: (@Sendable (String) async throws -> [IPv4Address])? = nil) {
        self.settings = settings
        self.group = group
        self.resolve = resolve ?? { host in try await HostResolver.system(eventLoop: group.next()).resolve(host) }
    }

    public func run() async throws -> LoadReport {
        let host = settings.url.host
        let addresses: [IPv4Address]
        do {
            addresses = try await resolve(host)
        } catch {
            throw LoadError("cannot resolve \(host): \(error)")
        }
        guard let first = addresses.first else { throw LoadError("cannot resolve \(host): no address") }
        let address = SocketAddress.ipv4(first, port: UInt16(settings.url.port))
        let budget = RequestBudget(limit: settings.requests)
        let start = MonotonicClock.now()
        var tally = LoadTally()
        var latency = LatencyHistogram()
        await withTaskGroup(of: (LoadTally, LatencyHistogram).self) { tasks in
            for index in 0..<settings.connections {
                let loop = group.next()
                tasks.addTask {
                    (try? await loop.onLoop {
                        await self.runConnection(index, start: start, address: address, loop: loop, budget: budget)
                    }) ?? (LoadTally(), LatencyHistogram())
                }
            }
            for await (connectionTally, connectionLatency) in tasks {
                tally.merge(connectionTally)
                latency.merge(connectionLatency)
            }
        }
        let elapsed = Duration.nanoseconds(Int64(MonotonicClock.now() - start))
        return LoadReport(settings: settings, elapsed: elapsed, tally: tally, latency: latency)
    }

    /// The request every connection sends: GET, Host, the user's headers (which may replace
    /// Host and User-Agent; others repeat as given).
    var request: HTTPRequest {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: settings.url.authority)
        headers.add(name: "User-Agent", value: "meshlab-load")
        for header in settings.headers {
            if ["host", "user-agent"].contains(header.name.lowercased()) {
                headers.replaceOrAdd(name: header.name, value: header.value)
            } else {
                headers.add(name: header.name, value: header.value)
            }
        }
        return HTTPRequest(method: .get, target: settings.url.target, headers: headers)
    }

    /// One connection's share of the run, on `loop`.
    func runConnection(_ index: Int, start: UInt64, address: SocketAddress, loop: EventLoop,
                       budget: RequestBudget) async -> (LoadTally, LatencyHistogram) {
        var tally = LoadTally()
        var latency = LatencyHistogram()
        let matcher = settings.countBody.flatMap { try? BodyMatcher(pattern: $0) }
        let request = self.request
        let client = HTTPClientConfiguration(readTimeout: settings.timeout, writeTimeout: settings.timeout)
        let schedule = settings.schedule
        let durationNanoseconds = settings.duration.map { UInt64(Self.nanoseconds($0)) }
        let windowEnd = start + UInt64(Self.nanoseconds(settings.sendWindow))
        var connection: HTTPClientConnection?
        var sequence = 0
        while !Task.isCancelled {
            let intended: UInt64
            if let schedule {
                let number = schedule.requestNumber(connection: index, sequence: sequence)
                guard let offset = schedule.intendedOffset(request: number) else { break }
                intended = start + UInt64(Self.nanoseconds(offset))
                let now = MonotonicClock.now()
                if now >= windowEnd {
                    tally.notSent += 1
                    sequence += 1
                    continue
                }
                if intended > now {
                    do { try await loop.sleep(for: .nanoseconds(Int64(intended - now))) } catch { break }
                }
            } else {
                intended = MonotonicClock.now()
                if let durationNanoseconds, intended - start >= durationNanoseconds { break }
                if intended >= windowEnd { break }
                guard budget.take() else { break }
            }
            sequence += 1
            var connecting = false
            do {
                if connection == nil {
                    connecting = true
                    let stream = try await SocketConnection.connect(to: address, timeout: settings.timeout, on: loop)
                    connection = HTTPClientConnection(stream: stream, configuration: client)
                    tally.connectionsOpened += 1
                    connecting = false
                }
                let response = try await connection!.send(request)
                let done = MonotonicClock.now()
                latency.record(microseconds: (done &- intended) / 1000)
                tally.recordResponse(
                    status: response.status.code,
                    headerValue: settings.countHeader.map { response.headers[$0] },
                    bodyKey: matcher.map { $0.key(in: response.bodyText) },
                    bytes: response.body.count)
                if !connection!.isReusable {
                    await connection!.close()
                    connection = nil
                }
            } catch {
                tally.recordError(Self.classify(error, connecting: connecting))
                if let broken = connection {
                    await broken.close()
                    connection = nil
                }
                // Closed loop against a port nobody listens on would spin: pace the reconnects.
                if connecting && schedule == nil { try? await loop.sleep(for: .milliseconds(10)) }
            }
        }
        if let connection { await connection.close() }
        return (tally, latency)
    }

    /// What kind of failure `error` is, for the report.
    static func classify(_ error: any Error, connecting: Bool) -> LoadErrorKind {
        if let system = error as? SystemError {
            switch system.errno {
            case ECONNREFUSED: return .connectRefused
            case ETIMEDOUT, EHOSTUNREACH, ENETUNREACH: return connecting ? .connectTimeout : .timeout
            default: break
            }
        }
        if error.isConnectionReset { return .reset }
        switch error {
        case IOError.timedOut: return connecting ? .connectTimeout : .timeout
        case HTTPError.timedOut: return .timeout
        case HTTPError.connectionClosed: return .closed
        case HTTPError.parse: return .protocolError
        default: return .other
        }
    }

    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The closed-loop request count shared by the connections.
final class RequestBudget: Sendable {
    private let taken = Atomic<Int>(0)
    let limit: Int?

    init(limit: Int?) { self.limit = limit }

    /// Claims one request; false once the limit is reached.
    func take() -> Bool {
        guard let limit else { return true }
        return taken.wrappingAdd(1, ordering: .relaxed).oldValue < limit
    }
}
