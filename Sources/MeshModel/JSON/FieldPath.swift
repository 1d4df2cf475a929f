/// Where a value sits inside a document, rendered as Kubernetes renders field
/// paths in its errors: `spec.http[0].route[1].weight`,
/// `metadata.labels[app.kubernetes.io/name]`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        /// A member of a typed object: rendered `.name`.
        case field(String)
        /// An entry of a string-keyed map (labels, headers): rendered `[key]`.
        case mapKey(String)
        /// An element of a list: rendered `[3]`.
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    /// Parses the dotted form (`spec.http[0].route`); bracketed non-numbers become map keys.
    public init(parsing text: String) {
        var components: [Component] = []
        var name = ""
        var index = text.startIndex
        func flush() {
            if !name.isEmpty { components.append(.field(name)) }
            name = ""
        }
        while index < text.endIndex {
            let c = text[index]
            if c == "." {
                flush()
            } else if c == "[", let close = text[index...].firstIndex(of: "]") {
                flush()
                let inner = String(text[text.index(after: index)..<close])
                components.append(Int(inner).map(Component.index) ?? .mapKey(inner))
                index = close
            } else {
                name.append(c)
            }
            index = text.index(after: index)
        }
        flush()
        self.components = components
    }

    public static let root = FieldPath()

    public var isRoot: Bool { components.isEmpty }

    public func appending(_ name: String) -> FieldPath { FieldPath(components + [.field(name)]) }
    public func appending(key: String) -> FieldPath { FieldPath(components + [.mapKey(key)]) }
    public func appending(index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }
    public func appending(_ component: Component) -> FieldPath { FieldPath(components + [component]) }

    /// The path without its last component (root stays root).
    public var parent: FieldPath { FieldPath(Array(components.dropLast())) }

    /// The same path with map keys treated as fields: a document's own
    /// structure does not know which objects are maps, so lookups by position
    /// (`SourceLocations`) compare this form.
    public var normalized: FieldPath {
        FieldPath(components.map { if case .mapKey(let k) = $0 { .field(k) } else { $0 } })
    }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case .field(let name): out += out.isEmpty ? name : "." + name
            case .mapKey(let key): out += "[\(key)]"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }
}

extension FieldPath: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(parsing: value) }
}
