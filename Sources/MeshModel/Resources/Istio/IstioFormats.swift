/// The string formats Istio's validation checks (host names, labels, IP
/// addresses, ports, protocols, header names), each returning Istio's own
/// error text or nil. Ported from pkg/config/validation/agent, pkg/config/labels,
/// pkg/config/security and pkg/config/protocol; the messages are Istio's.
enum IstioFormat {
    // MARK: DNS names and hosts

    /// labels.IsDNS1123Label: Istio's variant also accepts upper case.
    static func isDNS1123Label(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (1...63).contains(bytes.count), isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else {
            return false
        }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// labels.IsWildcardDNS1123Label: `*`, or a label optionally prefixed by `*` or `*-`.
    static func isWildcardDNS1123Label(_ value: String) -> Bool {
        guard value.utf8.count <= 63 else { return false }
        if value == "*" { return true }
        var rest = Substring(value)
        if rest.hasPrefix("*-") { rest = rest.dropFirst(2) } else if rest.hasPrefix("*") { rest = rest.dropFirst() }
        return isDNS1123Label(String(rest))
    }

    /// A lower-case RFC 1123 label, as Kubernetes checks namespace names.
    static func isLowercaseDNS1123Label(_ value: String) -> Bool {
        isDNS1123Label(value) && !value.utf8.contains { (65...90).contains($0) }
    }

    static func checkDNS1123Preconditions(_ name: String) -> String? {
        if name.utf8.count > 255 { return "domain name \(goQuote(name)) too long (max 255)" }
        if name.isEmpty { return "empty domain name not allowed" }
        return nil
    }

    static func validateDNS1123Labels(_ domain: String) -> String? {
        let parts = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let topLevel = parts.last!
        if Int(topLevel) != nil {
            return "domain name \(goQuote(domain)) invalid (top level domain \(goQuote(topLevel)) cannot be all-numeric)"
        }
        for (index, label) in parts.enumerated() {
            if index == parts.count - 1 && label.isEmpty { return nil }
            if !isDNS1123Label(label) { return "domain name \(goQuote(domain)) invalid (label \(goQuote(label)) invalid)" }
        }
        return nil
    }

    /// agent.ValidateFQDN.
    static func validateFQDN(_ fqdn: String) -> String? {
        checkDNS1123Preconditions(fqdn) ?? validateDNS1123Labels(fqdn)
    }

    /// agent.ValidateWildcardDomain: a domain whose first label may be a wildcard.
    static func validateWildcardDomain(_ domain: String) -> String? {
        if let error = checkDNS1123Preconditions(domain) { return error }
        let first = domain.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if !isWildcardDNS1123Label(String(first[0])) {
            return "domain name \(goQuote(domain)) invalid (label \(goQuote(String(first[0]))) invalid)"
        }
        return first.count > 1 ? validateDNS1123Labels(String(first[1])) : nil
    }

    /// agent.ValidateWildcardDomainForVirtualServiceBoundToGateway: also allows
    /// the `outbound_.PORT_._.HOST` SNI names Istio generates.
    static func validateWildcardDomainForGateway(sni: Bool, _ domain: String) -> String? {
        if let error = checkDNS1123Preconditions(domain) { return error }
        let first = domain.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if sni && first[0] == "outbound_" {
            // regexp.MatchString("outbound_.([0-8].*).*", domain): a digit 0-8 after one more character.
            let bytes = Array(domain.utf8)
            let prefix = Array("outbound_".utf8)
            let matches = (0..<bytes.count).contains { start in
                start + prefix.count + 1 < bytes.count && Array(bytes[start..<start + prefix.count]) == prefix
                    && (48...56).contains(bytes[start + prefix.count + 1])
            }
            return matches ? nil : "domain name \(goQuote(domain)) invalid (label \(goQuote(String(first[0]))) invalid)"
        }
        if !isWildcardDNS1123Label(String(first[0])) {
            return "domain name \(goQuote(domain)) invalid (label \(goQuote(String(first[0]))) invalid)"
        }
        return first.count > 1 ? validateDNS1123Labels(String(first[1])) : nil
    }

    /// agent.ValidatePartialWildCard (a warning in ServiceEntry).
    static func validatePartialWildcard(_ host: String) -> String? {
        host.contains("*") && host.count != 1 && !host.hasPrefix("*.") ? "partial wildcard \(goQuote(host)) not allowed" : nil
    }

    /// agent.ValidateNamespaceSlashWildcardHostname: `ns/host` in Sidecar egress
    /// and Gateway servers (where a bare host is still accepted).
    static func validateNamespaceSlashWildcardHostname(_ hostname: String, isGateway: Bool) -> [String] {
        let parts = hostname.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            return isGateway ? validateHostnamePart(hostname, isGateway: true) : ["host must be of form namespace/dnsName"]
        }
        var errors: [String] = []
        if parts[0].isEmpty || parts[1].isEmpty {
            errors.append("config namespace and dnsName in host entry cannot be empty")
        }
        if !["*", "."].contains(parts[0]) && !(parts[0] == "~" && !isGateway) && !isDNS1123Label(parts[0]) {
            errors.append("invalid namespace value \(goQuote(parts[0])) in \(isGateway ? "gateway" : "sidecar")")
        }
        return errors + validateHostnamePart(parts[1], isGateway: isGateway)
    }

