import MeshHTTP
import MeshModel

/// An httpbin compatible with go-httpbin (mccutchen/go-httpbin, the image of
/// Istio's httpbin sample): the same paths, status codes and JSON shapes, laid out
/// as Go's encoder lays them out (two-space indent, sorted maps, final newline).
///
/// Endpoints: `/get`, `/anything[/...]` (any method), `/post`, `/put`, `/patch`,
/// `/delete`, `/headers`, `/ip`, `/user-agent`, `/uuid`, `/hostname`,
/// `/status/{code}` and `/status/{code:weight,...}`, `/delay/{duration}` (at most
/// 10 s), `/bytes/{n}` (`?seed=` for a fixed sequence; at most 100 KiB),
/// `/response-headers`, `/redirect/{n}`, `/relative-redirect/{n}`,
/// `/absolute-redirect/{n}`, `/redirect-to`, `/cookies`, `/unstable`. Others answer
/// 404 as go-httpbin's unknown paths do.
public struct HttpbinApp: HTTPApp {
    /// go-httpbin's defaults.
    static let maxDuration = Duration.seconds(10)
    static let maxBytes = 100 * 1024

    let random: RandomSource
    let sleep: @Sendable (Duration) async -> Void

    public init(random: RandomSource = .system,
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.random = random
        self.sleep = sleep
    }

