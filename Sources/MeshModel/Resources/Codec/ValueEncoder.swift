/// One value being built by the encoder. Containers hand out child nodes
/// before the children are filled in, so nodes are references.
final class EncodingNode {
    private enum Content {
        case empty
        case leaf(JSONValue)
        case object(keys: [String], children: [String: EncodingNode])
        case array([EncodingNode])
    }

    private var content = Content.empty

    func set(_ value: JSONValue) { content = .leaf(value) }

    func becomeObject() {
        if case .object = content { return }
        content = .object(keys: [], children: [:])
    }

    func becomeArray() {
        if case .array = content { return }
        content = .array([])
    }

    /// The member `key`, added after the existing ones on first use: struct
    /// fields come out in the order the type encodes them.
    func child(_ key: String) -> EncodingNode {
        becomeObject()
        guard case .object(var keys, var children) = content else { return EncodingNode() }
        if let existing = children[key] { return existing }
        let node = EncodingNode()
        keys.append(key)
        children[key] = node
        content = .object(keys: keys, children: children)
        return node
    }

    func appendElement() -> EncodingNode {
        becomeArray()
        guard case .array(var elements) = content else { return EncodingNode() }
        let node = EncodingNode()
        elements.append(node)
        content = .array(elements)
        return node
    }

    var elementCount: Int { if case .array(let elements) = content { elements.count } else { 0 } }

    var value: JSONValue {
        switch content {
        case .empty: return .object(JSONObject())
        case .leaf(let value): return value
        case .object(let keys, let children): return .object(JSONObject(keys.map { ($0, children[$0]!.value) }))
        case .array(let elements): return .array(elements.map(\.value))
        }
    }

    /// Encodes `value` into this node.
    func encode<T: Encodable>(_ value: T, at path: FieldPath) throws {
        switch value {
        case let json as JSONValue: set(json)
        case let s as String: set(.string(s))
        case let b as Bool: set(.bool(b))
        case let d as Double: set(Self.number(d))
        case let f as Float: set(Self.number(Double(f)))
        case let i as any FixedWidthInteger: set(Self.integer(i))
        case let map as any StringKeyedMapEncodable: try map.encodeMap(into: self, at: path)
        default: try value.encode(to: ValueEncoder(node: self, path: path))
        }
    }

    static func integer(_ i: some FixedWidthInteger) -> JSONValue {
        if let exact = Int(exactly: i) { return .int(exact) }
        return .double(Double(i))
    }

    /// Integral doubles print as integers, as Go's encoding/json writes a
    /// float64 100 as `100`; decoding accepts either form back.
    static func number(_ d: Double) -> JSONValue {
        if d.isFinite, d.rounded(.towardZero) == d, abs(d) < 9_007_199_254_740_992, let i = Int(exactly: d) {
            return .int(i)
        }
        return .double(d)
    }
}

protocol StringKeyedMapEncodable {
    func encodeMap(into node: EncodingNode, at path: FieldPath) throws
}

extension Dictionary: StringKeyedMapEncodable where Key == String, Value: Encodable {
    /// Keys sorted, so the same map always encodes to the same text.
    func encodeMap(into node: EncodingNode, at path: FieldPath) throws {
        node.becomeObject()
        for key in keys.sorted() {
            try node.child(key).encode(self[key]!, at: path.appending(key: key))
        }
    }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    let path: FieldPath

    var codingPath: [any CodingKey] { path.codingKeys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedEncoding<Key>(node: node, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedEncoding(node: node, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueEncoding(node: node, path: path) }
}

/// Generic `encode` covers every primitive: the protocol's per-type
/// requirements forward to it, and `encodeIfPresent` (nil optionals) keeps its
/// default of writing nothing.
struct KeyedEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let path: FieldPath

    var codingPath: [any CodingKey] { path.codingKeys }

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).set(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.child(key.stringValue).encode(value, at: path.appending(key.stringValue))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(node: node.child(key.stringValue), path: path.appending(key.stringValue)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.child(key.stringValue), path: path.appending(key.stringValue)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node, path: path) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.child(key.stringValue), path: path.appending(key.stringValue))
    }
}

struct UnkeyedEncoding: UnkeyedEncodingContainer {
    let node: EncodingNode
    let path: FieldPath

    var codingPath: [any CodingKey] { path.codingKeys }
    var count: Int { node.elementCount }

    mutating func encodeNil() throws { node.appendElement().set(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try node.appendElement().encode(value, at: path.appending(index: index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let index = count
        return ValueEncoder(node: node.appendElement(), path: path.appending(index: index)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = count
        return ValueEncoder(node: node.appendElement(), path: path.appending(index: index)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        return ValueEncoder(node: node.appendElement(), path: path.appending(index: index))
    }
}

struct SingleValueEncoding: SingleValueEncodingContainer {
    let node: EncodingNode
    let path: FieldPath

    var codingPath: [any CodingKey] { path.codingKeys }

    mutating func encodeNil() throws { node.set(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.encode(value, at: path) }
}
