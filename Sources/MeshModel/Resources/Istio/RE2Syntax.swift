/// Whether a pattern is valid RE2 syntax, checked the way Istio checks it:
/// Go's regexp/syntax parser with Perl extensions (what `regexp.Compile`
/// uses), which accepts exactly RE2's syntax.
///
/// It is a parser that builds nothing: it walks the pattern, keeps the little
/// state Go's parser consults when it rejects something (open groups, whether
/// there is an operand to repeat, whether the previous token was a
/// repetition), and returns Go's error text. It rejects what RE2 does not
/// support (lookaround `(?=` `(?!` `(?<=`, backreferences `\1`, possessive
/// and stacked quantifiers `a*+` `a**`, atomic groups `(?>`, `\Z`, `\G`) and
/// malformed patterns (unbalanced parentheses or brackets, a repetition with
/// nothing to repeat, inverted ranges, counts over 1000, bad escapes).
///
/// Not checked: Go's limits on the compiled size of nested repetitions
/// (`((a{1000}){1000}){1000}`) and whether a `\p{Name}` names a real Unicode
/// class (any letters are accepted).
public enum RE2Syntax {
    /// Go's message for the first syntax error in `pattern`, e.g.
    /// ``error parsing regexp: invalid or unsupported Perl syntax: `(?=` ``, or nil.
    public static func error(in pattern: String) -> String? {
        var parser = Parser(Array(pattern.unicodeScalars))
        do {
            try parser.parse()
            return nil
        } catch {
            return "error parsing regexp: \(error.code.rawValue): `\(error.expression)`"
        }
    }

    struct Failure: Error {
        var code: Code
        var expression: String
    }

    /// regexp/syntax ErrorCode texts.
    enum Code: String {
        case invalidCharClass = "invalid character class"
        case invalidCharRange = "invalid character class range"
        case invalidEscape = "invalid escape sequence"
        case invalidNamedCapture = "invalid named capture"
        case invalidPerlOp = "invalid or unsupported Perl syntax"
        case invalidRepeatOp = "invalid nested repetition operator"
        case invalidRepeatSize = "invalid repeat count"
        case missingBracket = "missing closing ]"
        case missingParen = "missing closing )"
        case missingRepeatArgument = "missing argument to repetition operator"
        case trailingBackslash = "trailing backslash at end of expression"
        case unexpectedParen = "unexpected )"
        case nestingDepth = "expression nests too deeply"
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0
        /// Open groups.
        var depth = 0
        /// Whether the last thing parsed can take a repetition operator (Go:
        /// the stack's top is not a `(` or `|` marker and not empty).
        var hasOperand = false
        /// Where the previous token started when it was a repetition operator.
        var lastRepeat: Int?

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func parse() throws(Failure) {
            while position < scalars.count {
                let start = position
                var isRepeat = false
                switch scalars[position] {
                case "(":
                    if peek(1) == "?" {
                        try perlGroup()
                    } else {
                        position += 1
                        try open()
                    }
                case "|":
                    position += 1
                    hasOperand = false
                case ")":
                    guard depth > 0 else { throw Failure(code: .unexpectedParen, expression: text(0, scalars.count)) }
                    depth -= 1
                    position += 1
                    hasOperand = true
                case "^", "$", ".":
                    position += 1
                    hasOperand = true
                case "[":
                    try characterClass()
                    hasOperand = true
                case "*", "+", "?":
                    position += 1
                    try repetition(start: start)
                    isRepeat = true
                case "{":
                    if let (minimum, maximum, end) = repeatCount(at: position) {
                        if minimum < 0 || minimum > 1000 || maximum > 1000 || (maximum >= 0 && minimum > maximum) {
                            throw Failure(code: .invalidRepeatSize, expression: text(start, end))
                        }
                        position = end
                        try repetition(start: start)
                        isRepeat = true
                    } else {
                        position += 1
                        hasOperand = true
                    }
                case "\\":
                    try topLevelEscape()
                default:
                    position += 1
                    hasOperand = true
                }
                lastRepeat = isRepeat ? start : nil
            }
            if depth > 0 { throw Failure(code: .missingParen, expression: text(0, scalars.count)) }
        }

        private mutating func open() throws(Failure) {
            depth += 1
            if depth > 1000 { throw Failure(code: .nestingDepth, expression: text(0, scalars.count)) }
            hasOperand = false
        }

        /// After `*`, `+`, `?` or `{n,m}` (already consumed): an optional `?`
        /// makes it lazy; stacking another repetition or having nothing to
        /// repeat is an error.
        private mutating func repetition(start: Int) throws(Failure) {
            if peek(0) == "?" { position += 1 }
            if let lastRepeat { throw Failure(code: .invalidRepeatOp, expression: text(lastRepeat, position)) }
            if !hasOperand { throw Failure(code: .missingRepeatArgument, expression: text(start, position)) }
        }