    public var identity: String { "httpbin" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        var response = await route(request)
        // go-httpbin's CORS middleware, on every response.
        response.head.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: request.headers["origin"] ?? "*")
        response.head.headers.replaceOrAdd(name: "Access-Control-Allow-Credentials", value: "true")
        return response
    }

    private func route(_ request: AppRequest) async -> HTTPResponse {
        if request.method == .options {
            var headers: HTTPHeaders = [
                "Access-Control-Allow-Methods": "GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS",
                "Access-Control-Max-Age": "3600",
            ]
            if let asked = request.headers["access-control-request-headers"] {
                headers.add(name: "Access-Control-Allow-Headers", value: asked)
            }
            return HTTPResponse(status: .ok, headers: headers)
        }
        let segments = request.segments
        let first = segments.first.map(String.init) ?? ""
        let argument = segments.count == 2 ? String(segments[1]) : nil
        switch (first, segments.count) {
        case ("", 1): return .html(Self.indexPage)
        case ("get", 1): return only([.get], request) { json(noBody(request)) }
        case ("anything", _):
            return request.method == .head ? json(noBody(request)) : withBody(request)
        case ("post", 1): return only([.post], request) { withBody(request) }
        case ("put", 1): return only([.put], request) { withBody(request) }
        case ("patch", 1): return only([.patch], request) { withBody(request) }
        case ("delete", 1): return only([.delete], request) { withBody(request) }
        case ("headers", 1): return json(["headers": GoConventions.headers(of: request)])
        case ("ip", 1): return json(["origin": .string(origin(request))])
        case ("user-agent", 1): return json(["user-agent": .string(request.headers["user-agent"] ?? "")])
        case ("uuid", 1): return json(["uuid": .string(uuid())])
        case ("hostname", 1): return json(["hostname": "go-httpbin"])
        case ("cookies", 1): return json(.object(JSONObject(cookies(request).map { ($0.0, JSONValue.string($0.1)) })))
        case ("status", 2): return status(argument!)
        case ("delay", 2): return await delay(argument!, request)
        case ("bytes", 2): return bytes(argument!, request)
        case ("response-headers", 1): return responseHeaders(request)
        case ("redirect", 2): return redirect(argument!, relative: request.queryValue("absolute")?.lowercased() != "true", request)
        case ("relative-redirect", 2): return redirect(argument!, relative: true, request)
        case ("absolute-redirect", 2): return redirect(argument!, relative: false, request)
        case ("redirect-to", 1): return redirectTo(request)
        case ("unstable", 1): return unstable(request)
        default: return Self.error(.notFound)
        }
    }

    // MARK: Request echoes

    /// go-httpbin's `noBodyResponse`.
    func noBody(_ request: AppRequest) -> JSONValue {
        [
            "args": GoConventions.multiMap(request.queryItems),
            "headers": GoConventions.headers(of: request),
            "method": .string(request.method.rawValue),
            "origin": .string(origin(request)),
            "url": .string(url(request)),
        ]
    }

    /// go-httpbin's `bodyResponse`: the echo plus the body as text, form and JSON.
    func withBody(_ request: AppRequest) -> HTTPResponse {
        var object = noBody(request).objectValue!
        var data = ""
        var form: JSONValue = [:]
        var json: JSONValue = .null
        if !request.body.isEmpty {
            data = String(decoding: request.body, as: UTF8.self)
            let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first
                .map { String($0).trimmed(of: " ") } ?? ""
            switch contentType {
            case "text/html", "text/plain", "multipart/form-data":
                break
            case "application/x-www-form-urlencoded":
                form = GoConventions.multiMap(request.formFields)
            case "application/json":
                guard let parsed = try? JSONValue(parsing: request.body) else {
                    return Self.error(.badRequest, detail: "error parsing request body: invalid JSON")
                }
                json = GoConventions.reencoded(parsed)
            default:
                data = "data:\(contentType.isEmpty ? "application/octet-stream" : contentType);base64,"
                    + Base64URL.encode(request.body)
            }
        }
        object["data"] = .string(data)
        object["files"] = [:]
        object["form"] = form
        object["json"] = json
        return self.json(.object(object))
    }

    /// The client's address: a proxy's forwarding header when present, else the TCP peer.
    func origin(_ request: AppRequest) -> String {
        for name in ["fly-client-ip", "cf-connecting-ip", "fastly-client-ip", "true-client-ip"] {
            if let value = request.headers[name], !value.isEmpty { return value }
        }
        if let forwarded = request.headers["x-forwarded-for"], !forwarded.isEmpty {
            return String(forwarded.split(separator: ",", maxSplits: 1).first ?? "").trimmed(of: " ")
        }
        return request.peer.map { "\($0)" } ?? ""
    }

    func url(_ request: AppRequest) -> String {
        let headers = request.headers
        var scheme = headers["x-forwarded-proto"] ?? headers["x-forwarded-protocol"] ?? ""
        if scheme.isEmpty && headers["x-forwarded-ssl"] == "on" { scheme = "https" }
        if scheme.isEmpty { scheme = "http" }
        return "\(scheme)://\(request.head.host ?? "")\(request.head.originForm)"
    }

    func cookies(_ request: AppRequest) -> [(String, String)] {
        var seen: [String: String] = [:]
        for header in request.headers.values(for: "cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingPrefixSpaces.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { seen[String(parts[0])] = String(parts[1]) }
            }
        }
        return seen.keys.sorted().map { ($0, seen[$0]!) }
    }

    // MARK: Endpoints with arguments

    func status(_ text: String) -> HTTPResponse {
        let code: Int
        if text.contains(",") {
            guard let choices = Self.weightedChoices(text) else {
                return Self.error(.badRequest, detail: "invalid weighted status codes: \(text)")
            }
            code = Self.pick(choices, roll: random.unit())
        } else {
            guard let parsed = Int(text), (100...599).contains(parsed) else {
                return Self.error(.badRequest, detail: "invalid status code: \(text)")
            }
            code = parsed
        }
        guard code >= 200 else {
            // A 1xx is never a final response: a client would wait for the real one.
            return Self.error(.badRequest, detail: "status \(code) is informational and cannot end a response")
        }
        return Self.statusResponse(code)
    }

    /// `200:0.5,503:0.5`: codes with weights (default 1) that need not sum to 1.
    static func weightedChoices(_ text: String) -> [(code: Int, weight: Double)]? {
        var choices: [(code: Int, weight: Double)] = []
        for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let code = Int(parts[0]), (100...599).contains(code) else { return nil }
            var weight = 1.0
            if parts.count == 2 {
                guard let parsed = Double(parts[1]), parsed.isFinite, parsed >= 0 else { return nil }
                weight = parsed
            }
            choices.append((code, weight))
        }
        guard choices.contains(where: { $0.weight > 0 }) else { return nil }
        return choices
    }

    /// go-httpbin's weightedRandomChoice for a roll in [0, 1).
    static func pick(_ choices: [(code: Int, weight: Double)], roll: Double) -> Int {
        let total = choices.reduce(0) { $0 + $1.weight }
        let target = roll * total
        var cumulative = 0.0
        for choice in choices {
            cumulative += choice.weight
            if target < cumulative { return choice.code }
        }
        return choices.last { $0.weight > 0 }!.code
    }

    /// go-httpbin's answer for `/status/<code>`: text/plain, and the special cases'
    /// headers and bodies (redirects point at `/redirect/1`, 418 is a teapot).
    static func statusResponse(_ code: Int) -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "text/plain; charset=utf-8"]
        var body = ""
        switch code {
        case 300, 308:
            headers.add(name: "Location", value: "/image/jpeg")
            let title = code == 300 ? "Multiple Choices" : "Permanent Redirect"
            body = "<!doctype html>\n<head>\n<title>\(title)</title>\n</head>\n<body>"
                + (code == 300
                    ? "\n<ul>\n<li><a href=\"/image/jpeg\">/image/jpeg</a></li>\n<li><a href=\"/image/png\">/image/png</a></li>\n<li><a href=\"/image/svg\">/image/svg</a></li>\n</body>\n</html>"
                    : "Permanently redirected to <a href=\"/image/jpeg\">/image/jpeg</a>\n</body>\n</html>")
        case 301, 302, 303, 305, 307:
            headers.add(name: "Location", value: "/redirect/1")
        case 401:
            headers.add(name: "WWW-Authenticate", value: "Basic realm=\"Fake Realm\"")
        case 402:
            headers.add(name: "X-More-Info", value: "http://vimeo.com/22053820")
        case 406:
            headers.replaceOrAdd(name: "Content-Type", value: "application/json; charset=utf-8")
            body = """
                {
                  "message": "Client did not request a supported media type",
                  "accept": [
                    "image/webp",
                    "image/svg+xml",
                    "image/jpeg",
                    "image/png",
                    "image/"
                  ]
                }

                """
        case 407:
            headers.add(name: "Proxy-Authenticate", value: "Basic realm=\"Fake Realm\"")
        case 418:
            headers.add(name: "X-More-Info", value: "http://tools.ietf.org/html/rfc2324")
            body = "I'm a teapot!"
        default:
            break
        }
        return HTTPResponse(status: HTTPStatus(code: code), headers: headers, body: Array(body.utf8))
    }

    func delay(_ text: String, _ request: AppRequest) async -> HTTPResponse {
        guard let duration = GoDuration.parseOrSeconds(text) else {
            return Self.error(.badRequest, detail: "invalid duration: \(text)")
        }
        guard duration >= .zero, duration <= Self.maxDuration else {
            return Self.error(.badRequest, detail: "invalid duration: \(text) not in range [0s, 10s]")
        }
        await sleep(duration)
        return withBody(request)
    }

    func bytes(_ text: String, _ request: AppRequest) -> HTTPResponse {
        guard let count = Int(text) else { return Self.error(.badRequest, detail: "invalid byte count: \(text)") }
        var source = random
        if let seedText = request.queryValue("seed") {
            guard let seed = Int64(seedText) else { return Self.error(.badRequest, detail: "invalid seed: \(seedText)") }
            source = .seeded(UInt64(bitPattern: seed))
        }
        guard count >= 0 else { return Self.error(.badRequest, detail: "invalid byte count: \(count) must be greater than 0") }
        if count == 0 { return HTTPResponse(status: .ok) }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"],
                            body: source.bytes(min(count, Self.maxBytes)))
    }

    func responseHeaders(_ request: AppRequest) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in request.queryItems where isValidHeader(name: name, value: value) {
            headers.add(name: GoConventions.canonicalHeaderName(name), value: value)
        }
        if !headers.contains(name: "content-type") {
            headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        }
        let body = GoConventions.multiMap(request.queryItems).serialized(GoConventions.jsonFormat) + "\n"
        return HTTPResponse(status: .ok, headers: headers, body: Array(body.utf8))
    }

    private func isValidHeader(name: String, value: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }
            && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }

    func redirect(_ text: String, relative: Bool, _ request: AppRequest) -> HTTPResponse {
        guard let count = Int(text) else { return Self.error(.badRequest, detail: "invalid redirect count: \(text)") }
        guard count >= 1 else { return Self.error(.badRequest, detail: "redirect count must be > 0") }
        let path = count - 1 < 1 ? "/get" : "/\(relative ? "relative" : "absolute")-redirect/\(count - 1)"
        let location = relative ? path : "\(url(request).prefix { $0 != ":" })://\(request.head.host ?? "")\(path)"
        return .redirect(to: location)
    }

    func redirectTo(_ request: AppRequest) -> HTTPResponse {
        guard let target = request.queryValue("url"), !target.isEmpty else {
            return Self.error(.badRequest, detail: "missing required query parameter: url")
        }
        guard target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return Self.error(.badRequest, detail: "invalid url: \(target)")
        }
        var code = 302
        if let text = request.queryValue("status_code") {
            guard let parsed = Int(text), (300...399).contains(parsed) else {
                return Self.error(.badRequest, detail: "invalid status code: \(text)")
            }
            code = parsed
        }
        return .redirect(to: target, status: HTTPStatus(code: code))
    }

    func unstable(_ request: AppRequest) -> HTTPResponse {
        var source = random
        if let seedText = request.queryValue("seed") {
            guard let seed = Int64(seedText) else { return Self.error(.badRequest, detail: "invalid seed: \(seedText)") }
            source = .seeded(UInt64(bitPattern: seed))
        }
        var failureRate = 0.5
        if let text = request.queryValue("failure_rate") {
            guard let rate = Double(text), (0...1).contains(rate) else {
                return Self.error(.badRequest, detail: "invalid failure rate: \(text)")
            }
            failureRate = rate
        }
        let code = source.unit() < failureRate ? 500 : 200
        return HTTPResponse(status: HTTPStatus(code: code), headers: ["Content-Type": "text/plain; charset=utf-8"])
    }

    func uuid() -> String {
        var bytes = random.bytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }

    // MARK: Responses

    func json(_ value: JSONValue, status: HTTPStatus = .ok) -> HTTPResponse {
        .json(value, status: status, format: GoConventions.jsonFormat, contentType: "application/json; charset=utf-8",
              trailingNewline: true)
    }

    /// go-httpbin's error body: `{"status_code": 404, "error": "Not Found"}`, plus `detail` when there is one.
    static func error(_ status: HTTPStatus, detail: String? = nil) -> HTTPResponse {
        var object: JSONObject = ["status_code": .int(status.code), "error": .string(status.reasonPhrase)]
        if let detail { object["detail"] = .string(detail) }
        return .json(.object(object), status: status, format: GoConventions.jsonFormat,
                     contentType: "application/json; charset=utf-8", trailingNewline: true)
    }

    /// go-httpbin's handler for a path bound to other methods (`http.Error`).
    func only(_ methods: [HTTPMethod], _ request: AppRequest, _ answer: () -> HTTPResponse) -> HTTPResponse {
        let allowed = methods.contains(request.method) || (request.method == .head && methods.contains(.get))
        guard allowed else {
            return .text("method \(request.method) not allowed\n", status: .methodNotAllowed,
                         headers: ["X-Content-Type-Options": "nosniff"])
        }
        return answer()
    }

    static let indexPage = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>go-httpbin(1): HTTP Client Testing Service</title></head>
        <body>
        <h1>go-httpbin(1)</h1>
        <p>A golang port of the venerable httpbin.org HTTP request &amp; response testing service, as meshlab serves it.</p>
        <ul>
        <li><a href="/anything"><code>/anything</code></a> Returns anything that is passed to request.</li>
        <li><a href="/bytes/1024"><code>/bytes/:n</code></a> Generates <em>n</em> random bytes of binary data.</li>
        <li><a href="/delay/1"><code>/delay/:n</code></a> Delays responding for <em>min(n, 10)</em> seconds.</li>
        <li><a href="/get"><code>/get</code></a> Returns GET data.</li>
        <li><a href="/headers"><code>/headers</code></a> Returns request header dict.</li>
        <li><a href="/ip"><code>/ip</code></a> Returns Origin IP.</li>
        <li><a href="/redirect/6"><code>/redirect/:n</code></a> 302 Redirects <em>n</em> times.</li>
        <li><a href="/response-headers?Server=httpbin"><code>/response-headers</code></a> Returns given response headers.</li>
        <li><a href="/status/418"><code>/status/:code</code></a> Returns given HTTP Status code.</li>
        <li><a href="/user-agent"><code>/user-agent</code></a> Returns user-agent.</li>
        <li><a href="/uuid"><code>/uuid</code></a> Generates a UUIDv4 value.</li>
        </ul>
        </body>
        </html>

        """
}

extension Substring {
    var trimmingPrefixSpaces: Substring { drop { $0 == " " } }
}