    private static func validateHostnamePart(_ hostname: String, isGateway: Bool) -> [String] {
        var errors: [String] = []
        if hostname != "*" && !hostname.contains(".") { errors.append("short names (non FQDN) are not allowed") }
        if let error = validateWildcardDomain(hostname) {
            // A gateway also accepts an IP address as its host.
            if !isGateway || !isIPAddress(hostname) { errors.append(error) }
        }
        if let error = validatePartialWildcard(hostname) { errors.append(error) }
        return errors
    }

    // MARK: Host name matching (pkg/config/host)

    /// host.Name.Matches: the two hosts (either maybe wildcarded) overlap.
    static func hostsMatch(_ a: String, _ b: String) -> Bool {
        switch (a.hasPrefix("*"), b.hasPrefix("*")) {
        case (true, true):
            return a.count < b.count ? b.dropFirst().hasSuffix(a.dropFirst()) : a.dropFirst().hasSuffix(b.dropFirst())
        case (true, false): return b.hasSuffix(a.dropFirst())
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }

    /// host.Name.SubsetOf: every name `host` matches is matched by `of`.
    static func host(_ host: String, isSubsetOf of: String) -> Bool {
        if of.hasPrefix("*") {
            return host.hasPrefix("*") ? host.dropFirst().hasSuffix(of.dropFirst()) : host.hasSuffix(of.dropFirst())
        }
        return !host.hasPrefix("*") && host == of
    }

    // MARK: Labels (pkg/config/labels)

    /// labels.Instance.Validate: Kubernetes-style label keys and values.
    static func validateLabels(_ labels: [String: String]?) -> [String] {
        guard let labels else { return [] }
        var errors: [String] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if !isLabelKey(key) { errors.append("invalid tag key: \(goQuote(key))") }
            if !(value.isEmpty || (value.utf8.count <= 63 && isQualifiedName(value))) {
                errors.append("invalid tag value: \(goQuote(value))")
            }
        }
        return errors
    }

