import MeshHTTP
import MeshModel

/// The echo server of `fortio server` (fortio's image), which Istio's traffic
/// management tasks aim load at: any path echoes the request body back, shaped by
/// query parameters; `/debug` describes the request in text.
///
/// - `status=CODE` or `status=CODE:PERCENT,...` — the response status (bad input: 400)
/// - `delay=DURATION` or `delay=DURATION:PERCENT,...` — wait first (at most 1.5 s, fortio's `-max-echo-delay`)
/// - `size=BYTES` or `size=BYTES:PERCENT,...` — answer that many bytes instead of the echo (at most 256 KiB)
/// - `header=NAME:VALUE` (repeatable) — add response headers
/// - `close=1` — `Connection: close`
///
/// Fortio's other servers (gRPC ping on 8079, TCP/UDP echo on 8078, the redirector
/// on 8081) and its web UI are not part of meshlab.
public struct FortioApp: HTTPApp {
    static let maxDelay = Duration.milliseconds(1500)
    static let maxPayload = 256 * 1024

    let hostname: String
    let environment: [String: String]
    let random: RandomSource
    let started: ContinuousClock.Instant
    let now: @Sendable () -> ContinuousClock.Instant
    let sleep: @Sendable (Duration) async -> Void

    public init(hostname: String, environment: [String: String] = [:], random: RandomSource = .system,
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.hostname = hostname
        self.environment = environment
        self.random = random
        self.now = now
        self.started = now()
        self.sleep = sleep
    }

    public var identity: String { "fortio" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let path = request.head.path
        if path == "/debug" { return debug(request) }
        if path == "/fortio" || path.hasPrefix("/fortio/") {
            return .text("fortio's web UI is not supported in meshlab: use the echo server (any other path)\n",
                         status: .notFound)
        }
        return await echo(request)
    }

    // MARK: Echo

    /// The three probability lists of one request, drawn in fortio's order (delay, status, size).
    struct Plan: Equatable {
        var delay: Duration?
        var status: Int
        var size: Int?
    }

    func plan(_ request: AppRequest) -> Plan {
        Plan(delay: Self.delay(request.queryValue("delay"), random),
             status: Self.status(request.queryValue("status"), random),
             size: Self.size(request.queryValue("size"), random))
    }

    static func delay(_ text: String?, _ random: RandomSource) -> Duration? {
        guard let text, !text.isEmpty,
              let list = ProbabilityList(text, value: { GoDuration.parse(String($0)) }) else { return nil }
        guard let delay = list.pick(random), delay > .zero else { return nil }
        return min(delay, maxDelay)
    }

    static func status(_ text: String?, _ random: RandomSource) -> Int {
        guard let text, !text.isEmpty else { return 200 }
        guard let list = ProbabilityList(text, value: { Int($0) }) else { return 400 }
        let code = list.pick(random) ?? 200
        // Go refuses codes outside 100...999; a 1xx cannot end a response.
        return (200...999).contains(code) ? code : 400
    }

    static func size(_ text: String?, _ random: RandomSource) -> Int? {
        guard let text, !text.isEmpty,
              let list = ProbabilityList(text, value: { Int($0).map { max(0, $0) } }) else { return nil }
        return list.pick(random).map { min($0, maxPayload) }
    }

    func echo(_ request: AppRequest) async -> HTTPResponse {
        let plan = plan(request)
        if let delay = plan.delay { await sleep(delay) }
        var headers = HTTPHeaders()
        if let close = request.queryValue("close"), !close.isEmpty { headers.add(name: "Connection", value: "close") }
        for (name, value) in request.queryItems where name == "header" && !value.isEmpty {
            let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty,
                  value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else { continue }
            headers.add(name: GoConventions.canonicalHeaderName(String(parts[0])), value: String(parts[1]))
        }
        let status = HTTPStatus(code: plan.status)
        if let size = plan.size {
            headers.replaceOrAdd(name: "Content-Type", value: "application/octet-stream")
            return HTTPResponse(status: status, headers: headers, body: random.bytes(size))
        }
        if let contentType = request.headers["content-type"] { headers.replaceOrAdd(name: "Content-Type", value: contentType) }
        return HTTPResponse(status: status, headers: headers, body: request.body)
    }

    // MARK: Debug

    func debug(_ request: AppRequest) -> HTTPResponse {
        let uptime = DurationText.goRoundedToTenths(now() - started)
        var text = "Φορτίο version meshlab echo debug server up for \(uptime) on \(hostname) - request from "
        text += (request.peer.map { "\($0)" } ?? "") + "\n\n"
        text += "\(request.method) \(request.head.target) \(request.head.version)\n\nheaders:\n\nHost: \(request.head.host ?? "")"
        var grouped: [String: [String]] = [:]
        for field in request.headers where field.name.lowercased() != "host" {
            grouped[GoConventions.canonicalHeaderName(field.name), default: []].append(field.value)
        }
        for name in grouped.keys.sorted() {
            text += "\n\(name): \(grouped[name]!.joined(separator: ","))"
        }
        text += "\n\nbody:\n\n\(Self.debugSummary(request.body, max: 512))\n"
        if request.queryValue("env") == "dump" {
            text += "\nenvironment:\n\n"
            for name in environment.keys.sorted() { text += "\(name)=\(environment[name]!)\n" }
        }
        return .text(text, contentType: "text/plain; charset=UTF-8")
    }

    /// fortio's DebugSummary: the body quoted, or its length and quoted ends when long.
    static func debugSummary(_ bytes: [UInt8], max: Int) -> String {
        if bytes.count <= max + 3 { return goQuote(bytes[...]) }
        return "\(bytes.count): \(goQuote(bytes[..<(max / 2)]))...\(goQuote(bytes[(bytes.count - max / 2)...]))"
    }

    /// Go's strconv.Quote, for ASCII and valid UTF-8; other bytes as `\xNN`.
    static func goQuote(_ bytes: ArraySlice<UInt8>) -> String {
        var out = "\""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{FFFD}": out += "\\ufffd"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
