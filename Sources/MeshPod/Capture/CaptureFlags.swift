/// A command line istio-iptables would not take, or values it would refuse.
public struct CaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// istio-iptables' command line (tools/istio-iptables/pkg/cmd/root.go: cobra
/// and pflag), read the way pflag reads it: `--name value`, `--name=value`,
/// `-p value`, `-p15001`, `-p=15001`; booleans as `--name` or
/// `--name=true|false`; environment variables (the flag's name upper-cased,
/// `-` → `_`) under the command line. Unknown flags and stray words are
/// refused with the reason, as cobra does, instead of being ignored.
extension CaptureConfiguration {
    enum FlagKind: Sendable { case text, boolean, duration }

    struct Flag: Sendable {
        var name: String
        var short: Character?
        var kind: FlagKind
        /// Environment variables read when the flag is absent, in order of precedence.
        var environment: [String]
        var help: String
        var set: @Sendable (inout CaptureConfiguration, String) -> Void
    }

    /// Every flag istio-iptables has (and the log flags every Istio binary has).
    static let flags: [Flag] = {
        func text(_ name: String, _ short: Character?, env: Bool = true, _ help: String,
                  _ set: @escaping @Sendable (inout CaptureConfiguration, String) -> Void) -> Flag {
            Flag(name: name, short: short, kind: .text, environment: env ? [environmentName(name)] : [], help: help, set: set)
        }
        func boolean(_ name: String, short: Character? = nil, extra: [String] = [], _ help: String,
                     _ set: @escaping @Sendable (inout CaptureConfiguration, Bool) -> Void) -> Flag {
            Flag(name: name, short: short, kind: .boolean, environment: [environmentName(name)] + extra, help: help) {
                set(&$0, $1 == "true")
            }
        }
        return [
            text("envoy-port", "p", env: false, "port outbound TCP is redirected to") { $0.proxyPort = $1 },
            text("inbound-capture-port", "z", "port inbound TCP is redirected to") { $0.inboundCapturePort = $1 },
            text("inbound-tunnel-port", "e", "the tunnel port, never captured") { $0.inboundTunnelPort = $1 },
            text("proxy-uid", "u", "user whose traffic is not captured") { $0.proxyUID = $1 },
            text("proxy-gid", "g", "group whose traffic is not captured") { $0.proxyGID = $1 },
            text("istio-inbound-interception-mode", "m", "REDIRECT or TPROXY") { $0.inboundInterceptionMode = $1 },
            text("istio-inbound-ports", "b", "inbound ports to capture, * for all") { $0.inboundPortsInclude = $1 },
            text("istio-local-exclude-ports", "d", "inbound ports not captured") { $0.inboundPortsExclude = $1 },
            text("istio-exclude-interfaces", "c", "interfaces not captured") { $0.excludeInterfaces = $1 },
            text("istio-service-cidr", "i", "outbound CIDRs to capture, * for all") { $0.outboundIPRangesInclude = $1 },
            text("istio-service-exclude-cidr", "x", "outbound CIDRs not captured") { $0.outboundIPRangesExclude = $1 },
            text("istio-outbound-ports", "q", "outbound ports always captured") { $0.outboundPortsInclude = $1 },
            text("istio-local-outbound-ports-exclude", "o", "outbound ports not captured") { $0.outboundPortsExclude = $1 },
            text("kube-virt-interfaces", "k", "interfaces whose inbound traffic counts as outbound") {
                $0.rerouteVirtualInterfaces = $1
            },
            text("istio-inbound-tproxy-mark", "t", "TPROXY mark") { $0.inboundTProxyMark = $1 },
            text("istio-inbound-tproxy-route-table", "r", "TPROXY routing table") { $0.inboundTProxyRouteTable = $1 },
            boolean("dry-run", short: "n", "print the rules, change nothing") { $0.dryRun = $1 },
            text("iptables-probe-port", nil, "validation listener port") { $0.iptablesProbePort = $1 },
            Flag(name: "probe-timeout", short: nil, kind: .duration, environment: ["PROBE_TIMEOUT"],
                 help: "validation timeout") { $0.probeTimeout = $1 },
            boolean("skip-rule-apply", "skip applying rules") { $0.skipRuleApply = $1 },
            boolean("run-validation", "check the rules are in place") { $0.runValidation = $1 },
            boolean("redirect-dns", extra: ["ISTIO_META_DNS_CAPTURE"], "capture DNS for the agent") { $0.redirectDNS = $1 },
            boolean("drop-invalid", extra: ["INVALID_DROP"], "drop conntrack-invalid packets") { $0.dropInvalid = $1 },
            boolean("dual-stack", extra: ["ISTIO_DUAL_STACK"], "IPv4 and IPv6 rules") { $0.dualStack = $1 },
            boolean("capture-all-dns", "capture DNS to any server") { $0.captureAllDNS = $1 },
            text("network-namespace", nil, "netns to apply the rules in") { $0.networkNamespace = $1 },
            boolean("cni-mode", "run as the CNI plugin") { $0.cniMode = $1 },
            boolean("reconcile", "replace drifted rules") { $0.reconcile = $1 },
            boolean("cleanup-only", "remove the rules, add none") { $0.cleanupOnly = $1 },
            boolean("force-apply", "apply even if the rules look in place") { $0.forceApply = $1 },
            boolean("native-nftables", "use nftables rules") { $0.nativeNftables = $1 },
            text("force-iptables-binary", nil, "iptables binary to use") { $0.forceIptablesBinary = $1 },
            boolean("iptables-trace-logging", "NFLOG each rule (older releases)") { $0.traceLogging = $1 },
        ] + ["log_output_level", "log_stacktrace_level", "log_caller", "log_target", "log_rotate",
             "log_rotate_max_age", "log_rotate_max_size", "log_rotate_max_backups"].map { name in
            Flag(name: name, short: nil, kind: .text, environment: [], help: "istio log option") { $0.logOptions[name] = $1 }
        } + [Flag(name: "log_as_json", short: nil, kind: .boolean, environment: [], help: "istio log option") {
            $0.logOptions["log_as_json"] = $1
        }]
    }()