    private static func isLabelKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard prefix.utf8.count <= 253, !prefix.isEmpty,
                prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ isDNS1123Label(String($0)) })
            else { return false }
        }
        let name = parts.last!
        return name.utf8.count <= 63 && isQualifiedName(name)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    private static func isQualifiedName(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    // MARK: Ports, protocols, IP addresses

    /// agent.ValidatePort.
    static func validatePort(_ port: Int) -> String? {
        (1...65535).contains(port) ? nil : "port number \(port) must be in the range 1..65535"
    }

    /// validation.ValidatePortName: a DNS-1123 label.
    static func validatePortName(_ name: String) -> String? {
        isDNS1123Label(name) ? nil : "invalid port name: \(name)"
    }

    /// protocol.Parse: the protocols Istio knows, any case; nil when unsupported.
    static func parseProtocol(_ value: String) -> PortProtocol? {
        PortProtocol(rawValue: value.lowercased())
    }

    enum PortProtocol: String {
        case tcp, udp, grpc, grpcWeb = "grpc-web", http, httpProxy = "http_proxy", http2, https, tls, mongo, redis, mysql

        var isHTTP: Bool { [.http, .http2, .httpProxy, .grpc, .grpcWeb].contains(self) }
        var isTLS: Bool { [.https, .tls].contains(self) }
        var isTCP: Bool { [.tcp, .https, .tls, .mongo, .redis, .mysql].contains(self) }
    }

    /// validation.ValidateProtocol: empty means "sniff".
    static func validateProtocol(_ value: String?) -> String? {
        guard let value, !value.isEmpty, parseProtocol(value) == nil else { return nil }
        return "unsupported protocol: \(value)"
    }

    /// netip.ParseAddr: dotted IPv4 (no leading zeros) or IPv6, with an optional zone.
    static func isIPAddress(_ text: String) -> Bool {
        if text.contains(":") {
            let pieces = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            if pieces.count == 2 && pieces[1].isEmpty { return false }
            return isIPv6(pieces[0])
        }
        return isIPv4(Substring(text))
    }

    /// netip.ParsePrefix: `address/bits`, no zone.
    static func isCIDR(_ text: String) -> Bool {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].contains("%"), isIPAddress(String(pieces[0])) else { return false }
        let bits = pieces[1]
        guard !bits.isEmpty, bits.allSatisfy(\.isASCIIDigit), bits == "0" || !bits.hasPrefix("0"), bits.count <= 3,
            let value = Int(bits)
        else { return false }
        return value <= (pieces[0].contains(":") ? 128 : 32)
    }

    /// agent.ValidateIPSubnet: an address or, with one `/`, a CIDR block.
    static func validateIPSubnet(_ subnet: String) -> String? {
        if subnet.filter({ $0 == "/" }).count == 1 {
            return isCIDR(subnet) ? nil : "\(subnet) is not a valid CIDR block"
        }
        return validateIPAddress(subnet)
    }

    /// agent.ValidateIPAddress.
    static func validateIPAddress(_ address: String) -> String? {
        isIPAddress(address) ? nil : "\(address) is not a valid IP"
    }

    private static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && (part == "0" || !part.hasPrefix("0"))
                && Int(part)! <= 255
        }
    }

    private static func isIPv6(_ text: Substring) -> Bool {
        var groups = 0
        var body = text
        // An embedded IPv4 address takes the room of two groups.
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(body[body.index(after: lastColon)...]) else { return false }
            groups += 2
            body = body[...lastColon]
            if body.hasSuffix(":") && !body.hasSuffix("::") { body = body.dropLast() }
        }
        let halves = splitOnDoubleColon(body)
        guard halves.count <= 2 else { return false }
        for half in halves where !half.isEmpty {
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }

    private static func splitOnDoubleColon(_ text: Substring) -> [Substring] {
        var halves: [Substring] = []
        var rest = text
        while let range = rest.firstRange(of: "::") {
            halves.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        halves.append(rest)
        return halves
    }

    // MARK: HTTP headers

    /// `^[-_A-Za-z0-9]+$` (validHeaderRegex).
    static func isHeaderToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// ValidateHTTPHeaderName.
    static func validateHeaderName(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        return isHeaderToken(name) ? nil : "header name \(name) is not a valid header name"
    }

    /// ValidateHTTPHeaderNameOrJwtClaimRoute: also `@request.auth.claims.sub` style keys.
    static func validateHeaderNameOrJWTClaim(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        return isJWTClaimRoute(name) ? nil : validateHeaderName(name)
    }

    /// jwt.ToRoutingClaim(name).Match.
    static func isJWTClaimRoute(_ name: String) -> Bool {
        let prefix = "@request.auth.claims"
        guard name.hasPrefix(prefix) else { return false }
        let rest = name.dropFirst(prefix.count)
        return (rest.hasPrefix(".") || rest.hasPrefix("[")) && rest.count > 1
    }

    /// ValidateHTTPHeaderWithAuthorityOperationName: for request `set`/`add`.
    static func validateHeaderOperationNameAllowingAuthority(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if isInternalHeader(name) && !isAuthorityHeader(name) { return "invalid header \(goQuote(name)): header cannot have \":\" prefix" }
        return nil
    }

    /// ValidateHTTPHeaderOperationName: for `remove` and response headers.
    static func validateHeaderOperationName(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if name.lowercased() == "host" { return "invalid header \(goQuote(name)): cannot set Host header" }
        if isInternalHeader(name) { return "invalid header \(goQuote(name)): header cannot have \":\" prefix" }
        return nil
    }

    static func isInternalHeader(_ name: String) -> Bool { name.hasPrefix(":") || name.lowercased() == "host" }
    static func isAuthorityHeader(_ name: String) -> Bool { [":authority", "host"].contains(name.lowercased()) }

    /// ValidateHTTPHeaderValue: no control characters, and every `%` either
    /// doubled or closing an Envoy `%VARIABLE%`.
    static func validateHeaderValue(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0.value != 0x09) || $0.value == 0x7f }) {
            return "header value configuration \(value) is invalid"
        }
        let bytes = Array(value.utf8)
        var position = 0
        while position < bytes.count {
            guard bytes[position] == UInt8(ascii: "%") else {
                position += 1
                continue
            }
            if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "%") {
                position += 2
                continue
            }
            guard let close = bytes[(position + 1)...].firstIndex(of: UInt8(ascii: "%")) else {
                return "header value configuration: Invalid header configuration. Un-escaped % at position \(position)"
            }
            position = close + 1
        }
        return nil
    }

    /// The methods Go's net/http names (CORS allowMethods).
    static let httpMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"]

    // MARK: exportTo and gateway names

    /// validateExportTo (visibility rules): `.`, `*`, `~` (ServiceEntry only) or namespaces, no duplicates.
    static func validateExportTo(namespace: String?, _ exportTo: [String]?, isServiceEntry: Bool,
                                 isDestinationRuleWithSelector: Bool) -> [String] {
        guard let exportTo, !exportTo.isEmpty else { return [] }
        let namespace = namespace ?? "default"
        var errors: [String] = []
        var seen: Set<String> = []
        for entry in exportTo {
            let key = entry == "." ? namespace : entry
            if seen.contains(key) {
                errors.append(key != entry
                    ? "duplicate entries in exportTo: . and current namespace \(namespace)"
                    : "duplicate entries in exportTo for entry \(entry)")
            } else if isServiceEntry && entry == "~" {
                seen.insert(key)
            } else if key == "~" {
                errors.append("exportTo ~ (none) is not allowed for Istio configuration objects")
            } else if key != "*" && key != "." && !isDNS1123Label(key) {
                errors.append("only .,*, or a valid DNS 1123 label is allowed as exportTo entry")
            } else {
                seen.insert(key)
            }
        }
        if isDestinationRuleWithSelector && !seen.isEmpty {
            if seen.contains(namespace) {
                if seen.count > 1 { errors.append("destination rule with workload selector cannot have multiple entries in exportTo") }
            } else {
                errors.append("destination rule with workload selector cannot have exportTo beyond current namespace")
            }
        }
        if seen.contains("*") && exportTo.count > 1 {
            errors.append("cannot have both public (*) and non-public exportTo values for a resource")
        }
        if seen.contains("~") && exportTo.count > 1 {
            errors.append("cannot export service entry to no one (~) and someone")
        }
        return errors
    }

    /// validateGatewayNames: `ns/name`, a DNS label, or the legacy `name.ns` FQDN form (a warning).
    static func validateGatewayNames(_ names: [String]?) -> (errors: [String], warnings: [String]) {
        var errors: [String] = []
        var warnings: [String] = []
        for name in names ?? [] {
            let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else {
                if name.contains(".") {
                    let pieces = name.split(separator: ".", omittingEmptySubsequences: false)
                    warnings.append("using legacy gatewayName format \(goQuote(name)); prefer the <namespace>/<name> format: \(goQuote("\(pieces[1])/\(pieces[0])"))")
                }
                if let error = validateFQDN(name) { errors.append(error) }
                // Istio stops at the first name without a slash.
                return (errors, warnings)
            }
            if parts[0].isEmpty || parts[1].isEmpty { errors.append("config namespace and gateway name cannot be empty") }
            if !isDNS1123Label(parts[0]) { errors.append("invalid value for namespace: \(goQuote(parts[0]))") }
            if !isDNS1123Label(parts[1]) { errors.append("invalid value for gateway name: \(goQuote(parts[1]))") }
        }
        return (errors, warnings)
    }

    // MARK: Helpers

    /// Go's `%q` for a string.
    static func goQuote(_ value: String) -> String { Diagnostic.quoted(.string(value)) }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
