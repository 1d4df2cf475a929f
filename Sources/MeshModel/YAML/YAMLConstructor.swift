/// Node graph in, `JSONValue` out: PyYAML's `SafeConstructor`, plus what a
/// JSON world needs: every key and item's position recorded by field path,
/// duplicate keys reported, and the graph's expansion through aliases
/// bounded (a "billion laughs" document is small as a graph and huge as a tree).
struct YAMLConstructor {
    let file: String?
    let maxDepth: Int
    /// How many values the document may expand to, aliases included.
    let budget: Int
    private var expanded = 0
    private(set) var locations: SourceLocations
    private(set) var duplicateKeys: [YAMLDuplicateKey] = []
    /// False while constructing a complex key, whose insides have no field path.
    private var recording = true

    /// Locations are recorded down to this depth. Each record hashes the
    /// whole path, so deeper nesting (never seen in a real manifest) would
    /// make hostile input quadratic; deeper paths fall back to an ancestor.
    static let maxRecordedDepth = 64

    init(file: String?, maxDepth: Int, budget: Int, documentStart: SourceMark) {
        self.file = file
        self.maxDepth = maxDepth
        self.budget = budget
        locations = SourceLocations(file: file, documentStart: documentStart)
    }

    private func error(
        _ message: String, at mark: YAMLMark, context: String? = nil, contextMark: YAMLMark? = nil
    ) -> YAMLError {
        YAMLError(
            file: file, mark: mark.sourceMark, message: message, context: context,
            contextMark: contextMark?.sourceMark)
    }

    /// Whether `node`'s children get locations, and marks it visited. A node
    /// records once, at its first construction, which in document order is
    /// where it is written; values reached again through an alias are
    /// located where the alias is (the nearest recorded ancestor).
    private mutating func records(_ node: YAMLNode, depth: Int) -> Bool {
        defer { node.visited = true }
        return recording && !node.visited && depth < Self.maxRecordedDepth
    }

    /// The document's value. An alias bomb is refused before any work:
    /// the graph is small, so its expanded size is cheap to count first.
    mutating func constructDocument(_ root: YAMLNode) throws(YAMLError) -> JSONValue {
        if try expandedSize(root, depth: 0) > budget {
            throw error(
                "the document expands to more than \(budget) values through aliases (an alias bomb?)", at: root.start)
        }
        return try construct(root)
    }

    /// Values `node` expands to (capped just above the budget), memoized per node.
    private func expandedSize(_ node: YAMLNode, depth: Int) throws(YAMLError) -> Int {
        if node.expandedSize > 0 { return node.expandedSize }
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels (through aliases)", at: node.start) }
        var size = 1
        switch node.content {
        case .scalar:
            break
        case .sequence(let items):
            var i = 0
            while i < items.count && size <= budget {
                size += try expandedSize(items[i], depth: depth + 1)
                i += 1
            }
        case .mapping(let pairs):
            var i = 0
            while i < pairs.count && size <= budget {
                size += try expandedSize(pairs[i].key, depth: depth + 1)
                size += try expandedSize(pairs[i].value, depth: depth + 1)
                i += 1
            }
        }
        node.expandedSize = min(size, budget + 1)
        return node.expandedSize
    }

    mutating func construct(_ node: YAMLNode, path: FieldPath = .root, depth: Int = 0) throws(YAMLError) -> JSONValue {
        expanded += 1
        if expanded > budget {
            throw error(
                "the document expands to more than \(budget) values through aliases (an alias bomb?)",
                at: node.start)
        }
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels (through aliases)", at: node.start) }

        switch node.tag {
        case .str:
            return .string(try Self.scalarText(node, file: file))
        case .null:
            _ = try Self.scalarText(node, file: file)
            return .null
        case .bool:
            let text = try Self.scalarText(node, file: file)
            guard let b = YAMLResolver.bool(text) else {
                throw error("invalid boolean \(quoted(text))", at: node.start)
            }
            return .bool(b)
        case .int:
            let text = try Self.scalarText(node, file: file)
            guard let value = YAMLResolver.integer(text) else {
                throw error("invalid integer \(quoted(text))", at: node.start)
            }
            return value
        case .float:
            let text = try Self.scalarText(node, file: file)
            guard let d = YAMLResolver.float(text) else { throw error("invalid float \(quoted(text))", at: node.start) }
            return .double(d)
        case .timestamp:
            let text = try Self.scalarText(node, file: file)
            var copy = text
            guard let timestamp = copy.withUTF8({ YAMLResolver.parseTimestamp($0, lenient: true) }) else {
                throw error("invalid timestamp \(quoted(text))", at: node.start)
            }
            if let problem = YAMLResolver.timestampProblem(timestamp) {
                throw error("invalid timestamp \(quoted(text)): \(problem)", at: node.start)
            }
            // JSON has no time type: the text itself is the value.
            return .string(text)
        case .binary:
            let text = try Self.scalarText(node, file: file)
            guard let base64 = YAMLResolver.binary(text) else {
                throw error("failed to decode base64 data", at: node.start)
            }
            return .string(base64)
        case .seq:
            return try constructSequence(node, path: path, depth: depth)
        case .map:
            return try constructMapping(node, path: path, depth: depth)
        case .omap, .pairs:
            return try constructPairs(node, path: path, depth: depth)
        case .set:
            guard case .object(let object) = try constructMapping(node, path: path, depth: depth) else { return .null }
            return .object(JSONObject(object.keys.map { ($0, JSONValue.null) }))
        case .local:
            // Tolerated (PyYAML's safe_load refuses them): the node as if untagged, scalars as strings.
            switch node.content {
            case .scalar(let text, _): return .string(text)
            case .sequence: return try constructSequence(node, path: path, depth: depth)
            case .mapping: return try constructMapping(node, path: path, depth: depth)
            }
        case .merge, .value, .other:
            throw error("could not determine a constructor for the tag '\(node.tag.name)'", at: node.start)
        }
    }

