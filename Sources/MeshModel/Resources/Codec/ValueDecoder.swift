/// The errors a decode found, already placed at their field paths.
struct SchemaFailure: Error {
    var diagnostics: [Diagnostic]
    init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    init(_ diagnostic: Diagnostic) { self.diagnostics = [diagnostic] }
}

/// The state one decode shares across its decoders and containers: what it
/// found wrong, and which keys of which objects the types asked for, so that
/// what nobody asked for can be reported as unknown afterwards.
final class DecodingContext {
    private(set) var diagnostics: [Diagnostic] = []
    /// Objects read as structs: the keys their types asked for.
    private var asked: [FieldPath: Set<String>] = [:]
    /// Objects read as `[String: X]`: every key is theirs.
    private var maps: Set<FieldPath> = []
    /// Values kept whole as `JSONValue`.
    private var opaque: Set<FieldPath> = []
    /// Objects whose type gave up part way: keys it never reached are not
    /// reported as unknown, since they may be fields it would have read.
    private var incomplete: Set<FieldPath> = []
    /// Above zero while building a stand-in for a missing or bad value:
    /// nothing is recorded and `null` reads as the empty value of any type.
    private(set) var placeholderDepth = 0

    var building: Bool { placeholderDepth > 0 }

    func report(_ diagnostic: Diagnostic) {
        if !building { diagnostics.append(diagnostic) }
    }

    /// Records `error`, thrown while decoding `value` at `path`.
    func record(_ error: any Error, at path: FieldPath, value: JSONValue) {
        guard !building else { return }
        switch error {
        case let failure as SchemaFailure:
            diagnostics += failure.diagnostics
        case let fieldError as FieldError:
            diagnostics.append(fieldError.diagnostic(at: path))
        case let decodingError as DecodingError:
            diagnostics.append(Self.diagnostic(for: decodingError, at: path, value: value))
        default:
            diagnostics.append(.invalid(path, value: value, "\(error)"))
        }
        incomplete.insert(path)
    }

    private static func diagnostic(for error: DecodingError, at path: FieldPath, value: JSONValue) -> Diagnostic {
        switch error {
        case .keyNotFound(let key, _):
            return .required(path.appending(key.stringValue))
        case .valueNotFound:
            return .required(path)
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            return .invalid(path, value: value, context.debugDescription)
        @unknown default:
            return .invalid(path, value: value, "\(error)")
        }
    }

    func opened(objectAt path: FieldPath) {
        if !building && asked[path] == nil { asked[path] = [] }
    }

    func ask(_ key: String, at path: FieldPath) {
        if !building { asked[path, default: []].insert(key) }
    }

    func openedMap(at path: FieldPath) {
        if !building { maps.insert(path) }
    }

    // MARK: Decoding one value

