/// How `JSONValue.serialized` lays out its text.
public struct JSONFormat: Sendable, Hashable {
    /// Spaces per level; 0 means compact, on one line.
    public var indent: Int
    /// Keys in byte order instead of insertion order (deterministic output).
    public var sortedKeys: Bool

    public init(indent: Int = 0, sortedKeys: Bool = false) {
        self.indent = indent
        self.sortedKeys = sortedKeys
    }

    public static let compact = JSONFormat()
    /// What `kubectl get -o json` prints: four-space indent, fields as stored.
    public static let kubectl = JSONFormat(indent: 4)
    /// Deterministic text for golden files and comparisons.
    public static let canonical = JSONFormat(indent: 0, sortedKeys: true)
}

extension JSONValue {
    /// The value as JSON text. Non-finite doubles, which JSON cannot express,
    /// are written as Python's json module writes them (`NaN`, `Infinity`).
    public func serialized(_ format: JSONFormat = .compact) -> String {
        var out = ""
        write(to: &out, format: format, level: 0)
        return out
    }

    public func serializedBytes(_ format: JSONFormat = .compact) -> [UInt8] {
        Array(serialized(format).utf8)
    }

    private func write(to out: inout String, format: JSONFormat, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONValue.format(double: d)
        case .string(let s): JSONValue.writeQuoted(s, to: &out)
        case .array(let elements):
            if elements.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                newline(&out, format: format, level: level + 1)
                element.write(to: &out, format: format, level: level + 1)
            }
            newline(&out, format: format, level: level)
            out += "]"
        case .object(let object):
            if object.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            let pairs = format.sortedKeys ? object.sortedPairs : object.pairs
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                newline(&out, format: format, level: level + 1)
                JSONValue.writeQuoted(pair.key, to: &out)
                out += format.indent > 0 ? ": " : ":"
                pair.value.write(to: &out, format: format, level: level + 1)
            }
            newline(&out, format: format, level: level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, format: JSONFormat, level: Int) {
        guard format.indent > 0 else { return }
        out += "\n"
        out += String(repeating: " ", count: format.indent * level)
    }

    /// Shortest text that reads back as the same double; integral values keep a `.0`.
    public static func format(double d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return d.description
    }

    public static func writeQuoted(_ s: String, to out: inout String) {
        out += "\""
        // Most strings need no escaping: append them whole rather than scalar by scalar.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        var run = Substring.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let escaped: String? =
                switch scalar {
                case "\"": "\\\""
                case "\\": "\\\\"
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                case "\u{08}": "\\b"
                case "\u{0C}": "\\f"
                default:
                    scalar.value < 0x20 ? "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16) : nil
                }
            if let escaped {
                out.unicodeScalars.append(contentsOf: run)
                run = Substring.UnicodeScalarView()
                out += escaped
            } else {
                run.append(scalar)
            }
        }
        out.unicodeScalars.append(contentsOf: run)
        out += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { serialized() }
}
