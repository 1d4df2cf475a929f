import MeshHTTP
import MeshModel

/// How Go's standard library shows requests, which go-httpbin's JSON repeats:
/// header names in canonical form, multi-valued maps with sorted keys.
enum GoConventions {
    /// textproto.CanonicalMIMEHeaderKey: `x-request-id` → `X-Request-Id`. Names with a
    /// byte that is not a token character are left as they are, as Go leaves them.
    static func canonicalHeaderName(_ name: String) -> String {
        guard name.utf8.allSatisfy({ isTokenByte($0) }) else { return name }
        var upper = true
        var out = ""
        out.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            var byte = UInt8(scalar.value)
            if upper && byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 32 }
            if !upper && byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            out.unicodeScalars.append(Unicode.Scalar(byte))
            upper = byte == UInt8(ascii: "-")
        }
        return out
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// An `http.Header` or `url.Values` as JSON: `{"Name": ["v1", "v2"]}`, keys sorted.
    static func multiMap(_ pairs: [(name: String, value: String)]) -> JSONValue {
        var grouped: [String: [JSONValue]] = [:]
        for (name, value) in pairs { grouped[name, default: []].append(.string(value)) }
        return .object(JSONObject(grouped.keys.sorted().map { ($0, JSONValue.array(grouped[$0]!)) }))
    }

    /// The request's headers as go-httpbin reports them: canonical names, `Host` from the
    /// request (Go keeps it apart from the other fields and go-httpbin puts it back).
    static func headers(of request: AppRequest) -> JSONValue {
        var pairs: [(name: String, value: String)] = []
        for field in request.headers where field.name.lowercased() != "host" {
            pairs.append((canonicalHeaderName(field.name), field.value))
        }
        pairs.append(("Host", request.head.host ?? ""))
        return multiMap(pairs)
    }

    /// JSON a Go program decoded into `interface{}` and encoded again: numbers are
    /// float64, so `1.0` comes back as `1`; objects are maps, so keys come back sorted.
    static func reencoded(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number) where number.rounded() == number && abs(number) < 1e15:
            return .int(Int(number))
        case .array(let elements):
            return .array(elements.map(reencoded))
        case .object(let object):
            return .object(JSONObject(object.sortedPairs.map { ($0.key, reencoded($0.value)) }))
        default:
            return value
        }
    }

    /// encoding/json with SetIndent("", "  "): two-space indent and a final newline.
    static let jsonFormat = JSONFormat(indent: 2)
}

/// Base64 with the URL-safe alphabet and padding (Go's base64.URLEncoding).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let b0 = chunk[chunk.startIndex]
            let b1 = chunk.count > 1 ? chunk[chunk.startIndex + 1] : 0
            let b2 = chunk.count > 2 ? chunk[chunk.startIndex + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(chunk.count > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(chunk.count > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
