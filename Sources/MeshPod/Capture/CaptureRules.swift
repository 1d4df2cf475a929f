import MeshSystem

/// An IPv4 or IPv6 prefix as Go's netip.ParsePrefix reads one: the address
/// is kept as written (`127.0.0.1/24` stays so), and printed canonically.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        case v4(IPv4Address)
        case v6(IPv6Address)
    }

    public var address: Address
    public var bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else { return nil }
        if let v4 = IPv4Address(String(parts[0])), !parts[0].contains(":") {
            guard bits <= 32 else { return nil }
            address = .v4(v4)
        } else if let v6 = IPv6Address(String(parts[0])) {
            guard bits <= 128 else { return nil }
            address = .v6(v6)
        } else {
            return nil
        }
        self.bits = bits
    }

    public var isIPv4: Bool { if case .v4 = address { true } else { false } }

    public var isLoopback: Bool {
        switch address {
        case .v4(let a): a.isLoopback
        case .v6(let a): a.isLoopback
        }
    }

    public var description: String {
        switch address {
        case .v4(let a): "\(a)/\(bits)"
        case .v6(let a): "\(a)/\(bits)"
        }
    }
}

/// The rules istio-iptables writes for a configuration: its capture
/// `IptablesConfigurator.Run` (tools/istio-iptables/pkg/capture/run.go) as
/// a pure function, in the same order, for IPv4 (the lab's pods have IPv4
/// addresses only, which is when istio-iptables writes no IPv6 rules).
///
/// What meshlab leaves out, each refused or reported rather than half done:
/// TPROXY interception (it needs policy routing next to the rules), native
/// nftables, and DNS capture (nothing in the lab answers on 15053; the rules
/// are left out and `notes` says so).
public struct CaptureRules: Sendable, Hashable {
    public var rules: [IptablesRule]
    /// Things the caller should tell the user (left-out parts).
    public var notes: [String]

    public static let loopbackPassthroughSource = "127.0.0.6/32"