        /// `{n}`, `{n,}` or `{n,m}` at `index`: (min, max or -1, end). Numbers
        /// with leading zeros do not count, and then `{` is a literal.
        private func repeatCount(at index: Int) -> (Int, Int, Int)? {
            var i = index + 1
            func number() -> Int? {
                let begin = i
                while i < scalars.count, ("0"..."9").contains(scalars[i]) { i += 1 }
                guard i > begin else { return nil }
                if i - begin >= 2 && scalars[begin] == "0" { return nil }
                let digits = String(String.UnicodeScalarView(scalars[begin..<i]))
                return digits.count > 8 ? -1 : Int(digits)
            }
            guard let minimum = number(), i < scalars.count else { return nil }
            var maximum = minimum
            if scalars[i] == "," {
                i += 1
                guard i < scalars.count else { return nil }
                if scalars[i] == "}" {
                    maximum = -1
                } else {
                    guard let value = number() else { return nil }
                    maximum = value
                }
            }
            guard i < scalars.count, scalars[i] == "}" else { return nil }
            // A maximum too big to read makes the whole count invalid.
            return (maximum < -1 || (maximum == -1 && scalars[i - 1] != ",") ? -1 : minimum, maximum, i + 1)
        }

        /// `(?` : a named capture `(?P<name>` / `(?<name>`, or flags `(?imsU-imsU)` / `(?flags:`.
        private mutating func perlGroup() throws(Failure) {
            let start = position
            let afterQuestion = position + 2
            if (peek(2) == "P" && peek(3) == "<" && scalars.count - position > 4) || (peek(2) == "<" && scalars.count - position > 3) {
                let begin = peek(2) == "<" ? position + 3 : position + 4
                guard let close = scalars[begin...].firstIndex(of: ">") else {
                    throw Failure(code: .invalidNamedCapture, expression: text(start, scalars.count))
                }
                let name = scalars[begin..<close]
                let valid = !name.isEmpty && name.allSatisfy { $0 == "_" || isASCIIAlphanumeric($0) }
                guard valid else { throw Failure(code: .invalidNamedCapture, expression: text(start, close + 1)) }
                position = close + 1
                try open()
                return
            }
            var i = afterQuestion
            var negated = false
            var sawFlag = false
            while i < scalars.count {
                let c = scalars[i]
                i += 1
                switch c {
                case "i", "m", "s", "U":
                    sawFlag = true
                case "-":
                    if negated { throw Failure(code: .invalidPerlOp, expression: text(start, i)) }
                    negated = true
                    sawFlag = false
                case ":", ")":
                    if negated && !sawFlag { throw Failure(code: .invalidPerlOp, expression: text(start, i)) }
                    position = i
                    if c == ":" { try open() }
                    return
                default:
                    throw Failure(code: .invalidPerlOp, expression: text(start, i))
                }
            }
            throw Failure(code: .invalidPerlOp, expression: text(start, i))
        }

        /// `\` outside a class: assertions, `\Q...\E`, classes, or one escaped character.
        private mutating func topLevelEscape() throws(Failure) {
            switch peek(1) {
            case "A", "b", "B", "z":
                position += 2
                hasOperand = true
                return
            case "C":
                throw Failure(code: .invalidEscape, expression: text(position, position + 2))
            case "Q":
                position += 2
                let begin = position
                while position < scalars.count && !(scalars[position] == "\\" && peek(1) == "E") { position += 1 }
                if position > begin { hasOperand = true }
                if position < scalars.count { position += 2 }
                return
            default:
                break
            }
            if try unicodeClass() || perlClass() {
                hasOperand = true
                return
            }
            try escape()
            hasOperand = true
        }

        /// `\pL`, `\p{Greek}`, `\P{^Greek}` at the current position; false when not one.
        private mutating func unicodeClass() throws(Failure) -> Bool {
            guard peek(0) == "\\", let kind = peek(1), kind == "p" || kind == "P" else { return false }
            let start = position
            guard let first = peek(2) else { throw Failure(code: .invalidCharRange, expression: text(start, position + 2)) }
            if first != "{" {
                position += 3
                return true
            }
            guard let close = scalars[(position + 3)...].firstIndex(of: "}") else {
                throw Failure(code: .invalidCharRange, expression: text(start, scalars.count))
            }
            var name = scalars[(position + 3)..<close]
            if name.first == "^" { name = name.dropFirst() }
            guard !name.isEmpty, name.allSatisfy({ isASCIIAlphanumeric($0) || $0 == "_" }) else {
                throw Failure(code: .invalidCharRange, expression: text(start, close + 1))
            }
            position = close + 1
            return true
        }

        /// `\d \D \s \S \w \W`.
        private mutating func perlClass() -> Bool {
            guard peek(0) == "\\", let c = peek(1), "dDsSwW".unicodeScalars.contains(c) else { return false }
            position += 2
            return true
        }

