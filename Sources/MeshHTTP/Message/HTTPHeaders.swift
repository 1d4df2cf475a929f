/// The header fields of a message: an ordered list of name/value pairs.
///
/// Order and the original spelling of names are kept, so a proxy forwards what it
/// received and a person reading a dump sees what was sent. Lookups ignore ASCII
/// case (RFC 9110 §5.1). A name may occur several times (`Set-Cookie`); `values(for:)`
/// returns each field's value as sent, `listValues(for:)` splits comma lists.
public struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One field line. A struct, not a tuple: arrays of tuples are destroyed through
    /// generic runtime calls, which showed up on every request of the server.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    @usableFromInline var fields: [Field]
    /// Which well-known fields (framing, connection management) are present, one bit
    /// each: the server asks about them on every request, and most are absent, so
    /// the answer usually comes without scanning (or retaining) any field.
    @usableFromInline var knownPresent: UInt16 = 0

    public init() { fields = [] }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
        for field in self.fields { knownPresent |= Self.knownBit(field.name) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// Appends a field, keeping any existing ones of the same name.
    public mutating func add(name: String, value: String) {
        knownPresent |= Self.knownBit(name)
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field named `name` and appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        if isKnownAbsent(name) { return add(name: name, value: value) }
        if let index = fields.firstIndex(where: { HTTPSyntax.equalsIgnoringCase($0.name, name) }) {
            fields[index].value = value
            var next = index + 1
            while next < fields.count {
                if HTTPSyntax.equalsIgnoringCase(fields[next].name, name) { fields.remove(at: next) } else { next += 1 }
            }
        } else {
            add(name: name, value: value)
        }
    }

    /// Removes every field named `name`.
    public mutating func remove(name: String) {
        let bit = Self.knownBit(name)
        if bit != 0 {
            guard knownPresent & bit != 0 else { return }
            knownPresent &= ~bit
        }
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    public func contains(name: String) -> Bool {
        if isKnownAbsent(name) { return false }
        return fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// The value of the first field named `name`.
    public func first(name: String) -> String? {
        if isKnownAbsent(name) { return nil }
        return fields.first { HTTPSyntax.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of fields named `name`, in order, each as sent.
    public func values(for name: String) -> [String] {
        if isKnownAbsent(name) { return [] }
        return fields.compactMap { HTTPSyntax.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// True only when `name` is a well-known field and none is present.
    @inline(__always)
    func isKnownAbsent(_ name: String) -> Bool {
        let bit = Self.knownBit(name)
        return bit != 0 && knownPresent & bit == 0
    }

    /// The bit of a well-known field name (any case), 0 for other names.
    static func knownBit(_ name: String) -> UInt16 {
        var name = name
        return name.withUTF8 { KnownField.classify($0)?.rawValue ?? 0 }
    }

    /// `first(name:)` as a subscript: `headers["content-type"]`.
    public subscript(name: String) -> String? { first(name: name) }

    /// The comma-separated list elements of every field named `name`
    /// (`Connection: keep-alive, Upgrade` → `["keep-alive", "Upgrade"]`).
    public func listValues(for name: String) -> [Substring] {
        values(for: name).flatMap { HTTPSyntax.listElements($0) }
    }

    /// Whether the list header `name` has the element `token`, ignoring case (`Connection: close`).
    public func containsToken(_ token: String, in name: String) -> Bool {
        listValues(for: name).contains { HTTPSyntax.equalsIgnoringCase(String($0), token) }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        // `knownPresent` follows from the fields: comparing them is enough.
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

/// Fields the HTTP layer itself looks up on every message. Internal lookups by
/// `KnownField` skip the name classification and, when the field is absent, the scan.
enum KnownField: UInt16 {
    case te = 1
    case host = 2
    case date = 4
    case expect = 8
    case server = 16
    case upgrade = 32
    case trailer = 64
    case connection = 128
    case keepAlive = 256
    case contentLength = 512
    case transferEncoding = 1024

    /// The lowercase name.
    var name: StaticString {
        switch self {
        case .te: return "te"
        case .host: return "host"
        case .date: return "date"
        case .expect: return "expect"
        case .server: return "server"
        case .upgrade: return "upgrade"
        case .trailer: return "trailer"
        case .connection: return "connection"
        case .keepAlive: return "keep-alive"
        case .contentLength: return "content-length"
        case .transferEncoding: return "transfer-encoding"
        }
    }

    /// Which known field the name bytes spell, ignoring ASCII case.
    static func classify(_ bytes: UnsafeBufferPointer<UInt8>) -> KnownField? {
        let candidates: (KnownField, KnownField?)
        switch bytes.count {
        case 2: candidates = (.te, nil)
        case 4: candidates = (.host, .date)
        case 6: candidates = (.expect, .server)
        case 7: candidates = (.upgrade, .trailer)
        case 10: candidates = (.connection, .keepAlive)
        case 14: candidates = (.contentLength, nil)
        case 17: candidates = (.transferEncoding, nil)
        default: return nil
        }
        if HTTPSyntax.equalsIgnoringCase(bytes, candidates.0.name) { return candidates.0 }
        if let second = candidates.1, HTTPSyntax.equalsIgnoringCase(bytes, second.name) { return second }
        return nil
    }
}

extension HTTPHeaders {
    /// Appends a field whose name the caller already classified (the parser does, from bytes).
    mutating func add(name: String, value: String, known: KnownField?) {
        if let known { knownPresent |= known.rawValue }
        fields.append(Field(name: name, value: value))
    }

    func has(_ known: KnownField) -> Bool { knownPresent & known.rawValue != 0 }

    func first(_ known: KnownField) -> String? {
        guard has(known) else { return nil }
        for index in fields.indices where HTTPSyntax.equalsIgnoringCase(fields[index].name, known.name) {
            return fields[index].value
        }
        return nil
    }

    /// Whether the comma-list field has `token` (lowercase literal), ignoring case.
    func containsToken(_ token: StaticString, in known: KnownField) -> Bool {
        guard has(known) else { return false }
        for index in fields.indices where HTTPSyntax.equalsIgnoringCase(fields[index].name, known.name) {
            for element in HTTPSyntax.listElements(fields[index].value)
            where HTTPSyntax.equalsIgnoringCase(String(element), token) {
                return true
            }
        }
        return false
    }

    mutating func remove(_ known: KnownField) {
        guard has(known) else { return }
        knownPresent &= ~known.rawValue
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, known.name) }
    }

    /// Sets the field (one occurrence, spelled `name` when added) to `value`.
    mutating func replaceOrAdd(_ known: KnownField, name: String, value: String) {
        if !has(known) { return add(name: name, value: value, known: known) }
        replaceOrAdd(name: name, value: value)
    }
}

extension HTTPHeaders: Sequence {
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}
