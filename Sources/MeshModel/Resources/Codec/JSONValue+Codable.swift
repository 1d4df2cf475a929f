/// `JSONValue` as a field type keeps a subtree as it came (affinity,
/// uncommon volume sources, free-form config): `ValueCodec` hands it over
/// whole and reports no unknown fields inside it.
///
/// This conformance serves other coders (Foundation's); `ValueCodec`
/// short-circuits it and also keeps object key order.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if single.decodeNil() {
                self = .null
                return
            }
            if let b = try? single.decode(Bool.self) {
                self = .bool(b)
                return
            }
            if let i = try? single.decode(Int.self) {
                self = .int(i)
                return
            }
            if let d = try? single.decode(Double.self) {
                self = .double(d)
                return
            }
            if let s = try? single.decode(String.self) {
                self = .string(s)
                return
            }
        }
        if let keyed = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var object = JSONObject()
            for key in keyed.allKeys { object[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key) }
            self = .object(object)
            return
        }
        var unkeyed = try decoder.unkeyedContainer()
        var elements: [JSONValue] = []
        while !unkeyed.isAtEnd { elements.append(try unkeyed.decode(JSONValue.self)) }
        self = .array(elements)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let b):
            var single = encoder.singleValueContainer()
            try single.encode(b)
        case .int(let i):
            var single = encoder.singleValueContainer()
            try single.encode(i)
        case .double(let d):
            var single = encoder.singleValueContainer()
            try single.encode(d)
        case .string(let s):
            var single = encoder.singleValueContainer()
            try single.encode(s)
        case .array(let elements):
            var unkeyed = encoder.unkeyedContainer()
            for element in elements { try unkeyed.encode(element) }
        case .object(let object):
            var keyed = encoder.container(keyedBy: AnyCodingKey.self)
            for (key, value) in object { try keyed.encode(value, forKey: AnyCodingKey(stringValue: key)) }
        }
    }
}
