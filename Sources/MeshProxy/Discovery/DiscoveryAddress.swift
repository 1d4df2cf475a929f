import MeshModel

/// Where the sidecar finds meshd: `host:port` as PROXY_CONFIG's
/// `discoveryAddress` names it (`istiod.istio-system.svc:15012`), or
/// `MESHLAB_DISCOVERY_ADDRESS` when set (tests, a lab without DNS).
public struct DiscoveryAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[v6]:port` too). Istio's TLS port 15012 becomes the
    /// plaintext 15010 until meshd serves TLS (issue 5).
    public init(parsing text: String) throws(DiscoveryAddressError) {
        let trimmed = text.trimmingWhitespace
        var host = Substring(trimmed)
        var portText: Substring?
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { throw .init(text) }
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, let portText, let port = Int(portText), (1...65535).contains(port) else {
            throw DiscoveryAddressError(text)
        }
        self.host = String(host)
        self.port = port == DiscoveryWire.tlsPort ? DiscoveryWire.plaintextPort : port
    }

    /// `MESHLAB_DISCOVERY_ADDRESS` if set, else `discoveryAddress` (from PROXY_CONFIG).
    public static func resolve(proxyConfigAddress: String?, environment: [String: String]) throws(DiscoveryAddressError)
        -> DiscoveryAddress
    {
        if let override = environment["MESHLAB_DISCOVERY_ADDRESS"], !override.isEmpty {
            return try DiscoveryAddress(parsing: override)
        }
        return try DiscoveryAddress(parsing: proxyConfigAddress ?? "istiod.istio-system.svc:15012")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct DiscoveryAddressError: Error, Equatable, CustomStringConvertible {
    public var text: String
    init(_ text: String) { self.text = text }
    public var description: String { "discovery address \"\(text)\": expected HOST:PORT (istiod.istio-system.svc:15012)" }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