    private func quoted(_ text: String) -> String {
        var out = ""
        JSONValue.writeQuoted(text, to: &out)
        return out
    }

    /// A scalar's text; for a mapping, the value of its `=` key (PyYAML's
    /// `SafeConstructor.construct_scalar`, a YAML 1.1 curiosity).
    private static func scalarText(_ node: YAMLNode, file: String?) throws(YAMLError) -> String {
        switch node.content {
        case .scalar(let text, _):
            return text
        case .mapping(let pairs):
            if let pair = pairs.first(where: { $0.key.tag == .value }) { return try scalarText(pair.value, file: file) }
            throw YAMLError(
                file: file, mark: node.start.sourceMark, message: "expected a scalar node, but found mapping")
        case .sequence:
            throw YAMLError(
                file: file, mark: node.start.sourceMark, message: "expected a scalar node, but found sequence")
        }
    }

    private mutating func constructSequence(_ node: YAMLNode, path: FieldPath, depth: Int) throws(YAMLError)
        -> JSONValue
    {
        guard case .sequence(let items) = node.content else {
            throw error("expected a sequence node, but found \(node.kindName)", at: node.start)
        }
        let record = records(node, depth: depth)
        var array: [JSONValue] = []
        array.reserveCapacity(items.count)
        var i = 0
        while i < items.count {
            let item = items[i]
            var itemPath = path
            if record {
                itemPath.components.append(.index(i))  // path.appending(index: i), without a temporary array
                locations.record(item.start.sourceMark, for: itemPath)
            }
            array.append(try construct(item, path: itemPath, depth: depth + 1))
            i += 1
        }
        return .array(array)
    }

    private mutating func constructMapping(_ node: YAMLNode, path: FieldPath, depth: Int) throws(YAMLError) -> JSONValue
    {
        guard case .mapping = node.content else {
            throw error("expected a mapping node, but found \(node.kindName)", at: node.start)
        }
        try Self.flatten(node, file: file)
        guard case .mapping(let pairs) = node.content else { return .null }
        let record = records(node, depth: depth)
        var object = JSONObject()
        // A key written twice in this mapping is a duplicate; a key that
        // overrides a merged one is not. Without merges (the usual case) any
        // key already present is a repeat, so the set is needed only with them.
        var ownKeys = Set<String>()
        var i = 0
        while i < pairs.count {
            let pair = pairs[i]
            defer { i += 1 }
            let key = try constructKey(pair.key, in: node, depth: depth)
            var keyPath = path
            if record { keyPath.components.append(.field(key)) }  // path.appending(key), without a temporary array
            if record && i >= node.mergedCount {
                let repeated = node.mergedCount == 0 ? object.contains(key) : !ownKeys.insert(key).inserted
                if repeated {
                    // The first occurrence's position is the one recorded so far.
                    duplicateKeys.append(
                        YAMLDuplicateKey(
                            file: file, path: keyPath, mark: pair.key.start.sourceMark,
                            firstMark: locations.mark(for: keyPath)))
                }
            }
            if record { locations.record(pair.key.start.sourceMark, for: keyPath) }
            object[key] = try construct(pair.value, path: keyPath, depth: depth + 1)
        }
        return .object(object)
    }

