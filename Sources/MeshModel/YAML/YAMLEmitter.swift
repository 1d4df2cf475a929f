extension YAML {
    /// The value as YAML in the block style `kubectl get -o yaml` prints:
    /// two-space indentation, sequences under a key not indented
    /// (`containers:\n- name: x`), keys in the object's order, strings
    /// quoted only when they would otherwise read back as something else,
    /// multi-line strings as `|` literal blocks where that is exact.
    ///
    /// `YAML.load(YAML.dump(v)).value == v` for every value, and PyYAML
    /// reads the text back to the same JSON (both are tested).
    public static func dump(_ value: JSONValue) -> String {
        var emitter = YAMLEmitter()
        emitter.writeDocument(value)
        return emitter.out
    }

    /// Several documents, separated by `---` lines.
    public static func dump(documents: [JSONValue]) -> String {
        documents.map { dump($0) }.joined(separator: "---\n")
    }
}

struct YAMLEmitter {
    var out = ""

    /// Keys longer than this are written as explicit `? key` entries:
    /// PyYAML reads a simple key only up to 1024 characters.
    static let maxSimpleKeyLength = 1000

    mutating func writeDocument(_ value: JSONValue) {
        if Self.isBlockCollection(value) {
            writeBlock(value, indent: 0, inlineFirst: true)
        } else {
            writeScalar(value, indent: 0)
            out += "\n"
        }
    }

