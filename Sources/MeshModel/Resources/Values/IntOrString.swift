/// A Kubernetes `int-or-string` value: a Service's `targetPort` (`8080` or
/// `http`), a Deployment's `maxSurge` (`1` or `25%`).
public enum IntOrString: Codable, Sendable, Hashable, CustomStringConvertible, SchemaPlaceholder {
    case int(Int32)
    case string(String)

    public static var schemaPlaceholder: IntOrString { .int(0) }

    public var intValue: Int32? { if case .int(let i) = self { i } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): s
        }
    }

    /// The value as `Diagnostic`s print it (a number, or a quoted string).
    public var jsonValue: JSONValue {
        switch self {
        case .int(let i): .int(Int(i))
        case .string(let s): .string(s)
        }
    }

    /// The number in a `NN%` string; nil for ints and other strings.
    public var percent: Int? {
        guard case .string(let s) = self, s.hasSuffix("%"), s.count > 1 else { return nil }
        let digits = s.dropLast()
        guard digits.utf8.allSatisfy(KubernetesNames.isDigit) else { return nil }
        return Int(digits)
    }

    /// An int as is, or a percentage of `total` rounded up or down
    /// (Kubernetes' GetScaledValueFromIntOrPercent); nil for a string that is
    /// not a percentage (or one too large to compute).
    public func scaled(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let i): return Int(i)
        case .string:
            guard let percent else { return nil }
            let (product, overflow) = percent.multipliedReportingOverflow(by: total)
            guard !overflow, product <= Int.max - 99 else { return nil }
            return roundUp ? (product + 99) / 100 : product / 100
        }
    }

    /// Kubernetes' message for a string that should be a percentage.
    public static let percentError =
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(JSONValue.self)
        switch raw {
        case .string(let s): self = .string(s)
        case .int(let i):
            guard let small = Int32(exactly: i) else { throw FieldError.invalid(raw, "must fit in 32 bits") }
            self = .int(small)
        case .double(let d) where d.rounded(.towardZero) == d:
            guard let small = Int32(exactly: d) else { throw FieldError.invalid(raw, "must fit in 32 bits") }
            self = .int(small)
        default:
            throw FieldError.typeMismatch(expected: "integer or string", actual: raw)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let i): try container.encode(i)
        case .string(let s): try container.encode(s)
        }
    }
}

extension IntOrString: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int32) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
