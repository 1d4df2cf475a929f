/// The header fields of a message: an ordered list of name/value pairs.
///
/// Order and the original spelling of names are kept, so a proxy forwards what it
/// received and a person reading a dump sees what was sent. Lookups ignore ASCII
/// case (RFC 9110 §5.1). A name may occur several times (`Set-Cookie`); `values(for:)`
/// returns each field's value as sent, `listValues(for:)` splits comma lists.
public struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public typealias Field = (name: String, value: String)

    @usableFromInline var fields: [Field]

    public init() { fields = [] }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// Appends a field, keeping any existing ones of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Removes every field named `name` and appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
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
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    public func contains(name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// The value of the first field named `name`.
    public func first(name: String) -> String? {
        fields.first { HTTPSyntax.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of fields named `name`, in order, each as sent.
    public func values(for name: String) -> [String] {
        fields.compactMap { HTTPSyntax.equalsIgnoringCase($0.name, name) ? $0.value : nil }
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
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

extension HTTPHeaders: Sequence {
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}