    /// Decodes `value`, found at `path`, as `T`. Throws what it cannot
    /// decode; containers below it record what they can recover from.
    func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: FieldPath) throws -> T {
        if T.self == JSONValue.self {
            if !building { opaque.insert(path) }
            return value as! T
        }
        if T.self == String.self { return try decodeString(value, at: path) as! T }
        if T.self == Bool.self { return try decodeBool(value, at: path) as! T }
        if T.self == Int.self { return try decodeInteger(Int.self, value, at: path) as! T }
        if T.self == Int32.self { return try decodeInteger(Int32.self, value, at: path) as! T }
        if T.self == Int64.self { return try decodeInteger(Int64.self, value, at: path) as! T }
        if T.self == UInt32.self { return try decodeInteger(UInt32.self, value, at: path) as! T }
        if T.self == UInt64.self { return try decodeInteger(UInt64.self, value, at: path) as! T }
        if T.self == Double.self { return try decodeDouble(value, at: path) as! T }
        if T.self == Float.self { return Float(try decodeDouble(value, at: path)) as! T }
        if let enumType = T.self as? any SchemaEnum.Type {
            return try decodeEnum(enumType, value, at: path) as! T
        }
        if let mapType = T.self as? any StringKeyedMapDecodable.Type {
            return try mapType.decodeMap(from: value, at: path, context: self) as! T
        }
        if let arrayType = T.self as? any ArrayDecodable.Type {
            return try arrayType.decodeArray(from: value, at: path, context: self) as! T
        }
        return try T(from: ValueDecoder(value: value, path: path, context: self))
    }

    /// A stand-in for the value at `path`, so that the object holding it can
    /// be read to its end. Throws (nothing to report: the cause already was)
    /// when the type cannot make one.
    func placeholder<T: Decodable>(_ type: T.Type, at path: FieldPath) throws -> T {
        if let provider = T.self as? any SchemaPlaceholder.Type, let value = provider.schemaPlaceholder as? T {
            return value
        }
        placeholderDepth += 1
        defer { placeholderDepth -= 1 }
        do {
            return try decode(T.self, from: .null, at: path)
        } catch {
            incomplete.insert(path.parent)
            throw SchemaFailure([])
        }
    }

    func decodeString(_ value: JSONValue, at path: FieldPath) throws -> String {
        if case .string(let s) = value { return s }
        if building && value.isNull { return "" }
        throw SchemaFailure(.typeMismatch(path, expected: "string", actual: value))
    }

    func decodeBool(_ value: JSONValue, at path: FieldPath) throws -> Bool {
        if case .bool(let b) = value { return b }
        if building && value.isNull { return false }
        throw SchemaFailure(.typeMismatch(path, expected: "boolean", actual: value))
    }

    /// An integer field takes a JSON integer, or a number with no fraction
    /// (`10.0`): the structural schema's integer type accepts it, and a YAML
    /// `10.0` reaches a built-in type's Go decoder as `10`. `1.5` is a type
    /// error. Values outside the Swift type's range (int32 for Kubernetes'
    /// int32 fields) are rejected as the schema's minimum/maximum would be.
    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, at path: FieldPath) throws -> I {
        switch value {
        case .int(let i):
            if let result = I(exactly: i) { return result }
            throw SchemaFailure(rangeError(path, value: value, negative: i < 0, type))
        case .double(let d) where d.isFinite && d.rounded(.towardZero) == d:
            if let result = I(exactly: d) { return result }
            throw SchemaFailure(rangeError(path, value: value, negative: d < 0, type))
        case .null where building:
            return 0
        default:
            throw SchemaFailure(.typeMismatch(path, expected: "integer", actual: value))
        }
    }

    private func rangeError<I: FixedWidthInteger>(_ path: FieldPath, value: JSONValue, negative: Bool, _ type: I.Type)
        -> Diagnostic
    {
        let bound = negative ? "greater than or equal to \(I.min)" : "less than or equal to \(I.max)"
        return Diagnostic(.error, at: path, "Invalid value: \(value.serialized()): \(path) in body should be \(bound)")
    }

    func decodeDouble(_ value: JSONValue, at path: FieldPath) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .null where building: return 0
        default: throw SchemaFailure(.typeMismatch(path, expected: "number", actual: value))
        }
    }

    func decodeEnum<E: SchemaEnum>(_ type: E.Type, _ value: JSONValue, at path: FieldPath) throws -> E {
        if case .string(let s) = value, let result = E(rawValue: s) { return result }
        if building, value.isNull, let first = E.allCases.first { return first }
        if case .string = value {
            throw SchemaFailure(.unsupported(path, value: value, supported: E.supportedValues))
        }
        throw SchemaFailure(.typeMismatch(path, expected: "string", actual: value))
    }

    // MARK: Unknown fields

    /// kubectl's unknown-field findings for `value` (decoded at `path`), in
    /// document order: each key of an object read as a struct that its type
    /// never asked for. Only the outermost unknown key is named, not its insides.
    func unknownFields(in value: JSONValue, at path: FieldPath) -> [Diagnostic] {
        var found: [Diagnostic] = []
        walk(value, at: path, into: &found)
        return found
    }

    private func walk(_ value: JSONValue, at path: FieldPath, into found: inout [Diagnostic]) {
        if opaque.contains(path) { return }
        switch value {
        case .object(let object):
            if maps.contains(path) {
                for (key, child) in object { walk(child, at: path.appending(key: key), into: &found) }
            } else if let keys = asked[path] {
                for (key, child) in object {
                    if keys.contains(key) {
                        walk(child, at: path.appending(key), into: &found)
                    } else if !incomplete.contains(path) {
                        found.append(.unknownField(path.appending(key)))
                    }
                }
            }
        case .array(let elements):
            for (i, element) in elements.enumerated() { walk(element, at: path.appending(index: i), into: &found) }
        default:
            break
        }
    }
}

// MARK: Collections, decoded element by element so one bad entry does not hide the rest

protocol StringKeyedMapDecodable {
    static func decodeMap(from value: JSONValue, at path: FieldPath, context: DecodingContext) throws -> Self
}

extension Dictionary: StringKeyedMapDecodable where Key == String, Value: Decodable {
    static func decodeMap(from value: JSONValue, at path: FieldPath, context: DecodingContext) throws -> Self {
        guard case .object(let object) = value else {
            if context.building && value.isNull { return [:] }
            throw SchemaFailure(.typeMismatch(path, expected: "object", actual: value))
        }
        context.openedMap(at: path)
        var result: [String: Value] = [:]
        for (key, child) in object {
            let childPath = path.appending(key: key)
            do {
                result[key] = try context.decode(Value.self, from: child, at: childPath)
            } catch {
                context.record(error, at: childPath, value: child)
            }
        }
        return result
    }
}

protocol ArrayDecodable {
    static func decodeArray(from value: JSONValue, at path: FieldPath, context: DecodingContext) throws -> Self
}

