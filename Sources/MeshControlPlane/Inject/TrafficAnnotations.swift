import MeshModel
import MeshSystem

/// The pod annotations that shape capture (`traffic.sidecar.istio.io/*`,
/// `sidecar.istio.io/interceptionMode`, `status.sidecar.istio.io/port`):
/// checked as Istio's injector checks them (pkg/kube/inject/validate.go) and
/// rendered into the `istio-iptables` arguments as its template renders them.
struct TrafficAnnotations {
    let annotations: [String: String]

    static let includeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
    static let excludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
    static let includeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts"
    static let excludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts"
    static let excludeOutboundPorts = "traffic.sidecar.istio.io/excludeOutboundPorts"
    static let kubevirtInterfaces = "traffic.sidecar.istio.io/kubevirtInterfaces"
    static let interceptionMode = "sidecar.istio.io/interceptionMode"
    static let statusPort = "status.sidecar.istio.io/port"

    /// Every invalid annotation, in Istio's words
    /// (`invalid value 'bad' for annotation '…': includeIPRanges invalid: …`), sorted by name.
    func problems() -> [String] {
        var problems: [String] = []
        for name in annotations.keys.sorted() {
            let value = annotations[name]!
            let problem: String?
            switch name {
            case Self.interceptionMode:
                problem = ["REDIRECT", "TPROXY", "NONE"].contains(value)
                    ? nil : "interceptionMode invalid, use REDIRECT,TPROXY,NONE: \(value)"
            case Self.statusPort:
                problem = Self.portProblem(value).map { "excludeInboundPorts invalid: \($0)" }
            case "readiness.status.sidecar.istio.io/initialDelaySeconds", "readiness.status.sidecar.istio.io/periodSeconds",
                 "readiness.status.sidecar.istio.io/failureThreshold":
                problem = UInt32(value) == nil ? "strconv.ParseUint: parsing \(quoted(value)): invalid syntax" : nil
            case Self.includeOutboundIPRanges:
                problem = value == "*" ? nil : Self.cidrListProblem(value).map { "includeIPRanges invalid: \($0)" }
            case Self.excludeOutboundIPRanges:
                problem = Self.cidrListProblem(value).map { "excludeIPRanges invalid: \($0)" }
            case Self.includeInboundPorts:
                problem = value == "*" ? nil : Self.portListProblem(value).map { "includeInboundPorts invalid: \($0)" }
            case Self.excludeInboundPorts:
                problem = Self.portListProblem(value).map { "excludeInboundPorts invalid: \($0)" }
            case Self.excludeOutboundPorts:
                problem = Self.portListProblem(value).map { "excludeOutboundPorts invalid: \($0)" }
            default:
                problem = nil
            }
            if let problem { problems.append("invalid value '\(value)' for annotation '\(name)': \(problem)") }
        }
        return problems
    }

    var mode: String { annotations[Self.interceptionMode] ?? "REDIRECT" }

    /// `istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020 …`
    /// as injection-template.yaml renders it.
    var iptablesArguments: [String] {
        var args = ["istio-iptables", "-p", String(SidecarPorts.outboundCapture), "-z", String(SidecarPorts.inboundCapture),
                    "-u", String(SidecarPorts.proxyUID), "-m", mode,
                    "-i", annotations[Self.includeOutboundIPRanges] ?? "*",
                    "-x", annotations[Self.excludeOutboundIPRanges] ?? "",
                    "-b", annotations[Self.includeInboundPorts] ?? "*",
                    "-d", "\(SidecarPorts.prometheus),\(SidecarPorts.health),"
                        + Self.excludeInboundPort(annotations[Self.statusPort] ?? String(SidecarPorts.status),
                                                  from: annotations[Self.excludeInboundPorts] ?? "")]
        if let ports = annotations[Self.excludeOutboundPorts] { args += ["-o", ports] }
        if let interfaces = annotations[Self.kubevirtInterfaces] { args += ["-k", interfaces] }
        args.append("--log_output_level=default:info")
        return args
    }

    /// Istio's `excludeInboundPort`: adds the status port to the excluded list unless it is there or 0.
    static func excludeInboundPort(_ port: String, from excluded: String) -> String {
        let port = port.trimmingSpaces()
        if port.isEmpty || port == "0" { return excluded }
        var kept: [String] = []
        for entry in excluded.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if entry == port { return excluded }
            let trimmed = entry.trimmingSpaces()
            if !trimmed.isEmpty { kept.append(trimmed) }
        }
        kept.append(port)
        return kept.joined(separator: ",")
    }

    // MARK: Checks in Go's words

    static func portProblem(_ text: String) -> String? {
        let trimmed = text.trimmingSpaces()
        guard let port = UInt(trimmed), port <= 65535 else {
            let why = UInt(trimmed) == nil ? "invalid syntax" : "value out of range"
            return "failed parsing port '\(text)': strconv.ParseUint: parsing \(quoted(trimmed)): \(why)"
        }
        return nil
    }

    static func portListProblem(_ text: String) -> String? {
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { return nil }
        for entry in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            if let problem = portProblem(String(entry)) { return "failed parsing port '\(entry)': \(problem)" }
        }
        return nil
    }

    static func cidrListProblem(_ text: String) -> String? {
        if text.isEmpty { return nil }
        for cidr in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if let problem = prefixProblem(cidr) { return "failed parsing cidr '\(cidr)': netip.ParsePrefix(\(quoted(cidr))): \(problem)" }
        }
        return nil
    }

    /// Why `cidr` is not an IPv4 or IPv6 prefix (netip.ParsePrefix's reasons), or nil.
    static func prefixProblem(_ cidr: String) -> String? {
        guard let slash = cidr.lastIndex(of: "/") else { return "no '/'" }
        let address = String(cidr[..<slash])
        let bitsText = String(cidr[cidr.index(after: slash)...])
        let isV4 = IPv4Address(address) != nil
        let isV6 = !isV4 && address.contains(":") && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        guard isV4 || isV6 else { return "ParseAddr(\(quoted(address))): unable to parse IP" }
        guard let bits = Int(bitsText), bitsText.allSatisfy(\.isASCII), bits >= 0, bits <= (isV4 ? 32 : 128) else {
            return "bad bits after slash: \(quoted(bitsText))"
        }
        return nil
    }
}

/// A Go `%q`-style quoted string.
func quoted(_ text: String) -> String {
    var out = ""
    JSONValue.writeQuoted(text, to: &out)
    return out
}
