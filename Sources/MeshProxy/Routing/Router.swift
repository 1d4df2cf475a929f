import MeshHTTP
import MeshModel

/// What the route table says to do with one request.
public enum RouteDecision: Sendable, Equatable {
    /// Forward to `cluster`, with the request and response edits of the route (and
    /// of the weighted cluster picked, if any).
    case forward(ForwardPlan)
    /// Answer with a redirect (`location` is absolute or a path).
    case redirect(status: Int, location: String, route: String?)
    /// Answer directly.
    case direct(status: Int, body: String?, route: String?)
    /// No virtual host or no route matched: 404 NR.
    case noRoute
}

/// A matched route with its target picked.
public struct ForwardPlan: Sendable, Equatable {
    public var cluster: String
    public var route: Route
    public var virtualHost: String
    /// The request target after prefix/path rewrite.
    public var target: String
    /// The Host to send upstream (rewritten or as received).
    public var authority: String
    public var requestHeaders: [HeaderMutation]
    public var responseHeaders: [HeaderMutation]

    public var action: RouteAction { route.route ?? RouteAction() }
    public var routeName: String? { route.name }
}

/// Envoy's routing, as a pure function of a configuration and a request.
///
/// Listener and chain selection by the connection's original destination, then per
/// request: virtual host by Host, first route whose match fits, weighted cluster
/// picked with the caller's random numbers, rewrites worked out. No sockets and no
/// clock: simulation tests drive it directly.
public enum Router {
    // MARK: Listeners and chains

    /// The listener for a connection captured by `virtual` (15001 or 15006) whose
    /// original destination is `address:port`: an exact `address:port` listener,
    /// then `0.0.0.0:port`, then the virtual listener itself (its own chains:
    /// passthrough, blackhole, or inbound chains by destination port).
    public static func listener(in snapshot: ProxyConfigSnapshot, direction: TrafficDirection,
                                destinationAddress: String, destinationPort: Int) -> Listener? {
        if direction == .outbound {
            if let exact = snapshot.listenersByAddress["\(destinationAddress):\(destinationPort)"],
               exact.direction == .outbound {
                return exact
            }
            if let wildcard = snapshot.listenersByAddress["0.0.0.0:\(destinationPort)"], wildcard.direction == .outbound {
                return wildcard
            }
        }
        return virtualListener(in: snapshot, direction: direction)
    }

    /// The virtual listener (`virtualOutbound` on 15001, `virtualInbound` on 15006).
    public static func virtualListener(in snapshot: ProxyConfigSnapshot, direction: TrafficDirection) -> Listener? {
        let name = direction == .outbound ? "virtualOutbound" : "virtualInbound"
        if let named = snapshot.listenersByName[name] { return named }
        let port = direction == .outbound ? 15001 : 15006
        return snapshot.config.listeners.first { $0.port == port && $0.direction == direction }
    }

    /// What a chain needs from a connection to choose it.
    public enum SniffedProtocol: Sendable, Equatable {
        case http
        case tcp
    }

    /// The chains of `listener` that could take a connection to `destinationPort`,
    /// the most specific first (those naming the port before those that don't).
    /// TLS chains are left out: this sidecar speaks plaintext until issue 5.
    public static func candidateChains(of listener: Listener, destinationPort: Int) -> [FilterChain] {
        let fitting = listener.filterChains.filter { chain in
            if let port = chain.match.destinationPort, port != destinationPort { return false }
            if let transport = chain.match.transportProtocol, transport == "tls" { return false }
            return true
        }
        return fitting.filter { $0.match.destinationPort != nil } + fitting.filter { $0.match.destinationPort == nil }
    }

    /// The chain for a connection whose first bytes looked like `sniffed`.
    public static func chain(from candidates: [FilterChain], sniffed: SniffedProtocol) -> FilterChain? {
        candidates.first { chain in
            switch chain.match.applicationProtocol.map(isHTTPProtocol) {
            case true?: return sniffed == .http
            case false?: return sniffed == .tcp
            case nil: return true
            }
        }
    }

    /// Whether telling HTTP from TCP matters for these chains (else no need to wait for bytes).
    public static func needsSniffing(_ candidates: [FilterChain]) -> Bool {
        chain(from: candidates, sniffed: .http) != chain(from: candidates, sniffed: .tcp)
    }

