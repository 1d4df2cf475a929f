/// One iptables rule as istio-iptables builds it (its builder's `Rule`):
/// a table, the chain it goes in, whether it is appended or inserted, and
/// the match and target words. Rules are data: `IptablesScript` renders
/// them as iptables-restore input, `-C` checks and `-D`/`-F`/`-X` cleanup.
public struct IptablesRule: Sendable, Hashable, CustomStringConvertible {
    public enum Table: String, Sendable, Hashable, CaseIterable, Comparable {
        case filter, mangle, nat, raw

        public static func < (a: Table, b: Table) -> Bool { a.rawValue < b.rawValue }
    }

    public enum Placement: Sendable, Hashable {
        /// `-A CHAIN`.
        case append
        /// `-I CHAIN position` (1 is the top).
        case insert(position: Int)
    }

    public var table: Table
    public var chain: String
    public var placement: Placement
    /// Everything after the chain (and position): matches, then `-j TARGET ...`.
    public var parameters: [String]

    public init(_ table: Table, _ chain: String, _ placement: Placement = .append, _ parameters: [String]) {
        self.table = table
        self.chain = chain
        self.placement = placement
        self.parameters = parameters
    }

    /// The chains iptables has of its own: never created or deleted by us.
    public static let builtInChains: Set<String> = ["INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"]

    /// Targets that are not chains.
    static let builtInTargets: Set<String> = [
        "ACCEPT", "RETURN", "DROP", "REJECT", "REDIRECT", "DNAT", "SNAT", "MASQUERADE", "MARK", "CONNMARK", "TPROXY",
        "CT", "NFLOG", "LOG",
    ]

    /// The words after the table: `-A CHAIN ...` or `-I CHAIN N ...`.
    public var words: [String] {
        switch placement {
        case .append: ["-A", chain] + parameters
        case .insert(let position): ["-I", chain, String(position)] + parameters
        }
    }

    /// The chain this rule jumps to, when its target is a chain (`-j ISTIO_REDIRECT`).
    public var jumpTarget: String? {
        guard parameters.count >= 2, parameters[parameters.count - 2] == "-j" else { return nil }
        let target = parameters[parameters.count - 1]
        return Self.builtInChains.contains(target) || Self.builtInTargets.contains(target) ? nil : target
    }

    /// The chain the rule sits in is one iptables has of its own.
    public var isInBuiltInChain: Bool { Self.builtInChains.contains(chain) }

    /// As in an iptables-restore file: `-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN`.
    public var description: String { words.joined(separator: " ") }
}
