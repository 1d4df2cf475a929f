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