    /// A key as a JSON object key: strings as they are, other scalars as
    /// Python's `json.dumps` writes dict keys; collections cannot be keys.
    private mutating func constructKey(_ node: YAMLNode, in mapping: YAMLNode, depth: Int) throws(YAMLError) -> String {
        let wasRecording = recording
        recording = false
        defer { recording = wasRecording }
        switch try construct(node, depth: depth + 1) {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return YAMLFloat.jsonKey(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array, .object:
            throw error(
                "found unhashable key", at: node.start, context: "while constructing a mapping",
                contextMark: mapping.start)
        }
    }

    /// `!!omap` and `!!pairs`: a sequence of one-pair mappings, as a list of `[key, value]`.
    private mutating func constructPairs(_ node: YAMLNode, path: FieldPath, depth: Int) throws(YAMLError) -> JSONValue {
        let context = node.tag == .omap ? "while constructing an ordered map" : "while constructing pairs"
        guard case .sequence(let items) = node.content else {
            throw error(
                "expected a sequence, but found \(node.kindName)", at: node.start, context: context,
                contextMark: node.start)
        }
        let record = records(node, depth: depth)
        var array: [JSONValue] = []
        for (i, item) in items.enumerated() {
            guard case .mapping(let pairs) = item.content else {
                throw error(
                    "expected a mapping of length 1, but found \(item.kindName)", at: item.start, context: context,
                    contextMark: node.start)
            }
            guard pairs.count == 1 else {
                throw error(
                    "expected a single mapping item, but found \(pairs.count) items", at: item.start,
                    context: context, contextMark: node.start)
            }
            var itemPath = path
            if record {
                itemPath = path.appending(index: i)
                locations.record(item.start.sourceMark, for: itemPath)
            }
            let key = try construct(pairs[0].key, path: itemPath, depth: depth + 2)
            let value = try construct(pairs[0].value, path: itemPath, depth: depth + 2)
            array.append([key, value])
        }
        return .array(array)
    }

    /// Merge keys (PyYAML's `flatten_mapping`): `<<: *a` or `<<: [*a, *b]`
    /// puts the merged pairs first, so the mapping's own keys win, and in a
    /// list the earlier mapping wins. Done once per node, in place.
    private static func flatten(_ node: YAMLNode, file: String?) throws(YAMLError) {
        guard !node.flattened, case .mapping(let pairs) = node.content else { return }
        node.flattened = true
        // Almost no mapping has `<<` or `=` keys: then there is nothing to rebuild.
        var i = 0
        while i < pairs.count && pairs[i].key.tag != .merge && pairs[i].key.tag != .value { i += 1 }
        if i == pairs.count { return }
        var merged: [YAMLNode.Pair] = []
        var own: [YAMLNode.Pair] = []
        own.reserveCapacity(pairs.count)
        for pair in pairs {
            let key = pair.key
            let value = pair.value
            if key.tag == .merge {
                switch value.content {
                case .mapping:
                    try flatten(value, file: file)
                    if case .mapping(let valuePairs) = value.content { merged += valuePairs }
                case .sequence(let subnodes):
                    var submerge: [[YAMLNode.Pair]] = []
                    for subnode in subnodes {
                        guard case .mapping = subnode.content else {
                            throw YAMLError(
                                file: file, mark: subnode.start.sourceMark,
                                message: "expected a mapping for merging, but found \(subnode.kindName)",
                                context: "while constructing a mapping", contextMark: node.start.sourceMark)
                        }
                        try flatten(subnode, file: file)
                        if case .mapping(let subPairs) = subnode.content { submerge.append(subPairs) }
                    }
                    for subPairs in submerge.reversed() { merged += subPairs }
                case .scalar:
                    throw YAMLError(
                        file: file, mark: value.start.sourceMark,
                        message: "expected a mapping or list of mappings for merging, but found scalar",
                        context: "while constructing a mapping", contextMark: node.start.sourceMark)
                }
            } else {
                if key.tag == .value { key.tag = .str }
                own.append(pair)
            }
        }
        node.mergedCount = merged.count
        node.content = .mapping(merged + own)
    }
}

/// Doubles as Python prints them (`repr`), which is what `json.dumps` and
/// PyYAML's representer use: fixed notation for decimal exponents -4..<16,
/// scientific otherwise. Swift's `description` switches at 2^53 instead.
enum YAMLFloat {
    /// Python's `repr(d)`: `1.0`, `1e+16`, `1.5e-05`, `inf`, `nan`.
    static func pythonRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Shortest round-trip digits and decimal exponent, from Swift's own formatting.
        var text = Substring(d.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        let integerPart = text[..<point]
        let fractionPart = point < text.endIndex ? text[text.index(after: point)...] : ""
        var digits = Array(integerPart + fractionPart)
        // Decimal exponent of the first digit.
        exponent += integerPart.count - 1
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let sign = d.sign == .minus ? "-" : ""
        if exponent >= -4 && exponent < 16 {
            if exponent < 0 {
                return sign + "0." + String(repeating: "0", count: -exponent - 1) + String(digits)
            }
            let integerDigits = exponent + 1
            if digits.count <= integerDigits {
                return sign + String(digits) + String(repeating: "0", count: integerDigits - digits.count) + ".0"
            }
            return sign + String(digits[..<integerDigits]) + "." + String(digits[integerDigits...])
        }
        let mantissa = digits.count > 1 ? "\(digits[0]).\(String(digits[1...]))" : String(digits[0])
        let exponentDigits = String(abs(exponent))
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+")
            + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
    }

    /// A double as `json.dumps` writes it as a dict key.
    static func jsonKey(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return pythonRepr(d)
    }

    /// A double as YAML 1.1 text that reads back as the same float (PyYAML's
    /// `represent_float`): a dot is required, so `1e+16` becomes `1.0e+16`.
    static func yaml(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        let text = pythonRepr(d)
        if !text.contains("."), let e = text.firstIndex(of: "e") {
            return text[..<e] + ".0" + text[e...]
        }
        return text
    }
}
