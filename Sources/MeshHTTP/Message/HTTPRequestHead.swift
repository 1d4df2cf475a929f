/// The start line and header fields of a request, as received or to be sent.
///
/// `target` is the request-target exactly as on the wire: origin-form
/// (`/api/v1/pods?watch=true`), absolute-form (`http://svc:8080/path`, sent to
/// proxies), authority-form (`host:443`, CONNECT only) or asterisk-form (`*`,
/// OPTIONS only). The helpers below read path, query and host out of any form.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// Whether `target` is absolute-form (`scheme://authority/path`), as sent to a forward proxy.
    public var isAbsoluteForm: Bool { targetSchemeEnd != nil }

    /// The scheme of an absolute-form target (`http`), nil for other forms.
    public var scheme: Substring? {
        guard let end = targetSchemeEnd else { return nil }
        return target[..<end]
    }

    /// The origin-form of the target (`/path?query`): what a proxy sends upstream.
    /// Absolute-form loses its scheme and authority (an empty path becomes `/`);
    /// other forms are returned as they are.
    public var originForm: Substring {
        guard let authorityStart = targetAuthorityStart else { return target[...] }
        let rest = target[authorityStart...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        return target[slash] == "/" ? target[slash...] : "/" + target[slash...]
    }

    /// The path, without query, fragment or (absolute-form) scheme and authority; still percent-encoded.
    public var path: Substring {
        let origin = originForm
        let end = origin.firstIndex { $0 == "?" || $0 == "#" } ?? origin.endIndex
        return origin[..<end]
    }

    /// The query string after `?` (without `#fragment`), nil when the target has none.
    public var query: Substring? {
        let origin = originForm
        guard let mark = origin.firstIndex(of: "?") else { return nil }
        let afterMark = origin.index(after: mark)
        let end = origin[afterMark...].firstIndex(of: "#") ?? origin.endIndex
        return origin[afterMark..<end]
    }

    /// The query's `name=value` pairs in order, percent-decoded, `+` read as space
    /// (the form encoding clients use, as Go's `url.ParseQuery` reads it).
    public var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return query.split(separator: "&").map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (
                    name: HTTPRequestHead.percentDecoded(pair[..<equals], plusAsSpace: true),
                    value: HTTPRequestHead.percentDecoded(pair[pair.index(after: equals)...], plusAsSpace: true)
                )
            }
            return (name: HTTPRequestHead.percentDecoded(pair, plusAsSpace: true), value: "")
        }
    }

    /// The decoded value of the first query item named `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// The authority the request is for (`host[:port]`): from an absolute-form or
    /// authority-form target when present (RFC 9112 §3.2.2: it wins over Host), else the Host header.
    public var host: String? {
        if let authorityStart = targetAuthorityStart {
            let rest = target[authorityStart...]
            let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            return String(rest[..<end])
        }
        if method == .connect { return target }
        return headers.first(.host)
    }

    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    public var keepAlive: Bool {
        if headers.containsToken("close", in: .connection) { return false }
        return version.keepsAliveByDefault || headers.containsToken("keep-alive", in: .connection)
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectsContinue: Bool {
        guard let expect = headers.first(.expect) else { return false }
        return HTTPSyntax.equalsIgnoringCase(String(expect.trimmingOWS()), "100-continue")
    }

    /// Index just past `scheme:` when the target is absolute-form.
    private var targetSchemeEnd: String.Index? {
        guard let first = target.utf8.first, (first | 0x20) >= UInt8(ascii: "a"), (first | 0x20) <= UInt8(ascii: "z"),
              let colon = target.firstIndex(of: ":") else { return nil }
        let scheme = target[..<colon]
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1)
        guard scheme.utf8.allSatisfy({ byte in
            let letter = byte | 0x20
            return (letter >= UInt8(ascii: "a") && letter <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }) else { return nil }
        guard target[colon...].hasPrefix("://") else { return nil }
        return colon
    }

    private var targetAuthorityStart: String.Index? {
        guard let colon = targetSchemeEnd else { return nil }
        return target.index(colon, offsetBy: 3)
    }

    /// Percent-decodes `text`; malformed escapes are kept as they are rather than rejected,
    /// and bytes that are not UTF-8 become U+FFFD.
    public static func percentDecoded(_ text: Substring, plusAsSpace: Bool = false) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let byte = utf8[i]
            if byte == UInt8(ascii: "%"), i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            }
            out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The status line and header fields of a response.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    public var status: HTTPStatus
    public var headers: HTTPHeaders

    public init(status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.headers = headers
    }

    public static func == (lhs: HTTPResponseHead, rhs: HTTPResponseHead) -> Bool {
        lhs.version == rhs.version && lhs.status.code == rhs.status.code
            && lhs.status.reasonPhrase == rhs.status.reasonPhrase && lhs.headers == rhs.headers
    }

    /// Whether the server lets the connection carry another request (RFC 9112 §9.3).
    public var keepAlive: Bool {
        if headers.containsToken("close", in: .connection) { return false }
        return version.keepsAliveByDefault || headers.containsToken("keep-alive", in: .connection)
    }
}