extension Array: ArrayDecodable where Element: Decodable {
    static func decodeArray(from value: JSONValue, at path: FieldPath, context: DecodingContext) throws -> Self {
        guard case .array(let elements) = value else {
            if context.building && value.isNull { return [] }
            throw SchemaFailure(.typeMismatch(path, expected: "array", actual: value))
        }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (i, child) in elements.enumerated() {
            let childPath = path.appending(index: i)
            do {
                result.append(try context.decode(Element.self, from: child, at: childPath))
            } catch {
                context.record(error, at: childPath, value: child)
            }
        }
        return result
    }
}

// MARK: The Decoder and its containers

struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: FieldPath
    let context: DecodingContext

    var codingPath: [any CodingKey] { path.codingKeys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let object: JSONObject
        switch value {
        case .object(let o): object = o
        case .null where context.building: object = JSONObject()
        default: throw SchemaFailure(.typeMismatch(path, expected: "object", actual: value))
        }
        context.opened(objectAt: path)
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, path: path, context: context))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements): return UnkeyedContainer(elements: elements, path: path, context: context)
        case .null where context.building: return UnkeyedContainer(elements: [], path: path, context: context)
        default: throw SchemaFailure(.typeMismatch(path, expected: "array", actual: value))
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, path: path, context: context)
    }
}

/// A struct's fields. `decode` (a non-optional property) reports a missing
/// or wrong value and goes on with a stand-in; `decodeIfPresent` (an
/// optional one) reports a wrong value and goes on as if it were absent.
/// `null` counts as absent, as the apiserver prunes nulls of non-nullable fields.
struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let path: FieldPath
    let context: DecodingContext

    var codingPath: [any CodingKey] { path.codingKeys }
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        context.ask(key.stringValue, at: path)
        return object.contains(key.stringValue)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        context.ask(key.stringValue, at: path)
        return object[key.stringValue]?.isNull ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try required(type, key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }

    private func required<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        context.ask(key.stringValue, at: path)
        let childPath = path.appending(key.stringValue)
        guard let value = object[key.stringValue], !value.isNull else {
            context.report(.required(childPath))
            return try context.placeholder(T.self, at: childPath)
        }
        do {
            return try context.decode(T.self, from: value, at: childPath)
        } catch {
            context.record(error, at: childPath, value: value)
            return try context.placeholder(T.self, at: childPath)
        }
    }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        context.ask(key.stringValue, at: path)
        guard let value = object[key.stringValue], !value.isNull else { return nil }
        let childPath = path.appending(key.stringValue)
        do {
            return try context.decode(T.self, from: value, at: childPath)
        } catch {
            context.record(error, at: childPath, value: value)
            return nil
        }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try childDecoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try childDecoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), path: path, context: context) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try childDecoder(key) }

    private func childDecoder(_ key: Key) throws -> ValueDecoder {
        context.ask(key.stringValue, at: path)
        let childPath = path.appending(key.stringValue)
        guard let value = object[key.stringValue] else { throw SchemaFailure(.required(childPath)) }
        return ValueDecoder(value: value, path: childPath, context: context)
    }

    // The synthesized code calls these per primitive type; all go through the generic paths.
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try required(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try required(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try required(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try required(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try required(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try required(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try required(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try required(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try required(type, key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: FieldPath
    let context: DecodingContext
    private(set) var currentIndex = 0

    init(elements: [JSONValue], path: FieldPath, context: DecodingContext) {
        self.elements = elements
        self.path = path
        self.context = context
    }

    var codingPath: [any CodingKey] { path.codingKeys }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw SchemaFailure(.required(path.appending(index: currentIndex))) }
        if elements[currentIndex].isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) }

    private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw SchemaFailure(.required(path.appending(index: currentIndex))) }
        let value = try context.decode(T.self, from: elements[currentIndex], at: path.appending(index: currentIndex))
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try nextDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try nextDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try nextDecoder() }

    private mutating func nextDecoder() throws -> ValueDecoder {
        guard !isAtEnd else { throw SchemaFailure(.required(path.appending(index: currentIndex))) }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], path: path.appending(index: currentIndex), context: context)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let path: FieldPath
    let context: DecodingContext

    var codingPath: [any CodingKey] { path.codingKeys }

    func decodeNil() -> Bool { value.isNull }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try context.decode(T.self, from: value, at: path) }

    func decode(_ type: Bool.Type) throws -> Bool { try context.decodeBool(value, at: path) }
    func decode(_ type: String.Type) throws -> String { try context.decodeString(value, at: path) }
    func decode(_ type: Double.Type) throws -> Double { try context.decodeDouble(value, at: path) }
    func decode(_ type: Float.Type) throws -> Float { Float(try context.decodeDouble(value, at: path)) }
    func decode(_ type: Int.Type) throws -> Int { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try context.decodeInteger(type, value, at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try context.decodeInteger(type, value, at: path) }
}
