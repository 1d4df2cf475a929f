/// What istio-iptables is told to do (its `config.Config`), with its
/// defaults: `CaptureConfiguration.parse` reads it from the command line
/// that Istio's injector gives the `istio-init` container, and
/// `CaptureRules` turns it into rules.
///
/// Lists stay the comma-separated text istio-iptables takes (`"*"`, `""`,
/// `"15090,15021,15020"`), so that what a person typed is what they see;
/// `CaptureConfiguration.split` reads them as istio-iptables does.
public struct CaptureConfiguration: Sendable, Hashable {
    /// `-p`: where outbound TCP goes (Envoy's outbound listener).
    public var proxyPort = "15001"
    /// `-z`: where inbound TCP goes.
    public var inboundCapturePort = "15006"
    /// `-e`: the HBONE tunnel port, never captured inbound.
    public var inboundTunnelPort = "15008"
    /// `-u`: the proxy's user, whose traffic is not captured; empty means
    /// the default (istio-proxy's uid, 1337).
    public var proxyUID = ""
    /// `-g`: the proxy's group; empty means the same as the user.
    public var proxyGID = ""
    /// `-m`: `REDIRECT` (or empty, the same) or `TPROXY`.
    public var inboundInterceptionMode = ""
    /// `-t`, `-r`: TPROXY's packet mark and routing table.
    public var inboundTProxyMark = "1337"
    public var inboundTProxyRouteTable = "133"
    /// `-b`: inbound ports to capture, `*` for all, empty for none.
    public var inboundPortsInclude = ""
    /// `-d`: inbound ports left alone when `-b` is `*`.
    public var inboundPortsExclude = ""
    /// `-q`, `-o`: outbound ports always / never captured.
    public var outboundPortsInclude = ""
    public var outboundPortsExclude = ""
    /// `-i`: outbound destinations to capture (CIDRs), `*` for all, empty for none.
    public var outboundIPRangesInclude = ""
    /// `-x`: outbound destinations never captured.
    public var outboundIPRangesExclude = ""
    /// `-k`: interfaces whose inbound traffic counts as outbound (KubeVirt).
    public var rerouteVirtualInterfaces = ""
    /// `-c`: interfaces never captured.
    public var excludeInterfaces = ""
    /// ISTIO_OUTBOUND_OWNER_GROUPS / _EXCLUDE (environment only).
    public var ownerGroupsInclude = "*"
    public var ownerGroupsExclude = ""
    /// ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR (environment only).
    public var hostIPv4LoopbackCIDR = "127.0.0.1/32"
    public var iptablesProbePort = "15002"
    public var probeTimeout = "5s"
    public var dryRun = false
    public var skipRuleApply = false
    public var runValidation = false
    public var redirectDNS = false
    public var dropInvalid = false
    public var captureAllDNS = false
    public var dualStack = false
    public var networkNamespace = ""
    public var cniMode = false
    public var reconcile = false
    public var cleanupOnly = false
    public var forceApply = false
    public var nativeNftables = false
    public var forceIptablesBinary = ""
    /// `--iptables-trace-logging` (older istio-iptables): NFLOG rules beside each rule.
    public var traceLogging = false
    /// `--log_output_level` and the other istio log options: kept, not acted on.
    public var logOptions: [String: String] = [:]

    public init() {}

    /// The proxy's uid when `-u` is not given: istio-iptables looks up
    /// ENVOY_USER (istio-proxy) and falls back to 1337; the lab has no such user.
    public static let defaultProxyUID = "1337"

    /// `-u` with its default applied.
    public var effectiveProxyUID: String { proxyUID.isEmpty ? Self.defaultProxyUID : proxyUID }
    /// `-g` with its default applied (the uid, as istio-iptables does).
    public var effectiveProxyGID: String { proxyGID.isEmpty ? effectiveProxyUID : proxyGID }

    /// istio-iptables' `config.Split`: comma-separated, empty items dropped
    /// (blanks are kept, as there: `"80, 81"` names port `" 81"`).
    public static func split(_ list: String) -> [String] {
        list.split(separator: ",").map(String.init)
    }
}
