extension VirtualService {
    /// Istio's warnings about rules and matches that can never be reached
    /// (analyzeUnreachableHTTPRules and friends in pkg/config/validation):
    /// a rule without matches that is not the last, a match a prior rule
    /// already has, and a uri prefix match a shorter prior prefix covers.
    enum Reachability {
        static func analyze(_ spec: Spec, at path: FieldPath, _ check: inout IstioCheck) {
            let http = spec.http ?? []
            analyze(http.map { route in (route.match ?? []).map { match -> HTTPMatchRequest in
                var unnamed = match
                unnamed.name = nil
                return unnamed
            } }, names: http.map(\.name), matchNames: http.map { ($0.match ?? []).map(\.name) },
                at: path.appending("http"), &check)
            overlappingPrefixes(http, at: path.appending("http"), &check)
            let tcp = spec.tcp ?? []
            analyze(tcp.map { $0.match ?? [] }, names: tcp.map { _ in nil }, matchNames: tcp.map { ($0.match ?? []).map { _ in nil } },
                at: path.appending("tcp"), &check)
            let tls = spec.tls ?? []
            analyze(tls.map(\.match), names: tls.map { _ in nil }, matchNames: tls.map { $0.match.map { _ in nil } },
                at: path.appending("tls"), &check)
        }

        private static func analyze<Match: Hashable>(_ rules: [[Match]], names: [String?], matchNames: [[String?]],
                                                     at path: FieldPath, _ check: inout IstioCheck) {
            var seen: [Match: Int] = [:]
            var sawEmptyMatch = false
            for (rule, matches) in rules.enumerated() {
                let rulePath = path.appending(index: rule)
                if matches.isEmpty {
                    if sawEmptyMatch { unused(rulePath, routeName(names[rule], rule), "only the last rule can have no matches", &check) }
                    sawEmptyMatch = true
                    continue
                }
                var duplicates = 0
                for (index, match) in matches.enumerated() {
                    if let earlier = seen[match] {
                        ineffective(rulePath.appending("match").appending(index: index), routeName(names[rule], rule),
                            requestName(matchNames[rule][index], index), routeName(names[earlier], earlier), &check)
                        duplicates += 1
                    } else {
                        seen[match] = rule
                    }
                }
                if duplicates == matches.count {
                    unused(rulePath, routeName(names[rule], rule), "all matches used by prior rules", &check)
                }
            }
        }

        /// One uri prefix match, with the other fields Istio compares (genMatchHTTPRoutes).
        private struct PrefixMatch {
            var route: String
            var match: String
            var path: FieldPath
            var prefix: String
            var port: UInt32
            var method: String
            var authority: String
            var headers: [String: String]
            var queryParams: [String: String]
            var withoutHeaders: [String: String]

            /// coveredValidation: whether `self` (earlier) catches everything `later` would.
            func covers(_ later: PrefixMatch) -> Bool {
                guard later.prefix.hasPrefix(prefix), later.port == port else { return false }
                if method != later.method && !method.hasPrefix(later.method) { return false }
                if authority != later.authority && !authority.hasPrefix(later.authority) { return false }
                for (mine, theirs) in [(headers, later.headers), (queryParams, later.queryParams), (withoutHeaders, later.withoutHeaders)] {
                    guard mine.count == theirs.count else { return false }
                    for (key, value) in mine {
                        guard let other = theirs[key] else { return false }
                        if value != other && !value.hasPrefix(other) { return false }
                    }
                }
                return true
            }
        }

        private static func overlappingPrefixes(_ routes: [HTTPRoute], at path: FieldPath, _ check: inout IstioCheck) {
            var seen: Set<HTTPMatchRequest> = []
            var prefixes: [PrefixMatch] = []
            for (rule, route) in routes.enumerated() {
                for (index, match) in (route.match ?? []).enumerated() {
                    var unnamed = match
                    unnamed.name = nil
                    guard seen.insert(unnamed).inserted, case .prefix(let prefix) = match.uri?.kind, !prefix.isEmpty else { continue }
                    let method = describe(match.method)
                    prefixes.append(PrefixMatch(
                        route: routeName(route.name, rule), match: requestName(match.name, index),
                        path: path.appending(index: rule).appending("match").appending(index: index), prefix: prefix,
                        port: match.port ?? 0, method: method.isEmpty ? "exact:GET" : method, authority: describe(match.authority),
                        headers: (match.headers ?? [:]).mapValues(describe), queryParams: (match.queryParams ?? [:]).mapValues(describe),
                        withoutHeaders: (match.withoutHeaders ?? [:]).mapValues(describe)))
                }
            }
            guard prefixes.count > 1 else { return }
            for (i, earlier) in prefixes.enumerated() {
                for later in prefixes[(i + 1)...] where later.prefix != earlier.prefix && earlier.covers(later) {
                    ineffective(later.path, later.route, "\(later.match) of prefix \(later.prefix)",
                        "\(earlier.match) of prefix \(earlier.prefix) on \(earlier.route)", &check)
                }
            }
        }

        /// assignExactOrPrefix.
        private static func describe(_ match: Istio.StringMatch?) -> String {
            switch match?.kind {
            case .exact(let value) where !value.isEmpty: "exact:\(value)"
            case .prefix(let value) where !value.isEmpty: "prefix:\(value)"
            default: ""
            }
        }

        private static func routeName(_ name: String?, _ index: Int) -> String {
            if let name, !name.isEmpty { IstioFormat.goQuote(name) } else { "#\(index)" }
        }

        private static func requestName(_ name: String?, _ index: Int) -> String { routeName(name, index) }

        private static func unused(_ path: FieldPath, _ rule: String, _ reason: String, _ check: inout IstioCheck) {
            check.istioWarning(path, "virtualService rule \(rule) not used (\(reason))")
        }

        private static func ineffective(_ path: FieldPath, _ rule: String, _ match: String, _ duplicate: String, _ check: inout IstioCheck) {
            check.istioWarning(path, "virtualService rule \(rule) match \(match) is not used (duplicate/overlapping match in rule \(duplicate))")
        }
    }
}
