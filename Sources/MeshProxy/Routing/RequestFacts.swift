import MeshHTTP

/// What routing looks at in a request: Envoy's pseudo-headers and the header list.
///
/// Built once per request from the parsed head; the routing core takes this and
/// never a socket, so simulation tests can route requests that were never sent.
public struct RequestFacts: Sendable {
    /// `:method`, e.g. `GET`.
    public var method: String
    /// `:path`: path and query as sent (`/reviews/1?x=y`).
    public var target: String
    /// `:authority`: the Host header as sent (maybe with a port).
    public var authority: String
    public var headers: HTTPHeaders

    public init(method: String, target: String, authority: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.authority = authority
        self.headers = headers
    }

    public init(_ head: HTTPRequestHead) {
        self.init(method: head.method.rawValue, target: String(head.originForm),
                  authority: head.headers.first(name: "host") ?? head.host ?? "", headers: head.headers)
    }

    /// The path without the query.
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }

    /// The query's `name=value` pairs, percent-decoded.
    public var queryItems: [(name: String, value: String)] {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: mark)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (HTTPRequestHead.percentDecoded(parts[0], plusAsSpace: true),
                    parts.count > 1 ? HTTPRequestHead.percentDecoded(parts[1], plusAsSpace: true) : "")
        }
    }

    /// A header's value as Envoy's header matchers see it: pseudo-headers by name,
    /// several fields of one name joined with commas.
    public func header(_ name: String) -> String? {
        switch name.lowercased() {
        case ":method": return method
        case ":path": return target
        case ":authority", "host": return authority
        case ":scheme": return "http"
        default:
            let values = headers.values(for: name)
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }
}