    public init(_ configuration: CaptureConfiguration) throws(CaptureError) {
        try configuration.validate()
        if configuration.inboundInterceptionMode == "TPROXY" {
            throw CaptureError("-m TPROXY: meshlab captures inbound traffic with REDIRECT only (TPROXY needs policy routing the lab does not set up)")
        }
        if configuration.nativeNftables {
            throw CaptureError("--native-nftables: meshlab writes iptables rules only")
        }
        var builder = Builder()
        var notes: [String] = []
        let split = CaptureConfiguration.split
        let include = Self.ranges(configuration.outboundIPRangesInclude)
        let exclude = Self.ranges(configuration.outboundIPRangesExclude)
        let loopback = configuration.hostIPv4LoopbackCIDR
        let tunnel = configuration.inboundTunnelPort
        if configuration.redirectDNS {
            notes.append("DNS capture (--redirect-dns) is not done in meshlab: DNS goes to the lab's DNS server uncaptured")
        }

        // Interfaces left alone.
        for interface in split(configuration.excludeInterfaces) {
            builder.append(.nat, "PREROUTING", "-i", interface, "-j", "RETURN")
            builder.append(.nat, "OUTPUT", "-o", interface, "-j", "RETURN")
        }
        for interface in split(configuration.rerouteVirtualInterfaces) {
            builder.insert(.nat, "PREROUTING", 1, "-i", interface, "-j", "RETURN")
        }
        if configuration.dropInvalid {
            builder.append(.mangle, "PREROUTING", "-m", "conntrack", "--ctstate", "INVALID", "-j", "ISTIO_DROP")
            builder.append(.mangle, "ISTIO_DROP", "-j", "DROP")
        }
        // The tunnel port, and the two redirect chains.
        builder.append(.nat, "ISTIO_INBOUND", "-p", "tcp", "--dport", tunnel, "-j", "RETURN")
        builder.append(.nat, "ISTIO_REDIRECT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", configuration.proxyPort)
        builder.append(.nat, "ISTIO_IN_REDIRECT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", configuration.inboundCapturePort)

        // Inbound.
        let inbound = configuration.inboundPortsInclude
        if !inbound.isEmpty {
            builder.append(.nat, "PREROUTING", "-p", "tcp", "-j", "ISTIO_INBOUND")
            if inbound == "*" {
                for port in split(configuration.inboundPortsExclude) {
                    builder.append(.nat, "ISTIO_INBOUND", "-p", "tcp", "--dport", port, "-j", "RETURN")
                }
                builder.append(.nat, "ISTIO_INBOUND", "-p", "tcp", "-j", "ISTIO_IN_REDIRECT")
            } else {
                for port in split(inbound) {
                    builder.append(.nat, "ISTIO_INBOUND", "-p", "tcp", "--dport", port, "-j", "ISTIO_IN_REDIRECT")
                }
            }
        }

        // Outbound.
        builder.append(.nat, "OUTPUT", "-j", "ISTIO_OUTPUT")
        for port in split(configuration.outboundPortsExclude) {
            builder.append(.nat, "ISTIO_OUTPUT", "-p", "tcp", "--dport", port, "-j", "RETURN")
            builder.append(.nat, "ISTIO_OUTPUT", "-p", "udp", "--dport", port, "-j", "RETURN")
        }
        // Envoy's inbound passthrough connects from 127.0.0.6.
        builder.append(.nat, "ISTIO_OUTPUT", "-o", "lo", "-s", Self.loopbackPassthroughSource, "-j", "RETURN")
        for (owner, ids) in [("--uid-owner", split(configuration.effectiveProxyUID)),
                             ("--gid-owner", split(configuration.effectiveProxyGID))] {
            for id in ids {
                // The app calling itself through a service VIP: app → Envoy (outbound) → Envoy (inbound) → app.
                builder.append(.nat, "ISTIO_OUTPUT", "-o", "lo", "!", "-d", loopback, "-p", "tcp", "!", "--dport", tunnel,
                               "-m", "owner", owner, id, "-j", "ISTIO_IN_REDIRECT")
                // The app calling itself by its own address, unless loopback ranges are captured on purpose.
                if !include.hasLoopback {
                    builder.append(.nat, "ISTIO_OUTPUT", "-o", "lo", "-m", "owner", "!", owner, id, "-j", "RETURN")
                }
                // The proxy's own traffic is never captured (no loops).
                builder.append(.nat, "ISTIO_OUTPUT", "-m", "owner", owner, id, "-j", "RETURN")
            }
        }
        let groups = OwnerGroupFilter(include: configuration.ownerGroupsInclude, exclude: configuration.ownerGroupsExclude)
        if groups.except {
            for group in groups.values {
                builder.append(.nat, "ISTIO_OUTPUT", "-m", "owner", "--gid-owner", group, "-j", "RETURN")
            }
        } else {
            let noneOf = groups.values.flatMap { ["-m", "owner", "!", "--gid-owner", $0] }
            builder.append(.nat, "ISTIO_OUTPUT", noneOf + ["-j", "RETURN"])
        }
        // Localhost: Envoy-aware apps and container-to-container calls.
        builder.append(.nat, "ISTIO_OUTPUT", "-d", loopback, "-j", "RETURN")
        for cidr in exclude.v4 {
            builder.append(.nat, "ISTIO_OUTPUT", "-d", cidr.description, "-j", "RETURN")
        }
        for port in split(configuration.outboundPortsInclude) {
            builder.append(.nat, "ISTIO_OUTPUT", "-p", "tcp", "--dport", port, "-j", "ISTIO_REDIRECT")
        }
        if include.wildcard {
            builder.append(.nat, "ISTIO_OUTPUT", "-j", "ISTIO_REDIRECT")
            for interface in split(configuration.rerouteVirtualInterfaces) {
                builder.insert(.nat, "PREROUTING", 1, "-i", interface, "-j", "ISTIO_REDIRECT")
            }
        } else {
            for cidr in include.v4 {
                for interface in split(configuration.rerouteVirtualInterfaces) {
                    builder.insert(.nat, "PREROUTING", 1, "-i", interface, "-d", cidr.description, "-j", "ISTIO_REDIRECT")
                }
                builder.append(.nat, "ISTIO_OUTPUT", "-d", cidr.description, "-j", "ISTIO_REDIRECT")
            }
        }
        rules = builder.rules
        self.notes = notes
    }

    /// A CIDR list split by family (`separateV4V6`); validated beforehand.
    struct Ranges {
        var wildcard = false
        var v4: [CIDR] = []
        var hasLoopback = false
    }

    static func ranges(_ list: String) -> Ranges {
        if list == "*" { return Ranges(wildcard: true) }
        var ranges = Ranges()
        for item in CaptureConfiguration.split(list) {
            guard let cidr = CIDR(item) else { continue }
            if cidr.isIPv4 { ranges.v4.append(cidr) }
            // Either family's loopback turns the "app calls itself" RETURN off, as in istio-iptables.
            if cidr.isLoopback { ranges.hasLoopback = true }
        }
        return ranges
    }

    struct Builder {
        var rules: [IptablesRule] = []

        mutating func append(_ table: IptablesRule.Table, _ chain: String, _ parameters: String...) {
            append(table, chain, parameters)
        }

        mutating func append(_ table: IptablesRule.Table, _ chain: String, _ parameters: [String]) {
            rules.append(IptablesRule(table, chain, .append, parameters))
        }

        mutating func insert(_ table: IptablesRule.Table, _ chain: String, _ position: Int, _ parameters: String...) {
            rules.append(IptablesRule(table, chain, .insert(position: position), parameters))
        }
    }
}