        /// One escaped character (parseEscape): punctuation, octal, `\x..`,
        /// `\x{...}`, `\a \f \n \r \t \v`. `\1`-`\9` alone are backreferences,
        /// which RE2 does not have.
        private mutating func escape() throws(Failure) {
            let start = position
            guard let c = peek(1) else { throw Failure(code: .trailingBackslash, expression: "") }
            position += 2
            let invalid = Failure(code: .invalidEscape, expression: text(start, min(position, scalars.count)))
            if c.value < 0x80 && !isASCIIAlphanumeric(c) { return }
            switch c {
            case "1"..."7" where !isOctal(peek(0)):
                throw invalid
            case "0"..."7":
                for _ in 0..<2 where isOctal(peek(0)) { position += 1 }
                return
            case "x":
                guard let next = peek(0) else { throw invalid }
                position += 1
                if next == "{" {
                    var digits = 0
                    var value: UInt32 = 0
                    while true {
                        guard let d = peek(0) else { throw Failure(code: .invalidEscape, expression: text(start, position)) }
                        position += 1
                        if d == "}" { break }
                        guard let v = hexValue(d) else { throw Failure(code: .invalidEscape, expression: text(start, position)) }
                        value = value * 16 + v
                        digits += 1
                        if value > 0x10FFFF { throw Failure(code: .invalidEscape, expression: text(start, position)) }
                    }
                    if digits == 0 { throw Failure(code: .invalidEscape, expression: text(start, position)) }
                    return
                }
                let second = peek(0)
                if second != nil { position += 1 }
                guard hexValue(next) != nil, let second, hexValue(second) != nil else {
                    throw Failure(code: .invalidEscape, expression: text(start, position))
                }
                return
            case "a", "f", "n", "r", "t", "v":
                return
            default:
                throw invalid
            }
        }

        /// `[...]` (parseClass): POSIX `[:name:]`, `\p{..}`, `\d`-style and
        /// escapes inside; `]` first is a literal; `a-` before `]` is literal.
        private mutating func characterClass() throws(Failure) {
            let classStart = position
            position += 1
            if peek(0) == "^" { position += 1 }
            var first = true
            while position >= scalars.count || scalars[position] != "]" || first {
                first = false
                if peek(0) == "[" && peek(1) == ":" {
                    if try posixClass() { continue }
                }
                if try unicodeClass() { continue }
                if perlClass() { continue }
                let rangeStart = position
                let low = try classCharacter(classStart: classStart)
                if let dash = peek(0), dash == "-", let next = peek(1), next != "]" {
                    position += 1
                    let high = try classCharacter(classStart: classStart)
                    if high < low { throw Failure(code: .invalidCharRange, expression: text(rangeStart, position)) }
                }
            }
            position += 1
        }

        /// `[:alpha:]` at the current position; false when it is not one (no `:]`).
        private mutating func posixClass() throws(Failure) -> Bool {
            var end = position + 2
            while end + 1 < scalars.count && !(scalars[end] == ":" && scalars[end + 1] == "]") { end += 1 }
            guard end + 1 < scalars.count else { return false }
            var name = String(String.UnicodeScalarView(scalars[(position + 2)..<end]))
            if name.hasPrefix("^") { name.removeFirst() }
            let names: Set<String> = [
                "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
                "upper", "word", "xdigit",
            ]
            guard names.contains(name) else { throw Failure(code: .invalidCharRange, expression: text(position, end + 2)) }
            position = end + 2
            return true
        }

        /// One character of a class, possibly escaped; the scalar value.
        private mutating func classCharacter(classStart: Int) throws(Failure) -> UInt32 {
            guard let c = peek(0) else { throw Failure(code: .missingBracket, expression: text(classStart, scalars.count)) }
            guard c == "\\" else {
                position += 1
                return c.value
            }
            let start = position
            try escape()
            return escapedValue(start)
        }

        /// The character an escape at `start` (already validated) stands for.
        private func escapedValue(_ start: Int) -> UInt32 {
            let body = scalars[(start + 1)..<position]
            guard let c = body.first else { return 0 }
            switch c {
            case "0"..."7":
                return body.reduce(0) { $0 * 8 + ($1.value - 48) }
            case "x":
                return body.dropFirst().compactMap(hexValue).reduce(0) { $0 * 16 + $1 }
            case "a": return 7
            case "f": return 12
            case "n": return 10
            case "r": return 13
            case "t": return 9
            case "v": return 11
            default: return c.value
            }
        }

        private func peek(_ offset: Int) -> Unicode.Scalar? {
            let index = position + offset
            return index < scalars.count ? scalars[index] : nil
        }

        private func text(_ from: Int, _ to: Int) -> String {
            String(String.UnicodeScalarView(scalars[from..<min(to, scalars.count)]))
        }

        private func isOctal(_ c: Unicode.Scalar?) -> Bool { c.map { ("0"..."7").contains($0) } ?? false }

        private func hexValue(_ c: Unicode.Scalar) -> UInt32? {
            switch c {
            case "0"..."9": c.value - 48
            case "a"..."f": c.value - 87
            case "A"..."F": c.value - 55
            default: nil
            }
        }

        private func isASCIIAlphanumeric(_ c: Unicode.Scalar) -> Bool {
            ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
        }
    }
}
