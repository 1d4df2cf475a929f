/// A Kubernetes resource quantity (`100m`, `64Mi`, `1.5`, `2e3`), kept as
/// written and checked against Kubernetes' grammar. A JSON number is accepted
/// too (`cpu: 1`), as Kubernetes' own decoder accepts it.
public struct Quantity: Codable, Sendable, Hashable, Comparable, CustomStringConvertible, SchemaPlaceholder {
    public let text: String
    /// The amount in base units (cores, bytes), as a Double: exact enough to
    /// compare requests with limits and to size things, not to do accounting.
    public let value: Double

    public init?(_ text: String) {
        guard let value = Self.parse(text) else { return nil }
        self.text = text
        self.value = value
    }

    public var description: String { text }
    public static var schemaPlaceholder: Quantity { Quantity("0")! }

    /// Thousandths, rounded up (CPU in millicores), as Kubernetes' MilliValue.
    /// Saturates at Int64's bounds for absurd quantities rather than trapping.
    public var milliValue: Int64 {
        let milli = (value * 1000).rounded(.up)
        guard milli.isFinite else { return milli < 0 ? .min : .max }
        return milli >= 9.2e18 ? .max : milli <= -9.2e18 ? .min : Int64(milli)
    }

    public static func == (a: Quantity, b: Quantity) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    public static func < (a: Quantity, b: Quantity) -> Bool { a.value < b.value }

    public static let syntaxError =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(JSONValue.self)
        let text: String
        switch raw {
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .double(let d): text = JSONValue.format(double: d)
        default: throw FieldError.typeMismatch(expected: "string", actual: raw)
        }
        guard let quantity = Quantity(text) else { throw FieldError.invalid(raw, Self.syntaxError) }
        self = quantity
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// `<signed decimal><suffix>`; suffix is a binary-SI (`Ki`..`Ei`),
    /// decimal-SI (`n u m k M G T P E`) or exponent (`e3`, `E-2`) suffix.
    static func parse(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let numberEnd = rest.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? rest.endIndex
        var number = String(rest[..<numberEnd])
        let suffix = String(rest[numberEnd...])
        guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1 else { return nil }
        if number.hasPrefix(".") { number = "0" + number }
        if number.hasSuffix(".") { number += "0" }
        guard let base = Double(number) else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
            "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976,
        ]
        if let multiplier = multipliers[suffix] { return sign * base * multiplier }
        // Exponent form: e or E, then an optionally signed integer.
        guard let first = suffix.first, first == "e" || first == "E" else { return nil }
        var exponentText = suffix.dropFirst()
        var exponentSign = 1
        if let s = exponentText.first, s == "+" || s == "-" {
            exponentSign = s == "-" ? -1 : 1
            exponentText = exponentText.dropFirst()
        }
        guard !exponentText.isEmpty, exponentText.utf8.allSatisfy(KubernetesNames.isDigit), let exponent = Int(exponentText),
            exponent < 400
        else { return nil }
        var scale = 1.0
        for _ in 0..<exponent { scale *= 10 }
        return sign * (exponentSign > 0 ? base * scale : base / scale)
    }
}