    /// ENVOY_PORT for `envoy-port`: Istio's flag.BindEnv naming.
    static func environmentName(_ flag: String) -> String {
        String(flag.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Reads istio-iptables' arguments (without the program name) and its
    /// environment, then checks the values as istio-iptables' `Validate` does.
    public static func parse(_ arguments: [String], environment: [String: String] = [:])
        throws(CaptureError) -> CaptureConfiguration
    {
        var configuration = CaptureConfiguration()
        for flag in flags {
            guard let variable = flag.environment.first(where: { environment[$0] != nil }) else { continue }
            let value = try checked(environment[variable]!, for: flag, spelled: "$\(variable)")
            flag.set(&configuration, value)
        }
        if let value = environment["ISTIO_OUTBOUND_OWNER_GROUPS"] { configuration.ownerGroupsInclude = value }
        if let value = environment["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] { configuration.ownerGroupsExclude = value }
        if let value = environment["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"] { configuration.hostIPv4LoopbackCIDR = value }

        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if word == "--" {
                if index < arguments.count { throw CaptureError("unexpected argument \"\(arguments[index])\": istio-iptables takes flags only") }
                break
            }
            let flag: Flag
            var inline: String?
            let spelled: String
            if word.hasPrefix("--") {
                var body = word.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    inline = String(body[body.index(after: equals)...])
                    body = body[..<equals]
                }
                spelled = "--" + body
                guard let found = flags.first(where: { $0.name == body }) else {
                    throw CaptureError("unknown flag: \(spelled)")
                }
                flag = found
            } else if word.hasPrefix("-"), word.count > 1 {
                let letter = word[word.index(after: word.startIndex)]
                spelled = "-\(letter)"
                guard let found = flags.first(where: { $0.short == letter }) else {
                    throw CaptureError("unknown shorthand flag: '\(letter)' in \(word)")
                }
                flag = found
                let rest = word.dropFirst(2)
                if !rest.isEmpty { inline = String(rest.hasPrefix("=") ? rest.dropFirst() : rest) }
            } else {
                throw CaptureError("unexpected argument \"\(word)\": istio-iptables takes flags only")
            }
            let value: String
            if let inline {
                value = inline
            } else if flag.kind == .boolean {
                value = "true"
            } else {
                guard index < arguments.count else { throw CaptureError("flag needs an argument: \(spelled)") }
                value = arguments[index]
                index += 1
            }
            flag.set(&configuration, try checked(value, for: flag, spelled: spelled))
        }
        try configuration.validate()
        return configuration
    }

    /// A boolean as Go's strconv.ParseBool reads it (normalised to true/false);
    /// a duration as Go writes one (`5s`, `1m30s`, `500ms`).
    private static func checked(_ value: String, for flag: Flag, spelled: String) throws(CaptureError) -> String {
        switch flag.kind {
        case .text:
            return value
        case .boolean:
            switch value {
            case "1", "t", "T", "TRUE", "true", "True": return "true"
            case "0", "f", "F", "FALSE", "false", "False": return "false"
            default: throw CaptureError("invalid argument \"\(value)\" for \"\(spelled)\" flag: not a boolean")
            }
        case .duration:
            guard isDuration(value) else {
                throw CaptureError("invalid argument \"\(value)\" for \"\(spelled)\" flag: not a duration such as 5s or 500ms")
            }
            return value
        }
    }

    static func isDuration(_ text: String) -> Bool {
        if text == "0" { return true }
        var rest = Substring(text)
        guard !rest.isEmpty else { return false }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, Double(number) != nil else { return false }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            guard ["ns", "us", "µs", "ms", "s", "m", "h"].contains(String(unit)) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }

    /// istio-iptables' `Validate` (owner groups, loopback CIDR), and the
    /// checks its `Run` makes before touching anything (CIDR lists, `*` as
    /// an exclusion), plus ports that iptables itself would refuse later.
    public func validate() throws(CaptureError) {
        let groups = OwnerGroupFilter(include: ownerGroupsInclude, exclude: ownerGroupsExclude)
        if !groups.except && groups.values.count > 64 {
            throw CaptureError("number of owner groups whose outgoing traffic should be redirected to Envoy cannot exceed 64, got \(groups.values.count)")
        }
        guard let loopback = CIDR(hostIPv4LoopbackCIDR), loopback.isIPv4, loopback.isLoopback else {
            throw CaptureError("ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR: expected an IPv4 loopback CIDR, got \"\(hostIPv4LoopbackCIDR)\"")
        }
        guard (8...32).contains(loopback.bits) else {
            throw CaptureError("ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR: expected a mask in 8...32, got \(loopback.bits)")
        }
        if outboundIPRangesExclude == "*" {
            throw CaptureError("-x/--istio-service-exclude-cidr: \"*\" is not allowed (invalid value for OUTBOUND_IP_RANGES_EXCLUDE)")
        }
        for (list, flag) in [(outboundIPRangesInclude, "-i/--istio-service-cidr"), (outboundIPRangesExclude, "-x/--istio-service-exclude-cidr")]
        where list != "*" {
            for item in Self.split(list) where CIDR(item) == nil {
                throw CaptureError("\(flag): \"\(item)\" is not a CIDR such as 10.96.0.0/16")
            }
        }
        let ports: [(String, String, Bool)] = [
            (proxyPort, "-p/--envoy-port", false), (inboundCapturePort, "-z/--inbound-capture-port", false),
            (inboundTunnelPort, "-e/--inbound-tunnel-port", false), (inboundPortsInclude, "-b/--istio-inbound-ports", true),
            (inboundPortsExclude, "-d/--istio-local-exclude-ports", false),
            (outboundPortsInclude, "-q/--istio-outbound-ports", false),
            (outboundPortsExclude, "-o/--istio-local-outbound-ports-exclude", false),
        ]
        for (list, flag, wildcard) in ports where !(wildcard && list == "*") {
            for item in Self.split(list) where !Self.isPort(item) {
                throw CaptureError("\(flag): \"\(item)\" is not a port (1-65535)")
            }
        }
        for (id, flag) in [(effectiveProxyUID, "-u/--proxy-uid"), (effectiveProxyGID, "-g/--proxy-gid")] {
            for item in Self.split(id) where UInt32(item) == nil {
                throw CaptureError("\(flag): \"\(item)\" is not a numeric id")
            }
        }
        if !["", "REDIRECT", "TPROXY"].contains(inboundInterceptionMode) {
            throw CaptureError("-m/--istio-inbound-interception-mode: \"\(inboundInterceptionMode)\" is neither REDIRECT nor TPROXY")
        }
    }

    /// A port or a `low:high` range, as iptables' `--dport` takes.
    static func isPort(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in UInt16(part).map { $0 > 0 } ?? false }
    }
}

/// ISTIO_OUTBOUND_OWNER_GROUPS(_EXCLUDE) as istio-iptables reads them
/// (`config.ParseInterceptFilter`): with `*` included, capture every group
/// but the excluded ones; otherwise capture only the listed groups.
struct OwnerGroupFilter: Sendable, Hashable {
    var values: [String]
    var except: Bool

    init(include: String, exclude: String) {
        except = include == "*"
        values = CaptureConfiguration.split(except ? exclude : include)
    }
}
