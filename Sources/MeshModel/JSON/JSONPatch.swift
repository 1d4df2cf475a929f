/// JSON Patch (RFC 6902) with JSON Pointers (RFC 6901): what
/// `application/json-patch+json` PATCH requests and admission webhooks send.
public struct JSONPatch: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case add(path: String, value: JSONValue)
        case remove(path: String)
        case replace(path: String, value: JSONValue)
        case move(from: String, path: String)
        case copy(from: String, path: String)
        case test(path: String, value: JSONValue)
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Which operation (0-based) failed.
        public var index: Int
        public var message: String
        public var description: String { "patch operation \(index): \(message)" }
    }

    public var operations: [Operation]

    public init(_ operations: [Operation]) { self.operations = operations }

    /// Reads a patch document: an array of `{"op": ..., "path": ...}` objects.
    public init(json: JSONValue) throws(Failure) {
        guard let array = json.arrayValue else {
            throw Failure(index: 0, message: "a JSON patch must be an array of operations")
        }
        var operations: [Operation] = []
        for (index, element) in array.enumerated() {
            func string(_ key: String) throws(Failure) -> String {
                guard let value = element[key]?.stringValue else {
                    throw Failure(index: index, message: "missing \"\(key)\"")
                }
                return value
            }
            func value() throws(Failure) -> JSONValue {
                guard let value = element["value"] else { throw Failure(index: index, message: "missing \"value\"") }
                return value
            }
            switch try string("op") {
            case "add": operations.append(.add(path: try string("path"), value: try value()))
            case "remove": operations.append(.remove(path: try string("path")))
            case "replace": operations.append(.replace(path: try string("path"), value: try value()))
            case "move": operations.append(.move(from: try string("from"), path: try string("path")))
            case "copy": operations.append(.copy(from: try string("from"), path: try string("path")))
            case "test": operations.append(.test(path: try string("path"), value: try value()))
            case let op: throw Failure(index: index, message: "unknown op \"\(op)\"")
            }
        }
        self.operations = operations
    }

    /// The patch as JSON, for sending.
    public var json: JSONValue {
        .array(operations.map { operation in
            switch operation {
            case .add(let path, let value): ["op": "add", "path": .string(path), "value": value]
            case .remove(let path): ["op": "remove", "path": .string(path)]
            case .replace(let path, let value): ["op": "replace", "path": .string(path), "value": value]
            case .move(let from, let path): ["op": "move", "from": .string(from), "path": .string(path)]
            case .copy(let from, let path): ["op": "copy", "from": .string(from), "path": .string(path)]
            case .test(let path, let value): ["op": "test", "path": .string(path), "value": value]
            }
        })
    }

    /// Applies every operation in order; any failure leaves the result unapplied (atomic).
    public func apply(to document: JSONValue) throws(Failure) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            do throws(PointerError) {
                switch operation {
                case .add(let path, let value):
                    try Self.add(value, at: try Self.tokens(path), in: &result)
                case .remove(let path):
                    _ = try Self.remove(at: try Self.tokens(path), in: &result)
                case .replace(let path, let value):
                    let tokens = try Self.tokens(path)
                    if tokens.isEmpty {
                        result = value
                    } else {
                        _ = try Self.remove(at: tokens, in: &result)
                        try Self.add(value, at: tokens, in: &result)
                    }
                case .move(let from, let path):
                    let source = try Self.tokens(from)
                    let target = try Self.tokens(path)
                    if target.count > source.count && Array(target.prefix(source.count)) == source {
                        throw PointerError("cannot move \"\(from)\" into its own child \"\(path)\"")
                    }
                    let value = try Self.remove(at: source, in: &result)
                    try Self.add(value, at: target, in: &result)
                case .copy(let from, let path):
                    let value = try Self.value(at: try Self.tokens(from), in: result)
                    try Self.add(value, at: try Self.tokens(path), in: &result)
                case .test(let path, let expected):
                    let actual = try Self.value(at: try Self.tokens(path), in: result)
                    guard actual == expected else {
                        throw PointerError("test failed: \(path) is \(actual.serialized()), not \(expected.serialized())")
                    }
                }
            } catch {
                throw Failure(index: index, message: error.message)
            }
        }
        return result
    }

    struct PointerError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// RFC 6901: `""` is the whole document; `/a~1b/0` is ["a/b", "0"].
    static func tokens(_ pointer: String) throws(PointerError) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw PointerError("path \"\(pointer)\" must start with /") }
        return try pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            (token) throws(PointerError) -> String in
            var out = ""
            var iterator = token.makeIterator()
            while let c = iterator.next() {
                guard c == "~" else {
                    out.append(c)
                    continue
                }
                switch iterator.next() {
                case "0": out.append("~")
                case "1": out.append("/")
                default: throw PointerError("path \"\(pointer)\" has a ~ not followed by 0 or 1")
                }
            }
            return out
        }
    }

    static func arrayIndex(_ token: String, count: Int, allowEnd: Bool) throws(PointerError) -> Int {
        if allowEnd && token == "-" { return count }
        guard let index = Int(token), index >= 0, String(index) == token else {
            throw PointerError("\"\(token)\" is not an array index")
        }
        guard index < count || (allowEnd && index == count) else {
            throw PointerError("index \(index) is out of range (\(count) elements)")
        }
        return index
    }

    static func value(at tokens: [String], in document: JSONValue) throws(PointerError) -> JSONValue {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { throw PointerError("no member \"\(token)\"") }
                current = next
            case .array(let array):
                current = array[try arrayIndex(token, count: array.count, allowEnd: false)]
            default:
                throw PointerError("\"\(token)\" reaches into a \(current.typeName)")
            }
        }
        return current
    }

    static func add(_ value: JSONValue, at tokens: [String], in document: inout JSONValue) throws(PointerError) {
        guard let last = tokens.last else {
            document = value
            return
        }
        try modifyParent(of: tokens, in: &document) { (parent) throws(PointerError) in
            switch parent {
            case .object(var object):
                object[last] = value
                parent = .object(object)
            case .array(var array):
                array.insert(value, at: try arrayIndex(last, count: array.count, allowEnd: true))
                parent = .array(array)
            default:
                throw PointerError("cannot add \"\(last)\" to a \(parent.typeName)")
            }
        }
    }

    static func remove(at tokens: [String], in document: inout JSONValue) throws(PointerError) -> JSONValue {
        guard let last = tokens.last else { throw PointerError("cannot remove the whole document") }
        var removed = JSONValue.null
        try modifyParent(of: tokens, in: &document) { (parent) throws(PointerError) in
            switch parent {
            case .object(var object):
                guard let value = object[last] else { throw PointerError("no member \"\(last)\" to remove") }
                removed = value
                object[last] = nil
                parent = .object(object)
            case .array(var array):
                removed = array.remove(at: try arrayIndex(last, count: array.count, allowEnd: false))
                parent = .array(array)
            default:
                throw PointerError("cannot remove \"\(last)\" from a \(parent.typeName)")
            }
        }
        return removed
    }

    /// Runs `body` on the container that holds the last token, writing it back.
    static func modifyParent(
        of tokens: [String], in document: inout JSONValue, _ body: (inout JSONValue) throws(PointerError) -> Void
    ) throws(PointerError) {
        func descend(_ value: inout JSONValue, _ depth: Int) throws(PointerError) {
            if depth == tokens.count - 1 {
                try body(&value)
                return
            }
            let token = tokens[depth]
            switch value {
            case .object(var object):
                guard var child = object[token] else { throw PointerError("no member \"\(token)\"") }
                try descend(&child, depth + 1)
                object[token] = child
                value = .object(object)
            case .array(var array):
                let index = try arrayIndex(token, count: array.count, allowEnd: false)
                try descend(&array[index], depth + 1)
                value = .array(array)
            default:
                throw PointerError("\"\(token)\" reaches into a \(value.typeName)")
            }
        }
        try descend(&document, 0)
    }

    /// Escapes a member name for use in a pointer (`a/b` → `a~1b`).
    public static func escape(_ token: String) -> String {
        var out = ""
        for c in token {
            switch c {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(c)
            }
        }
        return out
    }
}
