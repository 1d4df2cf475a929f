/// Byte classes of RFC 9110/9112 grammar, shared by the parser, the serializer and validation.
enum HTTPSyntax {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58

    /// tchar: `!#$%&'*+-.^_`|~`, digits and letters, as two 64-bit masks over ASCII
    /// (constants, so the hot path touches no global table).
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenBit(byte) == 1 }

    /// 1 for a token byte, 0 otherwise, without branches (loops over names vectorize).
    @inline(__always)
    static func tokenBit(_ byte: UInt8) -> UInt64 {
        // Bytes 0-63: ! # $ % & ' * + - . and digits. Bytes 64-127: letters ^ _ ` | ~.
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let shift = UInt64(byte & 63)
        let mask = byte < 64 ? low : (byte < 128 ? high : 0)
        return (mask >> shift) & 1
    }

    /// field-vchar / SP / HTAB / obs-text: everything but controls (other than HTAB) and DEL.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 ? byte != 0x7F : byte == tab
    }

    /// A request-target byte: visible ASCII only (no spaces, controls or non-ASCII).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
    }

    /// ASCII case-insensitive comparison (header names, tokens).
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for i in 0..<x.count {
                    let p = x[i], q = y[i]
                    if p != q && lowercased(p) != lowercased(q) { return false }
                }
                return true
            }
        }
    }

    /// The decimal form of a non-negative integer (Content-Length, chunk sizes in logs),
    /// without the generic integer printing machinery.
    static func decimal(_ value: Int) -> String {
        // Up to 15 bytes a string is stored inline: no allocation.
        guard value >= 0, value < 1_000_000_000_000_000 else { return String(value) }
        return String(unsafeUninitializedCapacity: 15) { buffer in
            var digits = value, count = 0
            repeat {
                buffer[count] = UInt8(48 + digits % 10)
                digits /= 10
                count += 1
            } while digits > 0
            buffer[0..<count].reverse()
            return count
        }
    }

    /// `equalsIgnoringCase` against a lowercase ASCII literal, without making a String of it.
    static func equalsIgnoringCase(_ a: String, _ lowercaseLiteral: StaticString) -> Bool {
        let count = lowercaseLiteral.utf8CodeUnitCount
        guard a.utf8.count == count else { return false }
        let literal = lowercaseLiteral.utf8Start
        var index = 0
        for byte in a.utf8 {
            if lowercased(byte) != literal[index] { return false }
            index += 1
        }
        return true
    }

    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercaseLiteral: StaticString) -> Bool {
        guard bytes.count == lowercaseLiteral.utf8CodeUnitCount else { return false }
        let literal = lowercaseLiteral.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != literal[index] { return false }
        return true
    }

    /// Splits a comma-separated list value (`keep-alive, Upgrade`) into trimmed, non-empty elements.
    static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",").compactMap { element in
            let trimmed = element.trimmingOWS()
            return trimmed.isEmpty ? nil : trimmed
        }
    }
}

extension StringProtocol {
    /// Removes optional whitespace (SP / HTAB) at both ends.
    func trimmingOWS() -> SubSequence {
        var start = startIndex, end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return self[start..<end]
    }
}
