import MeshSystem

/// What a stub resolver needs from /etc/resolv.conf, read as glibc reads it:
/// `nameserver` (up to three), `search` (the last `search` or `domain` line wins),
/// `options ndots:N timeout:N attempts:N`. A pod's file, as meshlab writes it:
///
///     search default.svc.cluster.local svc.cluster.local cluster.local
///     nameserver 10.96.0.10
///     options ndots:5
public struct ResolverConfiguration: Sendable, Equatable {
    public var nameservers: [SocketAddress]
    public var search: [String]
    public var ndots: Int
    public var timeout: Duration
    public var attempts: Int

    public init(nameservers: [SocketAddress] = [.ipv4(.loopback, port: 53)], search: [String] = [], ndots: Int = 1,
                timeout: Duration = .seconds(5), attempts: Int = 2) {
        self.nameservers = nameservers
        self.search = search
        self.ndots = ndots
        self.timeout = timeout
        self.attempts = attempts
    }

    /// Reads the file's text; unknown lines and bad values are skipped, as glibc skips them.
    public static func parse(_ text: String) -> ResolverConfiguration {
        var configuration = ResolverConfiguration(nameservers: [])
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.prefix { $0 != "#" && $0 != ";" }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            let values = words.dropFirst().map(String.init)
            switch keyword {
            case "nameserver":
                if configuration.nameservers.count < 3, let text = values.first, let address = IPv4Address(text) {
                    configuration.nameservers.append(.ipv4(address, port: 53))
                }
            case "search", "domain":
                configuration.search = values.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
            case "options":
                for option in values {
                    let parts = option.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, let number = Int(parts[1]), number >= 0 else { continue }
                    switch parts[0] {
                    case "ndots": configuration.ndots = min(number, 15)
                    case "timeout": configuration.timeout = .seconds(min(max(number, 1), 30))
                    case "attempts": configuration.attempts = min(max(number, 1), 5)
                    default: break
                    }
                }
            default:
                continue
            }
        }
        if configuration.nameservers.isEmpty { configuration.nameservers = [.ipv4(.loopback, port: 53)] }
        return configuration
    }

    /// The names to ask for, in order, as res_search tries them: a name with a
    /// trailing dot only as itself; one with at least `ndots` dots first as itself,
    /// then with each search domain; a shorter one with the domains first.
    public func candidates(for name: String) -> [String] {
        if name.hasSuffix(".") { return [String(name.dropLast())] }
        let dots = name.filter { $0 == "." }.count
        let searched = search.map { name + "." + $0 }
        return dots >= ndots ? [name] + searched : searched + [name]
    }
}

/// The IPv4 entries of an /etc/hosts file (a pod's lists its own name and `localhost`).
public struct HostsFile: Sendable, Equatable {
    public var addresses: [String: IPv4Address]

    public init(addresses: [String: IPv4Address] = [:]) {
        self.addresses = addresses
    }

    /// The first address given for a name wins, as in glibc; names match case-insensitively.
    public static func parse(_ text: String) -> HostsFile {
        var hosts = HostsFile()
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = rawLine.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, let address = IPv4Address(String(words[0])) else { continue }
            for name in words.dropFirst() where hosts.addresses[name.lowercased()] == nil {
                hosts.addresses[name.lowercased()] = address
            }
        }
        return hosts
    }

    public func address(of name: String) -> IPv4Address? {
        addresses[(name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased()]
    }
}