    static func isHTTPProtocol(_ value: String) -> Bool {
        let lowered = value.lowercased()
        return lowered.hasPrefix("http") || lowered == "h2c" || lowered == "h2"
    }

    // MARK: Requests

    /// Routes one request through `routeConfig` (of `snapshot`, whose regexes are
    /// compiled); `random` picks among weighted clusters.
    public static func route(_ request: RequestFacts, in routeConfig: RouteConfiguration, of snapshot: ProxyConfigSnapshot,
                             random: inout some RandomNumberGenerator) -> RouteDecision {
        guard let host = virtualHost(for: request.authority, in: routeConfig),
              let route = host.routes.first(where: { matches($0.match, request, snapshot.patterns) }) else {
            return .noRoute
        }
        if let direct = route.directResponse {
            return .direct(status: direct.status, body: direct.body, route: route.name)
        }
        if let redirect = route.redirect {
            return .redirect(status: redirect.responseCode ?? 301, location: location(redirect, route: route, request: request),
                             route: route.name)
        }
        guard let action = route.route else { return .noRoute }
        var requestHeaders: [HeaderMutation] = route.requestHeaders.map { [$0] } ?? []
        var responseHeaders: [HeaderMutation] = route.responseHeaders.map { [$0] } ?? []
        let cluster: String
        if let weighted = action.weightedClusters, let picked = pick(weighted, random: &random) {
            cluster = picked.name
            if let edits = picked.requestHeaders { requestHeaders.append(edits) }
            if let edits = picked.responseHeaders { responseHeaders.append(edits) }
        } else if let single = action.cluster {
            cluster = single
        } else {
            return .noRoute
        }
        return .forward(ForwardPlan(
            cluster: cluster, route: route, virtualHost: host.name,
            target: rewrittenTarget(request, match: route.match, action: action),
            authority: action.hostRewrite ?? request.authority,
            requestHeaders: requestHeaders, responseHeaders: responseHeaders))
    }

