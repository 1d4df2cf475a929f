import MeshHTTP
import MeshModel
import MeshSystem

/// A sample app: answers whole requests with whole responses.
///
/// Every app here is small (bodies of at most a few hundred KiB), so a handler sees
/// the request body in full and builds the response in memory; `AppServer` does the
/// sockets, the access log and graceful shutdown around it.
public protocol HTTPApp: Sendable {
    /// The app's name and version as it reports itself (`reviews-v2`, `httpbin`): sent
    /// on every response as `x-app-version`, so each answer says which version gave it.
    var identity: String { get }
    func handle(_ request: AppRequest) async -> HTTPResponse
}

/// A request as an app sees it: the message and where it came from.
public struct AppRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The TCP peer (`10.1.0.7:41234`); nil when the transport has none (tests in memory).
    public var peer: SocketAddress?

    public init(head: HTTPRequestHead, body: [UInt8] = [], peer: SocketAddress? = nil) {
        self.head = head
        self.body = body
        self.peer = peer
    }

    public init(method: HTTPMethod = .get, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                peer: SocketAddress? = nil) {
        self.init(head: HTTPRequestHead(method: method, target: target, headers: headers), body: body, peer: peer)
    }

    public var method: HTTPMethod { head.method }
    public var headers: HTTPHeaders { head.headers }
    /// The path, percent-decoded.
    public var path: String { HTTPRequestHead.percentDecoded(head.path) }
    /// The path's segments after the leading `/` (`/api/v1/products/0` → `api, v1, products, 0`).
    /// Empty segments stay, so `/status/` is `["status", ""]`, as Go's `strings.Split` sees it.
    public var segments: [Substring] {
        let path = head.path
        return path.dropFirst(path.hasPrefix("/") ? 1 : 0).split(separator: "/", omittingEmptySubsequences: false)
    }

    public func queryValue(_ name: String) -> String? { head.queryValue(name) }
    public var queryItems: [(name: String, value: String)] { head.queryItems }

    /// The value of cookie `name` from the `Cookie` header(s).
    public func cookie(_ name: String) -> String? {
        for header in head.headers.values(for: "cookie") {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name {
                    var value = trimmed[trimmed.index(after: equals)...]
                    if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                        value = value.dropFirst().dropLast()
                    }
                    return String(value)
                }
            }
        }
        return nil
    }

    /// Form fields of an `application/x-www-form-urlencoded` body.
    public var formFields: [(name: String, value: String)] {
        let text = String(decoding: body, as: UTF8.self)
        return HTTPRequestHead(method: .post, target: "/?" + text).queryItems
    }
}

extension HTTPResponse {
    /// A JSON response with the given layout (`Content-Type: application/json`).
    static func json(_ value: JSONValue, status: HTTPStatus = .ok, format: JSONFormat = .compact,
                     contentType: String = "application/json", trailingNewline: Bool = false,
                     headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: contentType)
        var bytes = value.serializedBytes(format)
        if trailingNewline { bytes.append(UInt8(ascii: "\n")) }
        return HTTPResponse(status: status, headers: headers, body: bytes)
    }

    /// A plain-text response.
    static func text(_ text: String, status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8",
                     headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, text: text, contentType: contentType)
    }

    static func html(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, text: text, contentType: "text/html; charset=utf-8")
    }

    /// A redirect to `location` (302 unless told).
    static func redirect(to location: String, status: HTTPStatus = .found, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.add(name: "Location", value: location)
        return HTTPResponse(status: status, headers: headers)
    }
}
