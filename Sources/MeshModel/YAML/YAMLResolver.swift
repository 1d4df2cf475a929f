/// Which type a plain scalar has, and its value: PyYAML's `Resolver` and the
/// scalar half of `SafeConstructor`, so that a manifest means what
/// `yaml.safe_load` says it means.
///
/// This is YAML 1.1 as PyYAML implements it, deliberately, not YAML 1.2's
/// core schema. What that means for a manifest (1.1 → 1.2 difference):
///   - booleans: `yes/Yes/YES/no/No/NO/true/True/TRUE/false/False/FALSE/
///     on/On/ON/off/Off/OFF`. PyYAML does not resolve `y`, `Y`, `n`, `N`
///     (the 1.1 spec lists them; go-yaml v2, used by Kubernetes, does):
///     here they are strings, as in PyYAML. 1.2 has only `true/false`.
///   - integers: `0b1010`, old-style octal `0777` (= 511), `0x1F`,
///     underscores `1_000`, sexagesimal `1:30` (= 90). `0o17` is a string
///     (1.2 octal; PyYAML does not know it).
///   - floats need a dot: `1.5`, `1.`, `.5`, `1.0e+3` (the exponent needs a
///     sign), `.inf`, `-.Inf`, `.nan`, sexagesimal `1:30.5`. `1e3` and
///     `1.0e3` are strings (1.2 reads both as floats).
///   - null: `~`, `null`, `Null`, `NULL` and the empty scalar.
///   - `<<` is the merge key; a plain `=` is the 1.1 "value" key, which
///     PyYAML cannot construct as a value (an error, as there).
///   - timestamps (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`): JSON has
///     no time type, so the value stays the original text as a string, but
///     it must be a valid date/time (PyYAML fails on `2001-02-30`; so do we).
///
/// Our own choices where JSON or Swift force one:
///   - integers beyond `Int` (64-bit) become `.double` (correctly rounded,
///     ±infinity beyond the double range); PyYAML keeps a big int.
///   - `!!binary` becomes its base64 text, re-encoded canonically (no line
///     breaks, padded), i.e. what Kubernetes puts in a JSON `[]byte` field.
///   - non-string mapping keys become strings as `json.dumps` writes them:
///     `1` → "1", `true` → "true", `null` → "null", `1.5` → "1.5".
enum YAMLResolver {
    // MARK: Implicit resolution of plain scalars

    /// The tag of a plain (or `!`-tagged) scalar. Only the first character
    /// decides which patterns are tried, as in PyYAML, so `nginx` costs one
    /// switch.
    static func resolve(_ text: String) -> YAMLTag {
        var copy = text
        return copy.withUTF8 { resolve($0) }
    }

