/// A whole request with its body in memory, for handlers that don't stream.
public struct HTTPRequest: Sendable, Equatable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// Trailer fields of a chunked body (rarely sent; empty otherwise).
    public var trailers: HTTPHeaders

    public init(head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders()) {
        self.head = head
        self.body = body
        self.trailers = trailers
    }

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.init(head: HTTPRequestHead(method: method, target: target, version: version, headers: headers), body: body)
    }

    public var method: HTTPMethod { head.method }
    public var target: String { head.target }
    public var headers: HTTPHeaders { head.headers }
    public var path: Substring { head.path }
    public var query: Substring? { head.query }
    public func queryValue(_ name: String) -> String? { head.queryValue(name) }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A whole response with its body in memory, for handlers that don't stream.
public struct HTTPResponse: Sendable, Equatable {
    public var head: HTTPResponseHead
    public var body: [UInt8]
    public var trailers: HTTPHeaders

    public init(head: HTTPResponseHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders()) {
        self.head = head
        self.body = body
        self.trailers = trailers
    }

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.init(head: HTTPResponseHead(status: status, headers: headers), body: body)
    }

    /// A response with a text body and its Content-Type (`text/plain; charset=utf-8` unless told).
    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), text: String,
                contentType: String = "text/plain; charset=utf-8") {
        var headers = headers
        if !headers.contains(name: "content-type") { headers.add(name: "Content-Type", value: contentType) }
        self.init(status: status, headers: headers, body: Array(text.utf8))
    }

    public var status: HTTPStatus { head.status }
    public var headers: HTTPHeaders { head.headers }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// One piece of a streamed message: the head, then body bytes as they come, then the end
/// (with trailer fields when a chunked body carried any).
public enum HTTPPart<Head: Sendable>: Sendable {
    case head(Head)
    case body([UInt8])
    case end(HTTPHeaders?)
}

extension HTTPPart: Equatable where Head: Equatable {}

public typealias HTTPRequestPart = HTTPPart<HTTPRequestHead>
public typealias HTTPResponsePart = HTTPPart<HTTPResponseHead>
