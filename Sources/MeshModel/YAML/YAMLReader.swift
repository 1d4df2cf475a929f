/// A position in the input, as PyYAML's `Mark`: 0-based line and column,
/// columns and `characterIndex` counted in Unicode scalars, `index` in bytes.
struct YAMLMark: Equatable, Sendable {
    var index: Int
    var characterIndex: Int
    var line: Int
    var column: Int

    static let start = YAMLMark(index: 0, characterIndex: 0, line: 0, column: 0)

    var sourceMark: SourceMark { SourceMark(line: line + 1, column: column + 1) }
}

/// The reader's job from PyYAML (reader.py): reject input that is not UTF-8
/// or that holds characters YAML forbids, before any scanning. Everything
/// after this point may assume valid UTF-8 without NUL bytes, so "byte 0"
/// can stand for the end of the input as PyYAML's `'\0'` sentinel does.
enum YAMLReader {
    /// Checks the whole input in one pass; throws at the first bad character.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>, file: String?) throws(YAMLError) {
        var i = 0
        let count = bytes.count
        while i < count {
            let b = bytes[i]
            if b < 0x80 {
                // Printable ASCII, tab, LF and CR are allowed; other C0 controls and DEL are not.
                if b >= 0x20 && b != 0x7F || b == 0x09 || b == 0x0A || b == 0x0D {
                    i += 1
                    continue
                }
                throw unacceptable(UInt32(b), at: i, bytes, file: file)
            }
            guard let (scalar, length) = decode(bytes, at: i) else {
                throw YAMLError(
                    file: file, mark: mark(at: i, in: bytes).sourceMark,
                    message: "invalid UTF-8: unexpected byte #x\(hex(UInt32(b), width: 2))")
            }
            if !isPrintable(scalar) { throw unacceptable(scalar, at: i, bytes, file: file) }
            i += length
        }
    }

    /// PyYAML's printable set: `\t \n \r`, `\x20-\x7E`, `\x85`, `\xA0-\uD7FF`,
    /// `\uE000-\uFFFD`, `\U00010000-\U0010FFFF`.
    static func isPrintable(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    private static func unacceptable(
        _ scalar: UInt32, at offset: Int, _ bytes: UnsafeBufferPointer<UInt8>, file: String?
    ) -> YAMLError {
        YAMLError(
            file: file, mark: mark(at: offset, in: bytes).sourceMark,
            message: "unacceptable character #x\(hex(scalar, width: 4)): special characters are not allowed")
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Decodes one UTF-8 sequence (rejecting overlong forms and surrogates).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int)? {
        let b0 = UInt32(bytes[i])
        func continuation(_ k: Int) -> UInt32? {
            guard i + k < bytes.count, bytes[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(bytes[i + k] & 0x3F)
        }
        switch b0 {
        case 0x00...0x7F:
            return (b0, 1)
        case 0xC2...0xDF:
            guard let c1 = continuation(1) else { return nil }
            return ((b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            guard let c1 = continuation(1), let c2 = continuation(2) else { return nil }
            let scalar = (b0 & 0x0F) << 12 | c1 << 6 | c2
            guard scalar >= 0x800, !(0xD800...0xDFFF).contains(scalar) else { return nil }
            return (scalar, 3)
        case 0xF0...0xF4:
            guard let c1 = continuation(1), let c2 = continuation(2), let c3 = continuation(3) else { return nil }
            let scalar = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard (0x10000...0x10FFFF).contains(scalar) else { return nil }
            return (scalar, 4)
        default:
            return nil
        }
    }

    /// The mark of byte `offset`, counted from the start with the scanner's
    /// rules (used only to report errors, so linear cost is fine).
    static func mark(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var mark = YAMLMark.start
        var i = 0
        while i < offset && i < bytes.count {
            YAMLReader.advance(&mark, over: bytes, at: i)
            i += 1
        }
        return mark
    }

    /// Moves `mark` past byte `i`, as PyYAML's `Reader.forward` moves past a
    /// character: a line break (LF, CR not followed by LF, NEL, LS, PS)
    /// starts a new line; a byte-order mark takes no column.
    @inline(__always)
    static func advance(_ mark: inout YAMLMark, over bytes: UnsafeBufferPointer<UInt8>, at i: Int) {
        let b = bytes[i]
        mark.index = i + 1
        if b < 0x80 {
            mark.characterIndex += 1
            if b == 0x0A || (b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A)) {
                mark.line += 1
                mark.column = 0
            } else {
                mark.column += 1
            }
        } else if b & 0xC0 != 0x80 {
            mark.characterIndex += 1
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            if (b == 0xC2 && b1 == 0x85) || (b == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9)) {
                mark.line += 1
                mark.column = 0
            } else if !(b == 0xEF && b1 == 0xBB && b2 == 0xBF) {
                mark.column += 1
            }
        }
    }
}

/// PyYAML's `Reader` interface (peek, prefix, forward, get_mark) over UTF-8
/// bytes: the input and the current position, nothing else, so it is cheap
/// to pass around. Past the end every byte reads as 0, PyYAML's `'\0'`.
struct YAMLCursor {
    enum LineBreak {
        case none, lineFeed, lineSeparator, paragraphSeparator

        var utf8: [UInt8] {
            switch self {
            case .none: []
            case .lineFeed: [0x0A]
            case .lineSeparator: [0xE2, 0x80, 0xA8]
            case .paragraphSeparator: [0xE2, 0x80, 0xA9]
            }
        }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    /// `bytes` as a pointer and a count: a debug build inlines pointer
    /// subscripts but calls buffer subscripts, and this is the inner loop.
    let base: UnsafePointer<UInt8>
    let count: Int
    /// The current position; `mark.index` is a byte offset.
    var mark = YAMLMark.start

    private static let empty: [UInt8] = [0]

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // An empty buffer may have no address; nothing is ever read through this one.
        base = bytes.baseAddress ?? YAMLCursor.empty.withUnsafeBufferPointer { $0.baseAddress! }
        count = bytes.count
    }

    var index: Int { mark.index }
    var column: Int { mark.column }

    func byte(_ i: Int) -> UInt8 { i < count ? base[i] : 0 }
    func peek(_ k: Int = 0) -> UInt8 { byte(mark.index + k) }

    /// A line break starts at byte `i` (LF, CR, NEL, LS, PS).
    func isBreak(_ i: Int) -> Bool {
        switch byte(i) {
        case 0x0A, 0x0D: true
        case 0xC2: byte(i + 1) == 0x85
        case 0xE2: byte(i + 1) == 0x80 && (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9)
        default: false
        }
    }
    /// PyYAML's `'\0\r\n\x85\u2028\u2029'`: a break or the end.
    func isBreakOrEnd(_ i: Int) -> Bool { i >= count || isBreak(i) }
    /// `'\0 \t\r\n\x85\u2028\u2029'`.
    func isBlankOrEnd(_ i: Int) -> Bool {
        let b = byte(i)
        return b == 0x20 || b == 0x09 || isBreakOrEnd(i)
    }
    /// `'\0 \r\n\x85\u2028\u2029'` (no tab).
    func isSpaceOrEnd(_ i: Int) -> Bool { byte(i) == 0x20 || isBreakOrEnd(i) }

    /// `---` or `...` followed by a blank at the current position (PyYAML
    /// checks this after line breaks inside scalars without looking at the column).
    func isDocumentIndicator() -> Bool {
        let c = peek()
        return (c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) && peek(1) == c && peek(2) == c
            && isBlankOrEnd(mark.index + 3)
    }

    /// A document marker where tokens look for one: at column 0.
    func isDocumentIndicatorAtColumnZero() -> Bool { mark.column == 0 && isDocumentIndicator() }

    mutating func forward(_ n: Int = 1) {
        let end = min(mark.index + n, count)
        var i = mark.index
        while i < end {
            let b = base[i]
            if b >= 0x20 && b < 0x80 {
                // Printable ASCII: one column, one character.
                mark.column += 1
                mark.characterIndex += 1
                mark.index = i + 1
            } else {
                YAMLReader.advance(&mark, over: bytes, at: i)
            }
            i += 1
        }
    }

    /// The first byte at or after `i` that is a line break or the end.
    func breakOrEnd(from i: Int) -> Int {
        var i = i
        while i < count {
            let b = base[i]
            if b == 0x0A || b == 0x0D || (b >= 0x80 && isBreak(i)) { return i }
            i += 1
        }
        return count
    }

    /// Skips ASCII spaces (the hot path of indentation).
    mutating func skipSpaces() {
        var i = mark.index
        while i < count && base[i] == 0x20 { i += 1 }
        let n = i - mark.index
        mark.index = i
        mark.column += n
        mark.characterIndex += n
    }

    /// Skips to the next line break or the end (comments, ignored lines).
    mutating func skipToBreak() {
        forward(breakOrEnd(from: mark.index) - mark.index)
    }

    /// CR LF, CR, LF and NEL become LF; LS and PS stay themselves.
    mutating func scanLineBreak() -> LineBreak {
        let b = peek()
        if b == 0x0D {
            forward(peek(1) == 0x0A ? 2 : 1)
            return .lineFeed
        }
        if b == 0x0A {
            forward()
            return .lineFeed
        }
        if b == 0xC2 && peek(1) == 0x85 {
            forward(2)
            return .lineFeed
        }
        if b == 0xE2 && peek(1) == 0x80 {
            if peek(2) == 0xA8 {
                forward(3)
                return .lineSeparator
            }
            if peek(2) == 0xA9 {
                forward(3)
                return .paragraphSeparator
            }
        }
        return .none
    }

    /// Appends input bytes `range` to `chunks` (a buffer append: slices are slow in debug builds).
    func append(_ range: Range<Int>, to chunks: inout [UInt8]) {
        chunks.append(contentsOf: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// The character at byte `i`, quoted for a message: `'\t'`, `'é'`, or `end of stream`.
    func describeCharacter(at i: Int) -> String {
        guard i < bytes.count else { return "end of stream" }
        let b = bytes[i]
        switch b {
        case 0x09: return "'\\t'"
        case 0x0A: return "'\\n'"
        case 0x0D: return "'\\r'"
        case 0x27: return "\"'\""
        default:
            if b < 0x80 { return "'\(String(UnicodeScalar(b)))'" }
            guard let (scalar, _) = YAMLReader.decode(bytes, at: i), let unicode = Unicode.Scalar(scalar) else {
                return "byte #x\(YAMLReader.hex(UInt32(b), width: 2))"
            }
            if scalar == 0x85 || scalar == 0x2028 || scalar == 0x2029 || scalar == 0xFEFF {
                return "'\\u{\(YAMLReader.hex(scalar, width: 4))}'"
            }
            return "'\(String(Character(unicode)))'"
        }
    }
}