    static func resolve(_ s: UnsafeBufferPointer<UInt8>) -> YAMLTag {
        guard let first = s.first else { return .null }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"),
            UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            return isBool(s) ? .bool : .str
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if isBool(s) { return .bool }
            return equals(s, "null") || equals(s, "Null") || equals(s, "NULL") ? .null : .str
        case UInt8(ascii: "~"):
            return s.count == 1 ? .null : .str
        case UInt8(ascii: "<"):
            return equals(s, "<<") ? .merge : .str
        case UInt8(ascii: "="):
            return s.count == 1 ? .value : .str
        case UInt8(ascii: "."):
            return isFloat(s) ? .float : .str
        case UInt8(ascii: "-"), UInt8(ascii: "+"):
            if isFloat(s) { return .float }
            return isInt(s) ? .int : .str
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            if isFloat(s) { return .float }
            if isInt(s) { return .int }
            return isTimestamp(s) ? .timestamp : .str
        default:
            return .str
        }
    }

    private static func equals(_ s: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard s.count == literal.utf8CodeUnitCount else { return false }
        for i in 0..<s.count where s[i] != literal.utf8Start[i] { return false }
        return true
    }

    private static let boolWords: [StaticString] = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]

    static func isBool(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        s.count <= 5 && boolWords.contains { equals(s, $0) }
    }

    /// A cursor over a scalar's bytes for the hand-written regular expressions below.
    private struct Cursor {
        let s: UnsafeBufferPointer<UInt8>
        var i = 0
        init(_ s: UnsafeBufferPointer<UInt8>) { self.s = s }
        var atEnd: Bool { i >= s.count }
        var current: UInt8 { i < s.count ? s[i] : 0 }
        func at(_ k: Int) -> UInt8 { i + k < s.count ? s[i + k] : 0 }
        static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        mutating func take(_ b: UInt8) -> Bool {
            guard current == b else { return false }
            i += 1
            return true
        }
        mutating func takeSign() { if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { i += 1 } }
        /// `[0-9]`
        mutating func takeDigit() -> Bool {
            guard Cursor.isDigit(current) else { return false }
            i += 1
            return true
        }
        /// `[...]*` for a predicate.
        mutating func skip(while predicate: (UInt8) -> Bool) {
            while i < s.count && predicate(s[i]) { i += 1 }
        }
        /// `[0-9_]*`
        mutating func skipDigitsAndUnderscores() {
            skip { Cursor.isDigit($0) || $0 == UInt8(ascii: "_") }
        }
        /// `(?::[0-5]?[0-9])+`
        mutating func takeSexagesimalParts() -> Bool {
            var any = false
            while current == UInt8(ascii: ":") {
                let a = at(1)
                let b = at(2)
                if a >= UInt8(ascii: "0") && a <= UInt8(ascii: "5") && Cursor.isDigit(b) {
                    i += 3
                } else if Cursor.isDigit(a) {
                    i += 2
                } else {
                    return false
                }
                any = true
            }
            return any
        }
        /// `(?:[eE][-+][0-9]+)?` then the end.
        mutating func takeOptionalExponentThenEnd() -> Bool {
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                i += 1
                guard current == UInt8(ascii: "-") || current == UInt8(ascii: "+") else { return false }
                i += 1
                guard takeDigit() else { return false }
                skip(while: Cursor.isDigit)
            }
            return atEnd
        }
        mutating func takeWord(_ words: [StaticString]) -> Bool {
            for word in words {
                let n = word.utf8CodeUnitCount
                guard i + n <= s.count else { continue }
                if (0..<n).allSatisfy({ s[i + $0] == word.utf8Start[$0] }) {
                    i += n
                    return true
                }
            }
            return false
        }
    }

    /// PyYAML's float pattern:
    ///
    ///     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    ///     |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    ///     |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    ///     |[-+]?\.(?:inf|Inf|INF)
    ///     |\.(?:nan|NaN|NAN)
    static func isFloat(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var c = Cursor(s)
        if c.take(UInt8(ascii: ".")) {
            if Cursor.isDigit(c.current) {
                c.skipDigitsAndUnderscores()
                return c.takeOptionalExponentThenEnd()
            }
            return (c.takeWord(["inf", "Inf", "INF"]) || c.takeWord(["nan", "NaN", "NAN"])) && c.atEnd
        }
        c.takeSign()
        if c.take(UInt8(ascii: ".")) { return c.takeWord(["inf", "Inf", "INF"]) && c.atEnd }
        guard c.takeDigit() else { return false }
        c.skipDigitsAndUnderscores()
        if c.take(UInt8(ascii: ".")) {
            c.skipDigitsAndUnderscores()
            return c.takeOptionalExponentThenEnd()
        }
        guard c.takeSexagesimalParts(), c.take(UInt8(ascii: ".")) else { return false }
        c.skipDigitsAndUnderscores()
        return c.atEnd
    }

    /// PyYAML's int pattern:
    ///
    ///     [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*)
    ///     | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    static func isInt(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var c = Cursor(s)
        c.takeSign()
        if c.take(UInt8(ascii: "0")) {
            if c.atEnd { return true }
            if c.take(UInt8(ascii: "b")) {
                guard !c.atEnd else { return false }
                c.skip { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") || $0 == UInt8(ascii: "_") }
                return c.atEnd
            }
            if c.take(UInt8(ascii: "x")) {
                guard !c.atEnd else { return false }
                c.skip { isHexDigit($0) || $0 == UInt8(ascii: "_") }
                return c.atEnd
            }
            c.skip { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7")) || $0 == UInt8(ascii: "_") }
            return c.atEnd
        }
        guard c.current >= UInt8(ascii: "1") && c.current <= UInt8(ascii: "9") else { return false }
        c.i += 1
        c.skipDigitsAndUnderscores()
        if c.atEnd { return true }
        return c.takeSexagesimalParts() && c.atEnd
    }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        Cursor.isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
            || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }

    /// The parts of a timestamp: PyYAML's resolver pattern
    ///
    ///     [0-9]{4}-[0-9]{2}-[0-9]{2}
    ///     | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
    ///       (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
    ///
    /// or, with `lenient` (the constructor's pattern, for explicit
    /// `!!timestamp`), a date with one-digit month and day too.
    struct Timestamp {
        var year = 0, month = 0, day = 0
        var hour: Int?
        var minute = 0, second = 0
        var offsetMinutes = 0
    }

    static func isTimestamp(_ s: UnsafeBufferPointer<UInt8>) -> Bool { parseTimestamp(s, lenient: false) != nil }

    static func parseTimestamp(_ s: UnsafeBufferPointer<UInt8>, lenient: Bool) -> Timestamp? {
        var c = Cursor(s)
        func number(min: Int, max: Int) -> Int? {
            var value = 0
            var n = 0
            while n < max && Cursor.isDigit(c.current) {
                value = value * 10 + Int(c.current - UInt8(ascii: "0"))
                c.i += 1
                n += 1
            }
            return n >= min ? value : nil
        }
        var t = Timestamp()
        guard let year = number(min: 4, max: 4), c.take(UInt8(ascii: "-")) else { return nil }
        t.year = year
        let start = c.i
        guard let month = number(min: 1, max: 2), c.take(UInt8(ascii: "-")), let day = number(min: 1, max: 2) else {
            return nil
        }
        (t.month, t.day) = (month, day)
        if c.atEnd {
            // The date-only form needs two-digit month and day (except in the constructor's pattern).
            return lenient || c.i - start == 5 ? t : nil
        }
        if !(c.take(UInt8(ascii: "T")) || c.take(UInt8(ascii: "t"))) {
            guard c.current == UInt8(ascii: " ") || c.current == UInt8(ascii: "\t") else { return nil }
            c.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        }
        guard let hour = number(min: 1, max: 2), c.take(UInt8(ascii: ":")), let minute = number(min: 2, max: 2),
            c.take(UInt8(ascii: ":")), let second = number(min: 2, max: 2)
        else { return nil }
        (t.hour, t.minute, t.second) = (hour, minute, second)
        if c.take(UInt8(ascii: ".")) { c.skip(while: Cursor.isDigit) }
        let beforeBlanks = c.i
        c.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        // Blanks belong to the time zone: they may not end the text.
        if c.atEnd { return c.i == beforeBlanks ? t : nil }
        if c.take(UInt8(ascii: "Z")) { return c.atEnd ? t : nil }
        let negative = c.current == UInt8(ascii: "-")
        guard negative || c.current == UInt8(ascii: "+") else { return nil }
        c.i += 1
        guard let offsetHours = number(min: 1, max: 2) else { return nil }
        var offsetMinutes = 0
        if c.take(UInt8(ascii: ":")) {
            guard let m = number(min: 2, max: 2) else { return nil }
            offsetMinutes = m
        }
        guard c.atEnd else { return nil }
        t.offsetMinutes = (offsetHours * 60 + offsetMinutes) * (negative ? -1 : 1)
        return t
    }

    /// Whether Python's `datetime` accepts the parts (PyYAML fails otherwise).
    static func timestampProblem(_ t: Timestamp) -> String? {
        if t.year < 1 { return "year 0 is out of range" }
        if t.month < 1 || t.month > 12 { return "month must be in 1..12" }
        let leap = t.year % 4 == 0 && (t.year % 100 != 0 || t.year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][t.month - 1]
        if t.day < 1 || t.day > days { return "day is out of range for month" }
        guard let hour = t.hour else { return nil }
        if hour > 23 { return "hour must be in 0..23" }
        if t.minute > 59 { return "minute must be in 0..59" }
        if t.second > 59 { return "second must be in 0..59" }
        if abs(t.offsetMinutes) >= 24 * 60 { return "time zone offset must be less than 24 hours" }
        return nil
    }

    // MARK: Scalar values

    /// `!!int`: PyYAML's `construct_yaml_int`. Nil when the text is not an
    /// integer (possible only with an explicit tag).
    static func integer(_ text: String) -> JSONValue? {
        var digits = Array(text.utf8.filter { $0 != UInt8(ascii: "_") })
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits.removeFirst()
        }
        guard !digits.isEmpty else { return nil }
        var magnitude = BigUInt()
        if digits == [UInt8(ascii: "0")] {
            return .int(0)
        } else if digits.starts(with: Array("0b".utf8)) {
            guard magnitude.append(digits: digits.dropFirst(2), base: 2) else { return nil }
        } else if digits.starts(with: Array("0x".utf8)) {
            guard magnitude.append(digits: digits.dropFirst(2), base: 16) else { return nil }
        } else if digits[0] == UInt8(ascii: "0") {
            guard magnitude.append(digits: digits[...], base: 8) else { return nil }
        } else if digits.contains(UInt8(ascii: ":")) {
            for (i, part) in digits.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).enumerated() {
                if i > 0 { magnitude.multiplyAdd(60, 0) }
                var partValue = BigUInt()
                guard partValue.append(digits: part, base: 10) else { return nil }
                magnitude.add(partValue)
            }
        } else {
            guard magnitude.append(digits: digits[...], base: 10) else { return nil }
        }
        if let small = magnitude.uint64 {
            if !negative && small <= UInt64(Int.max) { return .int(Int(small)) }
            if negative && small <= UInt64(Int.max) + 1 {
                return .int(small == UInt64(Int.max) + 1 ? Int.min : -Int(small))
            }
        }
        let d = magnitude.double
        return .double(negative ? -d : d)
    }

    /// `!!float`: PyYAML's `construct_yaml_float`.
    static func float(_ text: String) -> Double? {
        var value = String(text.unicodeScalars.filter { $0 != "_" }).lowercased()
        var sign = 1.0
        if value.hasPrefix("-") { sign = -1 }
        if value.hasPrefix("-") || value.hasPrefix("+") { value.removeFirst() }
        if value == ".inf" { return sign * .infinity }
        if value == ".nan" { return .nan }
        if value.contains(":") {
            // Sexagesimal: summed from the last part as PyYAML sums, for the same rounding.
            var total = 0.0
            var base = 1.0
            for part in value.split(separator: ":", omittingEmptySubsequences: false).reversed() {
                guard let digit = pythonFloat(String(part)) else { return nil }
                total += digit * base
                base *= 60
            }
            return sign * total
        }
        return pythonFloat(value).map { sign * $0 }
    }

    /// Python's `float(text)` for the texts YAML hands it (no spaces; Swift
    /// accepts the same decimal forms, including `1.` and `.5`).
    private static func pythonFloat(_ text: String) -> Double? {
        guard !text.isEmpty, !text.hasPrefix("0x"), !text.hasPrefix("-0x"), !text.hasPrefix("+0x") else { return nil }
        return Double(text)
    }

    /// `!!bool`: PyYAML lower-cases, so an explicit `!!bool TRUE` or `!!bool oN` is accepted.
    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "on": true
        case "no", "false", "off": false
        default: nil
        }
    }

    /// `!!binary`: CPython's `binascii.a2b_base64` in its lenient mode, as
    /// `base64.decodebytes` uses it: characters outside the alphabet are
    /// skipped, a complete padding ends the input, an incomplete final group
    /// is an error. Re-encoded canonically.
    static func binary(_ text: String) -> String? {
        var decoded: [UInt8] = []
        var quadPosition = 0
        var pads = 0
        var left: UInt8 = 0
        // Python first encodes the whole text as ASCII.
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        for b in text.utf8 {
            if b == UInt8(ascii: "=") {
                if quadPosition >= 2 {
                    pads += 1
                    if quadPosition + pads >= 4 { return base64Encode(decoded) }
                }
                continue
            }
            guard let v = base64Value(b) else { continue }
            pads = 0
            switch quadPosition {
            case 0:
                left = v
            case 1:
                decoded.append(left << 2 | v >> 4)
                left = v & 0x0F
            case 2:
                decoded.append(left << 4 | v >> 2)
                left = v & 0x03
            default:
                decoded.append(left << 6 | v)
            }
            quadPosition = (quadPosition + 1) % 4
        }
        return quadPosition == 0 ? base64Encode(decoded) : nil
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): b - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): b - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    static func base64Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            for k in 0..<4 {
                out.append(k <= n ? base64Alphabet[Int(v >> (18 - 6 * UInt32(k)) & 0x3F)] : UInt8(ascii: "="))
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Just enough of an unsigned big integer to read YAML integers that do
/// not fit 64 bits and round them correctly to a Double. Digits past
/// ~1100 bits only make the value infinite, so growth stops there.
struct BigUInt {
    /// Little-endian 32-bit limbs.
    private(set) var limbs: [UInt32] = []
    private(set) var overflowed = false

    static let maxLimbs = 36

    mutating func multiplyAdd(_ factor: UInt32, _ addend: UInt32) {
        guard !overflowed else { return }
        var carry = UInt64(addend)
        for i in limbs.indices {
            let product = UInt64(limbs[i]) * UInt64(factor) + carry
            limbs[i] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry > 0 {
            limbs.append(UInt32(carry))
            if limbs.count > BigUInt.maxLimbs { overflowed = true }
        }
    }

    mutating func add(_ other: BigUInt) {
        if other.overflowed { overflowed = true }
        guard !overflowed else { return }
        var carry: UInt64 = 0
        for i in 0..<max(limbs.count, other.limbs.count) {
            if i == limbs.count { limbs.append(0) }
            let sum = UInt64(limbs[i]) + UInt64(i < other.limbs.count ? other.limbs[i] : 0) + carry
            limbs[i] = UInt32(truncatingIfNeeded: sum)
            carry = sum >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
        if limbs.count > BigUInt.maxLimbs { overflowed = true }
    }

    /// Appends digits in `base`; false if any is not a digit of that base (or there are none).
    mutating func append(digits: ArraySlice<UInt8>, base: UInt32) -> Bool {
        guard !digits.isEmpty else { return false }
        for b in digits {
            let value: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt32(b - UInt8(ascii: "A") + 10)
            default: return false
            }
            guard value < base else { return false }
            multiplyAdd(base, value)
        }
        return true
    }

    var uint64: UInt64? {
        if overflowed { return nil }
        let significant = limbs.lastIndex { $0 != 0 }.map { $0 + 1 } ?? 0
        guard significant <= 2 else { return nil }
        return (significant > 0 ? UInt64(limbs[0]) : 0) | (significant > 1 ? UInt64(limbs[1]) << 32 : 0)
    }

    /// The nearest Double (ties to even), +infinity past the double range.
    var double: Double {
        if overflowed { return .infinity }
        guard let top = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        let bitLength = top * 32 + (32 - limbs[top].leadingZeroBitCount)
        if bitLength <= 64 { return Double(uint64!) }
        // The top 64 bits, with a sticky bit for anything below: rounding
        // that 64-bit value to 53 bits rounds the whole number correctly.
        let shift = bitLength - 64
        var top64: UInt64 = 0
        var sticky = false
        for bit in stride(from: bitLength - 1, through: 0, by: -1) {
            let isSet = limbs[bit / 32] >> UInt32(bit % 32) & 1 == 1
            if bit >= shift {
                top64 = top64 << 1 | (isSet ? 1 : 0)
            } else if isSet {
                sticky = true
                break
            }
        }
        if sticky { top64 |= 1 }
        return Double(top64) * Double(sign: .plus, exponent: shift, significand: 1)
    }
}
