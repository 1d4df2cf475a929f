/// A JSON (or YAML-as-JSON) value: the form every resource has between the
/// wire or a file and its typed model, and the form the store keeps.
///
/// Integers and floating-point numbers stay apart (`1` vs `1.0`), as YAML and
/// Kubernetes keep them apart: `weight: 10` is an int32 field, `10.0` is not.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var intValue: Int? { if case .int(let i) = self { i } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// Any number as a Double (ints widen).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The member `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        get { objectValue?[key] }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// The value at `path`, or nil when any step is missing. Setting creates
    /// missing objects along the way (not array elements: an index must
    /// exist); setting nil removes the last member.
    public subscript(path path: FieldPath) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for component in path.components {
                switch component {
                case .field(let name), .mapKey(let name): current = current?[name]
                case .index(let i): current = current?[i]
                }
            }
            return current
        }
        set { set(newValue, at: path.components[...]) }
    }

    private mutating func set(_ newValue: JSONValue?, at components: ArraySlice<FieldPath.Component>) {
        guard let first = components.first else {
            self = newValue ?? .null
            return
        }
        let rest = components.dropFirst()
        switch first {
        case .field(let name), .mapKey(let name):
            var object = objectValue ?? JSONObject()
            if rest.isEmpty {
                object[name] = newValue
            } else {
                var child = object[name] ?? .object(JSONObject())
                child.set(newValue, at: rest)
                object[name] = child
            }
            self = .object(object)
        case .index(let i):
            guard case .array(var array) = self, array.indices.contains(i) else { return }
            if rest.isEmpty {
                if let newValue { array[i] = newValue } else { array.remove(at: i) }
            } else {
                array[i].set(newValue, at: rest)
            }
            self = .array(array)
        }
    }

    /// The JSON type name as Kubernetes' validation messages spell it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}