    /// Envoy's virtual host choice: an exact domain (Host as sent, then without its
    /// port), then the longest `*.suffix`, then the longest `prefix.*`, then `*`.
    /// Domains compare case-insensitively.
    public static func virtualHost(for authority: String, in config: RouteConfiguration) -> VirtualHost? {
        let host = authority.lowercased()
        let bare = stripPort(host)
        var suffixBest: (length: Int, host: VirtualHost)?
        var prefixBest: (length: Int, host: VirtualHost)?
        var catchAll: VirtualHost?
        for candidate in [host, bare] {
            if let exact = config.virtualHosts.first(where: { $0.domains.contains { $0.lowercased() == candidate } }) {
                return exact
            }
        }
        for virtualHost in config.virtualHosts {
            for domain in virtualHost.domains.map({ $0.lowercased() }) {
                if domain == "*" {
                    if catchAll == nil { catchAll = virtualHost }
                } else if domain.hasPrefix("*") {
                    let suffix = domain.dropFirst()
                    if (host.hasSuffix(suffix) || bare.hasSuffix(suffix)) && suffix.count > (suffixBest?.length ?? -1) {
                        suffixBest = (suffix.count, virtualHost)
                    }
                } else if domain.hasSuffix("*") {
                    let prefix = domain.dropLast()
                    if host.hasPrefix(prefix) && prefix.count > (prefixBest?.length ?? -1) {
                        prefixBest = (prefix.count, virtualHost)
                    }
                }
            }
        }
        return suffixBest?.host ?? prefixBest?.host ?? catchAll
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") {  // [::1]:80
            guard let close = host.firstIndex(of: "]") else { return host }
            return String(host[...close])
        }
        guard let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon,
              host[host.index(after: colon)...].allSatisfy(\.isNumber) else { return host }
        return String(host[..<colon])
    }

    /// Whether every condition of `match` holds for `request`.
    static func matches(_ match: RouteMatch, _ request: RequestFacts, _ patterns: RegexCache) -> Bool {
        let ignoreCase = match.ignoreCase ?? false
        if let path = match.path {
            let actual = request.path
            guard ignoreCase ? actual.lowercased() == path.lowercased() : actual == path else { return false }
        } else if let prefix = match.prefix {
            let actual = request.target
            guard ignoreCase ? actual.lowercased().hasPrefix(prefix.lowercased()) : actual.hasPrefix(prefix) else {
                return false
            }
        } else if let regex = match.regex {
            guard patterns.wholeMatch(regex, request.path, ignoreCase: ignoreCase) else { return false }
        }
        for header in match.headers ?? [] where !matches(header, request, patterns) {
            return false
        }
        if let queries = match.queryParameters, !queries.isEmpty {
            let items = request.queryItems
            for query in queries {
                let value = items.first { $0.name == query.name }?.value
                if query.present == true, query.match == nil {
                    if value == nil { return false }
                    continue
                }
                guard let value, let matcher = query.match, matches(matcher, value, patterns) else { return false }
            }
        }
        return true
    }

    static func matches(_ header: HeaderMatcher, _ request: RequestFacts, _ patterns: RegexCache) -> Bool {
        let value = request.header(header.name)
        let result: Bool
        if let matcher = header.match {
            result = value.map { matches(matcher, $0, patterns) } ?? false
        } else if let present = header.present {
            result = (value != nil) == present
        } else {
            result = value != nil
        }
        return header.invert == true ? !result : result
    }

    static func matches(_ matcher: StringMatcher, _ value: String, _ patterns: RegexCache) -> Bool {
        if let exact = matcher.exact { return value == exact }
        if let prefix = matcher.prefix { return value.hasPrefix(prefix) }
        if let regex = matcher.regex { return patterns.wholeMatch(regex, value) }
        return true
    }

    /// A cluster in proportion to the weights: Envoy draws `random % total` and walks the list.
    public static func pick(_ weighted: [WeightedCluster], random: inout some RandomNumberGenerator) -> WeightedCluster? {
        let total = weighted.reduce(0) { $0 + max(0, $1.weight) }
        guard total > 0 else { return nil }
        var draw = Int(random.next() % UInt64(total))
        for entry in weighted where entry.weight > 0 {
            if draw < entry.weight { return entry }
            draw -= entry.weight
        }
        return weighted.last
    }

    /// The target sent upstream: the matched prefix replaced (`prefixRewrite`), or the
    /// whole path replaced (`pathRewrite`), the query kept.
    static func rewrittenTarget(_ request: RequestFacts, match: RouteMatch, action: RouteAction) -> String {
        let query = request.target.firstIndex(of: "?").map { String(request.target[$0...]) } ?? ""
        if let replacement = action.pathRewrite {
            return replacement + query
        }
        if let replacement = action.prefixRewrite {
            if let prefix = match.prefix, request.target.count >= prefix.count {
                return replacement + request.target.dropFirst(prefix.count)
            }
            if let path = match.path, request.path.count >= path.count {
                return replacement + request.target.dropFirst(path.count)
            }
            return replacement + query
        }
        return request.target
    }

    static func location(_ redirect: RedirectAction, route: Route, request: RequestFacts) -> String {
        var target = request.target
        if let path = redirect.pathRedirect {
            target = path
        } else if let replacement = redirect.prefixRewrite, let prefix = route.match.prefix {
            target = replacement + request.target.dropFirst(min(prefix.count, request.target.count))
        }
        let scheme = redirect.schemeRedirect ?? "http"
        var host = redirect.hostRedirect ?? stripPort(request.authority)
        if let port = redirect.portRedirect {
            host += ":\(port)"
        } else if redirect.hostRedirect == nil, stripPort(request.authority) != request.authority {
            host = request.authority
        }
        return "\(scheme)://\(host)\(target)"
    }

    /// Applies header edits in order: remove, then set (replacing), then add (appending).
    public static func apply(_ mutations: [HeaderMutation], to headers: inout HTTPHeaders) {
        for mutation in mutations {
            for name in mutation.remove ?? [] { headers.remove(name: name) }
            for field in mutation.set ?? [] { headers.replaceOrAdd(name: field.name, value: field.value) }
            for field in mutation.add ?? [] { headers.add(name: field.name, value: field.value) }
        }
    }
}

/// A small, fast, seedable generator (SplitMix64): tests seed it, the proxy seeds it
/// from the system generator once per loop.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
