import MeshModel

/// The regexes of one configuration, compiled once when it is installed.
///
/// Patterns are RE2 as Istio writes them; Swift's `Regex` reads the common subset
/// (classes, groups, alternation, repetition) the same way. Matching is always
/// whole-string, as Envoy's `safe_regex` does.
struct RegexCache: @unchecked Sendable {
    // @unchecked: `Regex` values are immutable after construction and safe to share.
    private let compiled: [String: Regex<AnyRegexOutput>]

    init(config: ProxyConfig) {
        var compiled: [String: Regex<AnyRegexOutput>] = [:]
        var routeConfigs = config.routes
        for listener in config.listeners {
            for chain in listener.filterChains { if let inline = chain.http?.routeConfig { routeConfigs.append(inline) } }
        }
        for routeConfig in routeConfigs {
            for host in routeConfig.virtualHosts {
                for route in host.routes {
                    for pattern in ProxyConfigCheck.patterns(in: route) where compiled[pattern] == nil {
                        compiled[pattern] = Self.compile(pattern)
                    }
                }
            }
        }
        self.compiled = compiled
    }

    init() { compiled = [:] }

    static func compile(_ pattern: String) -> Regex<AnyRegexOutput>? {
        try? Regex(pattern)
    }

    /// Whether `pattern` matches all of `text`; a pattern not seen at install time is compiled now.
    func wholeMatch(_ pattern: String, _ text: some StringProtocol, ignoreCase: Bool = false) -> Bool {
        guard let regex = compiled[pattern] ?? Self.compile(pattern) else { return false }
        let string = String(text)
        if ignoreCase { return (try? regex.ignoresCase().wholeMatch(in: string)) != nil }
        return (try? regex.wholeMatch(in: string)) != nil
    }
}
