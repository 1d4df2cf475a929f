/// A domain name as a list of labels (RFC 1035 §3.1), fully qualified.
///
/// Labels are raw bytes: DNS allows any byte in a label, and a name read off the wire
/// is kept exactly as it came so that an answer echoes the question's case (RFC 4343 §4.1).
/// Equality and hashing ignore ASCII case (RFC 4343 §3), as every comparison in DNS does;
/// compare `labels` directly to check bytes.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Left to right, without the root's empty label: `reviews.default.svc.cluster.local.`
    /// is `["reviews", "default", "svc", "cluster", "local"]`.
    public let labels: [[UInt8]]

    /// Longest label and longest name on the wire (RFC 1035 §2.3.4).
    public static let maximumLabelLength = 63
    public static let maximumWireLength = 255

    public static let root = DNSName(unchecked: [])

    /// Labels already checked against the limits (the wire reader checks as it goes).
    init(unchecked labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Nil when a label is empty or longer than 63 bytes, or the name longer than 255 on the wire.
    public init?(labels: [[UInt8]]) {
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= DNSName.maximumLabelLength }),
            DNSName.wireLength(of: labels) <= DNSName.maximumWireLength
        else { return nil }
        self.labels = labels
    }

    /// Parses presentation text: `reviews.default.svc.cluster.local` with or without the
    /// trailing dot (both mean the fully qualified name), `.` for the root. No escapes:
    /// meshlab only makes names from Kubernetes names and IP addresses.
    public init?(_ text: String) {
        if text == "." {
            self = .root
            return
        }
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        self.init(labels: body.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) })
    }

    /// Bytes on the wire without compression: a length byte per label, then the root's zero.
    public var wireLength: Int { DNSName.wireLength(of: labels) }

    static func wireLength(of labels: [[UInt8]]) -> Int {
        labels.reduce(1) { $0 + 1 + $1.count }
    }

    public var isRoot: Bool { labels.isEmpty }

    /// The labels lowercased (ASCII only, RFC 4343), for lookups.
    public var lowercasedLabels: [[UInt8]] { labels.map(DNSName.lowercased) }

    /// Whether this name is `suffix` or below it (case-insensitive).
    public func isSubdomain(of suffix: DNSName) -> Bool {
        guard suffix.labels.count <= labels.count else { return false }
        return zip(labels.suffix(suffix.labels.count), suffix.labels).allSatisfy(DNSName.equalIgnoringCase)
    }

    /// The labels left of `suffix` (lowercased), or nil when this name is not under it.
    public func relativeLabels(to suffix: DNSName) -> [[UInt8]]? {
        guard isSubdomain(of: suffix) else { return nil }
        return labels.dropLast(suffix.labels.count).map(DNSName.lowercased)
    }

    /// `label.` + this name; nil when the result would break the limits.
    public func prepending(_ label: String) -> DNSName? {
        DNSName(labels: [Array(label.utf8)] + labels)
    }

    /// Presentation form with the trailing dot; bytes outside printable ASCII, dots
    /// and backslashes inside labels are escaped as `\DDD` / `\.` (RFC 1035 §5.1).
    public var description: String {
        if labels.isEmpty { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
                    UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text.append("\\")
                    text.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7e:
                    text.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            text.append(".")
        }
        return text
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.labels.count == rhs.labels.count && zip(lhs.labels, rhs.labels).allSatisfy(equalIgnoringCase)
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(DNSName.lowercased(byte)) }
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    static func lowercased(_ label: [UInt8]) -> [UInt8] {
        label.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) } ? label.map(lowercased) : label
    }

    static func equalIgnoringCase(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { lowercased($0) == lowercased($1) }
    }
}

extension DNSName: ExpressibleByStringLiteral {
    /// For literals in code and tests; a literal that is not a valid name is a programming error.
    public init(stringLiteral text: String) {
        guard let name = DNSName(text) else { preconditionFailure("not a valid DNS name literal: \(text)") }
        self = name
    }
}
