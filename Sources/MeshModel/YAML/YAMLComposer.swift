/// A node of the representation graph (PyYAML nodes.py). A class because
/// aliases share nodes: `*a` is the very node `&a` named.
final class YAMLNode {
    /// A mapping entry (a struct, not a tuple: cheaper generic metadata in debug builds).
    struct Pair {
        var key: YAMLNode
        var value: YAMLNode
    }

    enum Content {
        case scalar(String, YAMLScalarStyle)
        case sequence([YAMLNode])
        /// Pairs in source order. `mergedCount` leading pairs came from `<<`
        /// merge keys once `flattened` (see `YAMLConstructor.flatten`).
        case mapping([YAMLNode.Pair])
    }

    var tag: YAMLTag
    var content: Content
    let start: YAMLMark
    /// False while the node's children are still being composed: an alias
    /// to it from inside would make a cycle, which JSON cannot hold.
    var complete = false
    var flattened = false
    var mergedCount = 0
    /// How many values this node becomes once aliases are expanded (0: not yet known).
    var expandedSize = 0
    /// Constructed once already: its children's locations are recorded.
    var visited = false

    init(tag: YAMLTag, content: Content, start: YAMLMark) {
        self.tag = tag
        self.content = content
        self.start = start
    }

    /// PyYAML's node ids, used in messages ("expected a mapping node, but found sequence").
    var kindName: String {
        switch content {
        case .scalar: "scalar"
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }
}

/// A node's tag after resolution. The YAML 1.1 types PyYAML's
/// SafeConstructor knows get their own case; local tags (`!foo`) are kept to
/// be tolerated; any other tag cannot be constructed.
enum YAMLTag: Equatable {
    case str, int, float, bool, null, timestamp, binary, merge, value
    case seq, map, omap, pairs, set
    case local(String)
    case other(String)

    static let prefix = "tag:yaml.org,2002:"

    init(_ tag: String) {
        if tag.hasPrefix(YAMLTag.prefix) {
            switch tag.dropFirst(YAMLTag.prefix.count) {
            case "str": self = .str
            case "int": self = .int
            case "float": self = .float
            case "bool": self = .bool
            case "null": self = .null
            case "timestamp": self = .timestamp
            case "binary": self = .binary
            case "merge": self = .merge
            case "value": self = .value
            case "seq": self = .seq
            case "map": self = .map
            case "omap": self = .omap
            case "pairs": self = .pairs
            case "set": self = .set
            default: self = .other(tag)
            }
        } else if tag.hasPrefix("!") {
            self = .local(tag)
        } else {
            self = .other(tag)
        }
    }

    var name: String {
        switch self {
        case .local(let tag), .other(let tag): tag
        case .str: YAMLTag.prefix + "str"
        case .int: YAMLTag.prefix + "int"
        case .float: YAMLTag.prefix + "float"
        case .bool: YAMLTag.prefix + "bool"
        case .null: YAMLTag.prefix + "null"
        case .timestamp: YAMLTag.prefix + "timestamp"
        case .binary: YAMLTag.prefix + "binary"
        case .merge: YAMLTag.prefix + "merge"
        case .value: YAMLTag.prefix + "value"
        case .seq: YAMLTag.prefix + "seq"
        case .map: YAMLTag.prefix + "map"
        case .omap: YAMLTag.prefix + "omap"
        case .pairs: YAMLTag.prefix + "pairs"
        case .set: YAMLTag.prefix + "set"
        }
    }
}

/// Events in, one node graph per document out (PyYAML composer.py):
/// anchors are recorded, aliases resolved to the anchored node, plain
/// scalars' tags resolved. Nesting is bounded by `maxDepth`.
struct YAMLComposer {
    var parser: YAMLParser
    let maxDepth: Int
    private var anchors: [String: YAMLNode] = [:]
    /// Nodes composed so far (aliases not counted): the basis of the alias expansion budget.
    private(set) var nodeCount = 0

    init(_ parser: YAMLParser, maxDepth: Int) {
        self.parser = parser
        self.maxDepth = maxDepth
    }

    private func error(
        _ message: String, at mark: YAMLMark, context: String? = nil, contextMark: YAMLMark? = nil
    ) -> YAMLError {
        parser.scanner.error(message, at: mark, context: context, contextMark: contextMark)
    }

    /// The root node of the next document, or nil at the end of the stream.
    mutating func nextDocument() throws(YAMLError) -> YAMLNode? {
        if try parser.peekEventKind() == .streamStart { _ = try parser.nextEvent() }
        guard let event = try parser.peekEvent(), event.kind != .streamEnd else { return nil }
        _ = try parser.nextEvent()  // DOCUMENT-START
        let root = try composeNode(depth: 0)
        _ = try parser.nextEvent()  // DOCUMENT-END
        anchors = [:]
        return root
    }

    private mutating func composeNode(depth: Int) throws(YAMLError) -> YAMLNode {
        guard let event = try parser.nextEvent() else {
            throw error("unexpected end of the event stream", at: parser.scanner.reader.mark)
        }
        if event.kind == .alias {
            let name = event.anchor ?? ""
            guard let node = anchors[name] else { throw error("found undefined alias \"\(name)\"", at: event.start) }
            guard node.complete else {
                throw error("found recursive alias \"\(name)\": the node contains itself", at: event.start)
            }
            return node
        }
        if let anchor = event.anchor, let first = anchors[anchor] {
            throw error(
                "found duplicate anchor \"\(anchor)\"; first occurrence at \(first.start.sourceMark)", at: event.start)
        }
        if depth >= maxDepth { throw error("nesting deeper than \(maxDepth) levels", at: event.start) }
        nodeCount += 1
        switch event.kind {
        case .scalar:
            let tag: YAMLTag
            if let explicit = event.tag, explicit != "!" {
                tag = YAMLTag(explicit)
            } else if event.plainImplicit {
                tag = YAMLResolver.resolve(event.value)
            } else {
                tag = .str
            }
            let node = YAMLNode(tag: tag, content: .scalar(event.value, event.style), start: event.start)
            node.complete = true
            if let anchor = event.anchor { anchors[anchor] = node }
            return node
        case .sequenceStart:
            let tag = event.tag.flatMap { $0 == "!" ? nil : YAMLTag($0) } ?? .seq
            let node = YAMLNode(tag: tag, content: .sequence([]), start: event.start)
            if let anchor = event.anchor { anchors[anchor] = node }
            var items: [YAMLNode] = []
            while try parser.peekEventKind() != .sequenceEnd {
                items.append(try composeNode(depth: depth + 1))
            }
            _ = try parser.nextEvent()
            node.content = .sequence(items)
            node.complete = true
            return node
        case .mappingStart:
            let tag = event.tag.flatMap { $0 == "!" ? nil : YAMLTag($0) } ?? .map
            let node = YAMLNode(tag: tag, content: .mapping([]), start: event.start)
            if let anchor = event.anchor { anchors[anchor] = node }
            var pairs: [YAMLNode.Pair] = []
            while try parser.peekEventKind() != .mappingEnd {
                let key = try composeNode(depth: depth + 1)
                let value = try composeNode(depth: depth + 1)
                pairs.append(YAMLNode.Pair(key: key, value: value))
            }
            _ = try parser.nextEvent()
            node.content = .mapping(pairs)
            node.complete = true
            return node
        default:
            throw error("unexpected event \(event.kind) while composing a node", at: event.start)
        }
    }
}
