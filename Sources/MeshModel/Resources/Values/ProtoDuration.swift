/// A `google.protobuf.Duration` field as Istio's resources write it: `10s`, `0.5s`, `300ms`,
/// `1m`, `1h30m` (Go's duration syntax, which the CRDs' CEL `duration()` and
/// Istio's own parser accept; protobuf's JSON form `1.5s` is a subset).
///
/// Istio's CRD schema puts one rule on every duration field —
/// `duration(self) >= duration('1ms')`, message `must be a valid duration
/// greater than 1ms` — so `0s` and `apple` are rejected as the apiserver
/// would: `spec.x: Invalid value: "string": must be a valid duration greater
/// than 1ms` (a YAML number, `10`, is a type error). The text is kept as
/// written, so an object reads back as it was applied.
public struct ProtoDuration: Codable, Sendable, Hashable, Comparable, CustomStringConvertible, SchemaPlaceholder {
    public let nanoseconds: Int64
    /// The text it was written as (or a canonical form when built in code).
    public let text: String

    public static let minimum = ProtoDuration(nanoseconds: 1_000_000)
    static let ruleMessage = "must be a valid duration greater than 1ms"

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
        self.text = Self.render(nanoseconds)
    }

    public init(seconds: Double) { self.init(nanoseconds: Int64((seconds * 1e9).rounded())) }
    public init(milliseconds: Int64) { self.init(nanoseconds: milliseconds * 1_000_000) }

    /// Parses Go's syntax (`-1.5h`, `2m3s`, `300ms`, `10us`, `0`); nil when malformed or out of range.
    public init?(parsing text: String) {
        guard let ns = Self.parse(text) else { return nil }
        self.nanoseconds = ns
        self.text = text
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var description: String { text }

    public static var schemaPlaceholder: ProtoDuration { .minimum }

    public static func == (a: ProtoDuration, b: ProtoDuration) -> Bool { a.nanoseconds == b.nanoseconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(nanoseconds) }
    public static func < (a: ProtoDuration, b: ProtoDuration) -> Bool { a.nanoseconds < b.nanoseconds }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(JSONValue.self)
        guard case .string(let text) = raw else { throw FieldError.typeMismatch(expected: "string", actual: raw) }
        guard let parsed = ProtoDuration(parsing: text), parsed >= .minimum else {
            throw FieldError.invalid(.string("string"), Self.ruleMessage)
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// `90s`, `1.5s`, `250ms` — the shortest exact form in seconds or milliseconds.
    static func render(_ ns: Int64) -> String {
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 && abs(ns) < 1_000_000_000 { return "\(ns / 1_000_000)ms" }
        var fraction = String(abs(ns) % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (ns < 0 ? "-" : "") + "\(abs(ns) / 1_000_000_000).\(fraction)s"
    }

    static func parse(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        if bytes.elementsEqual("0".utf8) { return 0 }
        guard !bytes.isEmpty else { return nil }
        var total: Double = 0
        while !bytes.isEmpty {
            let numberEnd = bytes.firstIndex { !(KubernetesNames.isDigit($0) || $0 == UInt8(ascii: ".")) } ?? bytes.endIndex
            let number = String(decoding: bytes[..<numberEnd], as: UTF8.self)
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : number.hasSuffix(".") ? number + "0" : number)
            else { return nil }
            bytes = bytes[numberEnd...]
            let unitEnd = bytes.firstIndex { KubernetesNames.isDigit($0) || $0 == UInt8(ascii: ".") } ?? bytes.endIndex
            let unit = String(decoding: bytes[..<unitEnd], as: UTF8.self)
            bytes = bytes[unitEnd...]
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
        }
        guard total < 9.2e18 else { return nil }
        let ns = Int64(total.rounded())
        return negative ? -ns : ns
    }
}
