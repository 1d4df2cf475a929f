/// An IPv4 network in CIDR form (`10.44.0.0/16`).
public struct IPv4CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address, host bits cleared.
    public let network: UInt32
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
            let address = IPv4CIDR.parseAddress(String(parts[0]))
        else { return nil }
        prefixLength = length
        network = address & IPv4CIDR.mask(length)
    }

    public var mask: UInt32 { IPv4CIDR.mask(prefixLength) }
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }
    public var description: String { "\(IPv4CIDR.format(network))/\(prefixLength)" }

    public func contains(_ address: UInt32) -> Bool { address & mask == network }
    public func contains(_ text: String) -> Bool { IPv4CIDR.parseAddress(text).map(contains) ?? false }

    /// The `offset`-th address of the network (0 is the network address itself).
    public func address(at offset: UInt32) -> UInt32 { network &+ offset }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }

    /// Dotted quad → number, strict (no leading zeros, four parts, 0-255).
    public static func parseAddress(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit), let n = UInt32(part), n <= 255,
                part == "0" || !part.hasPrefix("0")
            else { return nil }
            value = value << 8 | n
        }
        return value
    }

    public static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Hands out addresses of a network: pod IPs and Service ClusterIPs.
///
/// Pure and in memory: its state is derived from the objects that hold
/// addresses (pods' `status.podIP`, services' `spec.clusterIP`), which the
/// store persists, so rebuilding it after a restart is `reserve` for each.
/// The network address, the broadcast address and the `reservedLow` first
/// host addresses (the gateway, the DNS service) are never handed out.
/// Allocation continues after the last address given, so an address just
/// released is not reused at once (a late packet cannot reach the wrong pod).
public struct AddressPool: Sendable, Hashable {
    public let cidr: IPv4CIDR
    public let reservedLow: UInt32
    private(set) var used: Set<UInt32> = []
    private var cursor: UInt32

    public init(cidr: IPv4CIDR, reservedLow: UInt32 = 1) {
        self.cidr = cidr
        self.reservedLow = reservedLow
        cursor = reservedLow
    }

    var firstHost: UInt32 { reservedLow + 1 }
    var lastHost: UInt32 { UInt32(min(cidr.size, 1 << 32) - 2) }

    public var allocatedCount: Int { used.count }
    public var capacity: Int { max(0, Int(lastHost) - Int(firstHost) + 1) }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case exhausted(IPv4CIDR)
        case outOfRange(String, IPv4CIDR)
        case alreadyAllocated(String)
        case invalid(String)

        public var description: String {
            switch self {
            case .exhausted(let cidr): "no free address left in \(cidr)"
            case .outOfRange(let address, let cidr): "\(address) is not in the valid range \(cidr)"
            case .alreadyAllocated(let address): "\(address) is already allocated"
            case .invalid(let text): "\"\(text)\" is not an IPv4 address"
            }
        }
    }

    /// The next free address, as text.
    public mutating func allocate() throws(Failure) -> String {
        guard capacity > 0 else { throw .exhausted(cidr) }
        var offset = cursor
        for _ in 0..<capacity {
            offset = offset >= lastHost || offset < firstHost ? firstHost : offset + 1
            let address = cidr.address(at: offset)
            if !used.contains(address) {
                used.insert(address)
                cursor = offset
                return IPv4CIDR.format(address)
            }
        }
        throw .exhausted(cidr)
    }

    /// Marks `text` as taken (a requested ClusterIP, or one found after a restart).
    public mutating func reserve(_ text: String) throws(Failure) {
        guard let address = IPv4CIDR.parseAddress(text) else { throw .invalid(text) }
        let offset = address &- cidr.network
        guard cidr.contains(address), offset >= firstHost, offset <= lastHost else { throw .outOfRange(text, cidr) }
        guard used.insert(address).inserted else { throw .alreadyAllocated(text) }
    }

    public mutating func release(_ text: String) {
        if let address = IPv4CIDR.parseAddress(text) { used.remove(address) }
    }

    public func isAllocated(_ text: String) -> Bool {
        IPv4CIDR.parseAddress(text).map { used.contains($0) } ?? false
    }
}