    private static func isBlockCollection(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let o): !o.isEmpty
        case .array(let a): !a.isEmpty
        default: false
        }
    }

    private mutating func writeIndent(_ indent: Int) {
        out += String(repeating: " ", count: indent)
    }

    /// A non-empty mapping or sequence whose entries start at column
    /// `indent`; the first entry goes where the cursor is when `inlineFirst`
    /// (after `- `, or at the start of the document).
    private mutating func writeBlock(_ value: JSONValue, indent: Int, inlineFirst: Bool) {
        switch value {
        case .object(let object):
            for (i, pair) in object.pairs.enumerated() {
                if i > 0 || !inlineFirst { writeIndent(indent) }
                let key = YAMLEmitter.scalarText(pair.key, indent: indent, allowLiteral: false)
                if key.unicodeScalars.count > YAMLEmitter.maxSimpleKeyLength {
                    out += "? " + key + "\n"
                    writeIndent(indent)
                } else {
                    out += key
                }
                out += ":"
                writeValue(pair.value, indent: indent, afterKey: true)
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                if i > 0 || !inlineFirst { writeIndent(indent) }
                out += "-"
                writeValue(item, indent: indent, afterKey: false)
            }
        default:
            writeScalar(value, indent: indent)
            out += "\n"
        }
    }

    /// A value after `key:` or `-` written at column `indent`.
    private mutating func writeValue(_ value: JSONValue, indent: Int, afterKey: Bool) {
        guard Self.isBlockCollection(value) else {
            out += " "
            writeScalar(value, indent: indent)
            out += "\n"
            return
        }
        if !afterKey {
            // `- key: v` and `- - item`: the collection starts on the dash's line.
            out += " "
            writeBlock(value, indent: indent + 2, inlineFirst: true)
        } else if case .array = value {
            // kubectl style: a sequence under a key is not indented.
            out += "\n"
            writeBlock(value, indent: indent, inlineFirst: false)
        } else {
            out += "\n"
            writeBlock(value, indent: indent + 2, inlineFirst: false)
        }
    }

    /// A scalar or an empty collection, inside a block whose entries are at column `indent`.
    private mutating func writeScalar(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += YAMLFloat.yaml(d)
        case .string(let s): out += YAMLEmitter.scalarText(s, indent: indent, allowLiteral: true)
        case .array: out += "[]"
        case .object: out += "{}"
        }
    }

    // MARK: Strings

    /// The text of a string scalar: plain when that reads back as the same
    /// string, else a literal block (multi-line, when exact), else single
    /// quotes, else double quotes with escapes.
    static func scalarText(_ s: String, indent: Int, allowLiteral: Bool) -> String {
        let analysis = Analysis(s)
        if analysis.plainAllowed { return s }
        if allowLiteral && analysis.literalAllowed { return literal(s, indent: indent) }
        if analysis.singleQuotedAllowed {
            return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        }
        return doubleQuoted(s)
    }

    /// What a string contains, in one pass over its UTF-8 bytes.
    struct Analysis {
        var plainAllowed = false
        var singleQuotedAllowed = true
        var literalAllowed = false

        init(_ s: String) {
            var copy = s
            self = copy.withUTF8 { Analysis($0) }
        }

        init(_ u: UnsafeBufferPointer<UInt8>) {
            guard let first = u.first, let last = u.last else {
                return  // '' for the empty string
            }
            var hasLineFeed = false
            var hasOtherBreak = false  // CR, NEL, LS, PS: not exact in a literal block
            var hasSpecial = false  // needs an escape
            var hasTab = false
            var hasColonSpace = false
            var hasSpaceHash = false
            var hasNonLineFeedContent = false
            var i = 0
            while i < u.count {
                let b = u[i]
                if b < 0x80 {
                    switch b {
                    case 0x0A: hasLineFeed = true
                    case 0x0D: hasOtherBreak = true
                    case 0x09: hasTab = true
                    case 0x20..<0x7F: break
                    default: hasSpecial = true  // other C0 controls and DEL
                    }
                    if b != 0x0A { hasNonLineFeedContent = true }
                    if b == UInt8(ascii: ":") && (i + 1 == u.count || u[i + 1] == 0x20) { hasColonSpace = true }
                    if b == UInt8(ascii: "#") && i > 0 && u[i - 1] == 0x20 { hasSpaceHash = true }
                    i += 1
                } else {
                    let (scalar, length) = YAMLReader.decode(u, at: i) ?? (0xFFFD, 1)
                    switch scalar {
                    case 0x85, 0x2028, 0x2029: hasOtherBreak = true
                    case 0xFEFF: hasSpecial = true
                    default: if !YAMLReader.isPrintable(scalar) { hasSpecial = true }
                    }
                    hasNonLineFeedContent = true
                    i += length
                }
            }
            // A tab is legal in single quotes but invisible there: "\t" says what it is.
            singleQuotedAllowed = !hasLineFeed && !hasOtherBreak && !hasSpecial && !hasTab
            literalAllowed = hasLineFeed && !hasOtherBreak && !hasSpecial && hasNonLineFeedContent
            // `--port` is plain (a dash followed by a non-space), `- x` and `-` are not;
            // `---` and `...` would end a document at the start of a line.
            let dashStart = first == UInt8(ascii: "-") && u.count > 1 && u[1] != 0x20
            let documentMarker = u.count >= 3 && (first == 0x2D || first == 0x2E) && u[1] == first && u[2] == first
            plainAllowed =
                singleQuotedAllowed && !hasColonSpace && !hasSpaceHash && first != 0x20 && last != 0x20
                && (dashStart || !Analysis.isIndicator(first)) && !documentMarker
                && YAMLResolver.resolve(u) == .str && !Analysis.otherResolversSeeANonString(u)
        }

        /// Characters that cannot start a plain scalar (PyYAML also allows
        /// `?` and `:` before a non-space in the block context; quoting them is simpler).
        static func isIndicator(_ b: UInt8) -> Bool {
            switch b {
            case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
                UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
                UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
                UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
                true
            default: false
            }
        }

        /// Texts that PyYAML reads as strings but YAML 1.2 parsers or go-yaml
        /// (Kubernetes) read otherwise: quoted so that the output means the
        /// same everywhere. `y`/`n` (YAML 1.1 booleans in go-yaml), `1e3`,
        /// `0o17`, `+.5` (YAML 1.2 numbers).
        static func otherResolversSeeANonString(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
            func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
            func isHex(_ b: UInt8) -> Bool {
                isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "f"))
            }
            if u.count == 1
                && [UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N")].contains(u[0])
            {
                return true
            }
            var i = 0
            func digits(_ allowed: (UInt8) -> Bool) -> Int {
                let start = i
                while i < u.count && allowed(u[i]) { i += 1 }
                return i - start
            }
            if u.count > 2 && u[0] == UInt8(ascii: "0") && (u[1] == UInt8(ascii: "o") || u[1] == UInt8(ascii: "x")) {
                i = 2
                return digits(
                    u[1] == UInt8(ascii: "o") ? { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") } : isHex)
                    > 0 && i == u.count
            }
            // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
            if i < u.count && (u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+")) { i += 1 }
            var mantissa = digits(isDigit)
            if i < u.count && u[i] == UInt8(ascii: ".") {
                i += 1
                mantissa += digits(isDigit)
            }
            guard mantissa > 0 else { return false }
            if i < u.count && (u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E")) {
                i += 1
                if i < u.count && (u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+")) { i += 1 }
                guard digits(isDigit) > 0 else { return false }
            }
            return i == u.count
        }
    }

    /// `|`, `|-` or `|+` (with an explicit indentation indicator when the
    /// text starts with a space or a line break), lines at `indent + 2`.
    static func literal(_ s: String, indent: Int) -> String {
        var lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        var header = "|"
        if s.hasPrefix(" ") || s.hasPrefix("\n") { header += "2" }
        // A final line break leaves an empty last element; more are kept with `+`.
        var trailing = 0
        while lines.count > 1 && lines.last == "" {
            lines.removeLast()
            trailing += 1
        }
        if trailing == 0 { header += "-" } else if trailing > 1 { header += "+" }
        let pad = String(repeating: " ", count: indent + 2)
        var out = header
        for line in lines {
            out += "\n"
            if !line.isEmpty { out += pad + line }
        }
        // Lines after the last content line that `+` keeps.
        out += String(repeating: "\n", count: max(0, trailing - 1))
        return out
    }

    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x00: out += "\\0"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0B: out += "\\v"
            case 0x0C: out += "\\f"
            case 0x0D: out += "\\r"
            case 0x1B: out += "\\e"
            case 0x85: out += "\\N"
            case 0x2028: out += "\\L"
            case 0x2029: out += "\\P"
            case let v where v == 0xFEFF || !YAMLReader.isPrintable(v):
                if v <= 0xFF {
                    out += "\\x" + YAMLReader.hex(v, width: 2)
                } else if v <= 0xFFFF {
                    out += "\\u" + YAMLReader.hex(v, width: 4)
                } else {
                    out += "\\U" + YAMLReader.hex(v, width: 8)
                }
            default:
                out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
