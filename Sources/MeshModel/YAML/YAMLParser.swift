/// A parsing event (PyYAML events.py), flattened like `YAMLToken`.
struct YAMLEvent {
    enum Kind: Equatable {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias, scalar, sequenceStart, sequenceEnd, mappingStart, mappingEnd
    }

    var kind: Kind
    /// Where the node (or its properties) starts; PyYAML's end marks are not needed.
    var start: YAMLMark
    var anchor: String? = nil
    /// The full tag after handle expansion (`tag:yaml.org,2002:str`, `!local`,
    /// `!` for the non-specific tag); nil when untagged.
    var tag: String? = nil
    /// For scalars: whether the implicit resolver may guess the type (plain,
    /// or tagged `!`). For alias events: the alias name is in `anchor`.
    var plainImplicit = false
    var value: String = ""
    var style = YAMLScalarStyle.plain
}

/// The YAML parser: tokens in, events out. A port of PyYAML's parser.py
/// (an LL(1) state machine with an explicit stack, so nesting costs heap,
/// not call stack). Grammar, from parser.py:
///
///     stream            ::= STREAM-START implicit_document? explicit_document* STREAM-END
///     implicit_document ::= block_node DOCUMENT-END*
///     explicit_document ::= DIRECTIVE* DOCUMENT-START block_node? DOCUMENT-END*
///     block_node        ::= ALIAS | properties block_content? | block_content
///     flow_node         ::= ALIAS | properties flow_content? | flow_content
///     properties        ::= TAG ANCHOR? | ANCHOR TAG?
///     block_sequence    ::= BLOCK-SEQUENCE-START (BLOCK-ENTRY block_node?)* BLOCK-END
///     indentless_sequence ::= (BLOCK-ENTRY block_node?)+
///     block_mapping     ::= BLOCK-MAPPING-START ((KEY block_node_or_indentless_sequence?)?
///                           (VALUE block_node_or_indentless_sequence?)?)* BLOCK-END
///     flow_sequence     ::= FLOW-SEQUENCE-START (flow_sequence_entry FLOW-ENTRY)*
///                           flow_sequence_entry? FLOW-SEQUENCE-END
///     flow_mapping      ::= FLOW-MAPPING-START (flow_mapping_entry FLOW-ENTRY)*
///                           flow_mapping_entry? FLOW-MAPPING-END
struct YAMLParser {
    enum State {
        case streamStart, implicitDocumentStart, documentStart, documentEnd, documentContent
        case blockNode, blockNodeOrIndentlessSequence, flowNode
        case blockSequenceFirstEntry, blockSequenceEntry, indentlessSequenceEntry
        case blockMappingFirstKey, blockMappingKey, blockMappingValue
        case flowSequenceFirstEntry, flowSequenceEntry, flowSequenceEntryMappingKey
        case flowSequenceEntryMappingValue, flowSequenceEntryMappingEnd
        case flowMappingFirstKey, flowMappingKey, flowMappingValue, flowMappingEmptyValue
    }

    static let defaultTagHandles = ["!": "!", "!!": "tag:yaml.org,2002:"]

    var scanner: YAMLScanner
    private var current: YAMLEvent?
    private var state: State? = .streamStart
    private var states: [State] = []
    private var marks: [YAMLMark] = []
    private var tagHandles = YAMLParser.defaultTagHandles

    init(_ scanner: YAMLScanner) { self.scanner = scanner }

    /// The next event without consuming it; nil after STREAM-END.
    mutating func peekEvent() throws(YAMLError) -> YAMLEvent? {
        if current == nil, let state { current = try parse(state) }
        return current
    }

    /// The kind of the next event, nil after STREAM-END.
    mutating func peekEventKind() throws(YAMLError) -> YAMLEvent.Kind? {
        if current == nil, let state { current = try parse(state) }
        return current?.kind
    }

    mutating func nextEvent() throws(YAMLError) -> YAMLEvent? {
        let event = try peekEvent()
        current = nil
        return event
    }

    private func error(
        _ message: String, at mark: YAMLMark, context: String? = nil, contextMark: YAMLMark? = nil
    ) -> YAMLError {
        scanner.error(message, at: mark, context: context, contextMark: contextMark)
    }

    private mutating func peekID() throws(YAMLError) -> YAMLToken.ID { try scanner.peekTokenID() }

    private mutating func popState() {
        state = states.count == 0 ? nil : states.remove(at: states.count - 1)
    }

    private mutating func parse(_ state: State) throws(YAMLError) -> YAMLEvent {
        switch state {
        case .streamStart:
            let token = try scanner.nextToken()
            self.state = .implicitDocumentStart
            return YAMLEvent(kind: .streamStart, start: token.start)
        case .implicitDocumentStart: return try parseImplicitDocumentStart()
        case .documentStart: return try parseDocumentStart()
        case .documentEnd: return try parseDocumentEnd()
        case .documentContent:
            let id = try peekID()
            if id == .directive || id == .documentStart || id == .documentEnd || id == .streamEnd {
                popState()
                return Self.emptyScalar(at: try scanner.peekToken().start)
            }
            return try parseNode(block: true, indentlessSequence: false)
        case .blockNode: return try parseNode(block: true, indentlessSequence: false)
        case .blockNodeOrIndentlessSequence: return try parseNode(block: true, indentlessSequence: true)
        case .flowNode: return try parseNode(block: false, indentlessSequence: false)
        case .blockSequenceFirstEntry:
            marks.append(try scanner.nextToken().start)
            return try parseBlockSequenceEntry()
        case .blockSequenceEntry: return try parseBlockSequenceEntry()
        case .indentlessSequenceEntry: return try parseIndentlessSequenceEntry()
        case .blockMappingFirstKey:
            marks.append(try scanner.nextToken().start)
            return try parseBlockMappingKey()
        case .blockMappingKey: return try parseBlockMappingKey()
        case .blockMappingValue: return try parseBlockMappingValue()
        case .flowSequenceFirstEntry:
            marks.append(try scanner.nextToken().start)
            return try parseFlowSequenceEntry(first: true)
        case .flowSequenceEntry: return try parseFlowSequenceEntry(first: false)
        case .flowSequenceEntryMappingKey: return try parseFlowSequenceEntryMappingKey()
        case .flowSequenceEntryMappingValue: return try parseFlowSequenceEntryMappingValue()
        case .flowSequenceEntryMappingEnd:
            self.state = .flowSequenceEntry
            let mark = try scanner.peekToken().start
            return YAMLEvent(kind: .mappingEnd, start: mark)
        case .flowMappingFirstKey:
            marks.append(try scanner.nextToken().start)
            return try parseFlowMappingKey(first: true)
        case .flowMappingKey: return try parseFlowMappingKey(first: false)
        case .flowMappingValue: return try parseFlowMappingValue()
        case .flowMappingEmptyValue:
            self.state = .flowMappingKey
            return Self.emptyScalar(at: try scanner.peekToken().start)
        }
    }

    private static func emptyScalar(at mark: YAMLMark) -> YAMLEvent {
        YAMLEvent(kind: .scalar, start: mark, plainImplicit: true)
    }

    // MARK: Documents

    private mutating func parseImplicitDocumentStart() throws(YAMLError) -> YAMLEvent {
        let id = try peekID()
        guard id != .directive && id != .documentStart && id != .streamEnd else { return try parseDocumentStart() }
        tagHandles = Self.defaultTagHandles
        let mark = try scanner.peekToken().start
        states.append(.documentEnd)
        state = .blockNode
        return YAMLEvent(kind: .documentStart, start: mark)
    }

    private mutating func parseDocumentStart() throws(YAMLError) -> YAMLEvent {
        // Extra document end indicators.
        while try peekID() == .documentEnd { _ = try scanner.nextToken() }
        if try peekID() == .streamEnd {
            let token = try scanner.nextToken()
            state = nil
            return YAMLEvent(kind: .streamEnd, start: token.start)
        }
        let start = try scanner.peekToken().start
        try processDirectives()
        let token = try scanner.peekToken()
        guard token.id == .documentStart else {
            throw error("expected '<document start>', but found '\(token.id.name)'", at: token.start)
        }
        _ = try scanner.nextToken()
        states.append(.documentEnd)
        state = .documentContent
        return YAMLEvent(kind: .documentStart, start: start)
    }

    private mutating func parseDocumentEnd() throws(YAMLError) -> YAMLEvent {
        let token = try scanner.peekToken()
        if token.id == .documentEnd { _ = try scanner.nextToken() }
        state = .documentStart
        return YAMLEvent(kind: .documentEnd, start: token.start)
    }

    /// %YAML and %TAG: tolerated as PyYAML tolerates them (1.x only, no
    /// duplicates); %TAG handles apply to the document that follows.
    private mutating func processDirectives() throws(YAMLError) {
        var sawVersion = false
        var handles: [String: String] = [:]
        while try peekID() == .directive {
            let token = try scanner.nextToken()
            switch token.directive {
            case .yaml(let major, _):
                if sawVersion { throw error("found duplicate YAML directive", at: token.start) }
                if major != 1 {
                    throw error("found incompatible YAML document (version 1.* is required)", at: token.start)
                }
                sawVersion = true
            case .tag(let handle, let prefix):
                if handles[handle] != nil { throw error("duplicate tag handle '\(handle)'", at: token.start) }
                handles[handle] = prefix
            case .other:
                break
            }
        }
        for (handle, prefix) in Self.defaultTagHandles where handles[handle] == nil { handles[handle] = prefix }
        tagHandles = handles
    }

    // MARK: Nodes

    private mutating func parseNode(block: Bool, indentlessSequence: Bool) throws(YAMLError) -> YAMLEvent {
        var token = try scanner.peekToken()
        if token.id == .alias {
            _ = try scanner.nextToken()
            popState()
            return YAMLEvent(kind: .alias, start: token.start, anchor: token.value)
        }
        var anchor: String?
        var tagToken: YAMLToken?
        var start: YAMLMark?
        if token.id == .anchor {
            _ = try scanner.nextToken()
            start = token.start
            anchor = token.value
            token = try scanner.peekToken()
            if token.id == .tag {
                _ = try scanner.nextToken()
                tagToken = token
            }
        } else if token.id == .tag {
            _ = try scanner.nextToken()
            start = token.start
            tagToken = token
            token = try scanner.peekToken()
            if token.id == .anchor {
                _ = try scanner.nextToken()
                anchor = token.value
            }
        }
        var tag: String?
        if let tagToken {
            if let handle = tagToken.handle {
                guard let prefix = tagHandles[handle] else {
                    throw error(
                        "found undefined tag handle '\(handle)'", at: tagToken.start, context: "while parsing a node",
                        contextMark: start)
                }
                tag = prefix + tagToken.value
            } else {
                tag = tagToken.value
            }
        }
        token = try scanner.peekToken()
        let nodeStart = start ?? token.start
        let implicit = tag == nil || tag == "!"

        if indentlessSequence && token.id == .blockEntry {
            state = .indentlessSequenceEntry
            return YAMLEvent(
                kind: .sequenceStart, start: nodeStart, anchor: anchor, tag: tag,
                plainImplicit: implicit)
        }
        switch token.id {
        case .scalar:
            _ = try scanner.nextToken()
            popState()
            // A plain untagged scalar, or any scalar tagged '!', goes to the resolver.
            let plainImplicit = (token.plain && tag == nil) || tag == "!"
            return YAMLEvent(
                kind: .scalar, start: nodeStart, anchor: anchor, tag: tag, plainImplicit: plainImplicit,
                value: token.value, style: token.style)
        case .flowSequenceStart:
            state = .flowSequenceFirstEntry
            return YAMLEvent(kind: .sequenceStart, start: nodeStart, anchor: anchor, tag: tag)
        case .flowMappingStart:
            state = .flowMappingFirstKey
            return YAMLEvent(kind: .mappingStart, start: nodeStart, anchor: anchor, tag: tag)
        case .blockSequenceStart where block:
            state = .blockSequenceFirstEntry
            return YAMLEvent(kind: .sequenceStart, start: nodeStart, anchor: anchor, tag: tag)
        case .blockMappingStart where block:
            state = .blockMappingFirstKey
            return YAMLEvent(kind: .mappingStart, start: nodeStart, anchor: anchor, tag: tag)
        default:
            if anchor != nil || tag != nil {
                // An empty scalar is allowed after a tag or an anchor.
                popState()
                return YAMLEvent(
                    kind: .scalar, start: nodeStart, anchor: anchor, tag: tag, plainImplicit: implicit)
            }
            throw error(
                "expected the node content, but found '\(token.id.name)'", at: token.start,
                context: "while parsing a \(block ? "block" : "flow") node", contextMark: nodeStart)
        }
    }

    // MARK: Block collections

    private mutating func parseBlockSequenceEntry() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .blockEntry {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .blockEntry && next != .blockEnd {
                states.append(.blockSequenceEntry)
                return try parseNode(block: true, indentlessSequence: false)
            }
            state = .blockSequenceEntry
            return Self.emptyScalar(at: token.end)
        }
        let token = try scanner.peekToken()
        guard token.id == .blockEnd else {
            throw error(
                "expected <block end>, but found '\(token.id.name)'", at: token.start,
                context: "while parsing a block collection", contextMark: marks.last)
        }
        _ = try scanner.nextToken()
        popState()
        marks.remove(at: marks.count - 1)
        return YAMLEvent(kind: .sequenceEnd, start: token.start)
    }

    private mutating func parseIndentlessSequenceEntry() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .blockEntry {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .blockEntry && next != .key && next != .value && next != .blockEnd {
                states.append(.indentlessSequenceEntry)
                return try parseNode(block: true, indentlessSequence: false)
            }
            state = .indentlessSequenceEntry
            return Self.emptyScalar(at: token.end)
        }
        let token = try scanner.peekToken()
        popState()
        return YAMLEvent(kind: .sequenceEnd, start: token.start)
    }

    private mutating func parseBlockMappingKey() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .key {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .key && next != .value && next != .blockEnd {
                states.append(.blockMappingValue)
                return try parseNode(block: true, indentlessSequence: true)
            }
            state = .blockMappingValue
            return Self.emptyScalar(at: token.end)
        }
        let token = try scanner.peekToken()
        guard token.id == .blockEnd else {
            throw error(
                "expected <block end>, but found '\(token.id.name)'", at: token.start,
                context: "while parsing a block mapping", contextMark: marks.last)
        }
        _ = try scanner.nextToken()
        popState()
        marks.remove(at: marks.count - 1)
        return YAMLEvent(kind: .mappingEnd, start: token.start)
    }

    private mutating func parseBlockMappingValue() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .value {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .key && next != .value && next != .blockEnd {
                states.append(.blockMappingKey)
                return try parseNode(block: true, indentlessSequence: true)
            }
            state = .blockMappingKey
            return Self.emptyScalar(at: token.end)
        }
        state = .blockMappingKey
        return Self.emptyScalar(at: try scanner.peekToken().start)
    }

    // MARK: Flow collections

    private mutating func parseFlowSequenceEntry(first: Bool) throws(YAMLError) -> YAMLEvent {
        if try peekID() != .flowSequenceEnd {
            if !first {
                let token = try scanner.peekToken()
                guard token.id == .flowEntry else {
                    throw error(
                        "expected ',' or ']', but got '\(token.id.name)'", at: token.start,
                        context: "while parsing a flow sequence", contextMark: marks.last)
                }
                _ = try scanner.nextToken()
            }
            let token = try scanner.peekToken()
            if token.id == .key {
                // `[a: b]` and `[? a : b]`: a single-pair mapping inside the sequence.
                state = .flowSequenceEntryMappingKey
                return YAMLEvent(kind: .mappingStart, start: token.start)
            } else if token.id != .flowSequenceEnd {
                states.append(.flowSequenceEntry)
                return try parseNode(block: false, indentlessSequence: false)
            }
        }
        let token = try scanner.nextToken()
        popState()
        marks.remove(at: marks.count - 1)
        return YAMLEvent(kind: .sequenceEnd, start: token.start)
    }

    private mutating func parseFlowSequenceEntryMappingKey() throws(YAMLError) -> YAMLEvent {
        let token = try scanner.nextToken()
        let next = try peekID()
        if next != .value && next != .flowEntry && next != .flowSequenceEnd {
            states.append(.flowSequenceEntryMappingValue)
            return try parseNode(block: false, indentlessSequence: false)
        }
        state = .flowSequenceEntryMappingValue
        return Self.emptyScalar(at: token.end)
    }

    private mutating func parseFlowSequenceEntryMappingValue() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .value {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .flowEntry && next != .flowSequenceEnd {
                states.append(.flowSequenceEntryMappingEnd)
                return try parseNode(block: false, indentlessSequence: false)
            }
            state = .flowSequenceEntryMappingEnd
            return Self.emptyScalar(at: token.end)
        }
        state = .flowSequenceEntryMappingEnd
        return Self.emptyScalar(at: try scanner.peekToken().start)
    }

    private mutating func parseFlowMappingKey(first: Bool) throws(YAMLError) -> YAMLEvent {
        if try peekID() != .flowMappingEnd {
            if !first {
                let token = try scanner.peekToken()
                guard token.id == .flowEntry else {
                    throw error(
                        "expected ',' or '}', but got '\(token.id.name)'", at: token.start,
                        context: "while parsing a flow mapping", contextMark: marks.last)
                }
                _ = try scanner.nextToken()
            }
            if try peekID() == .key {
                let token = try scanner.nextToken()
                let next = try peekID()
                if next != .value && next != .flowEntry && next != .flowMappingEnd {
                    states.append(.flowMappingValue)
                    return try parseNode(block: false, indentlessSequence: false)
                }
                state = .flowMappingValue
                return Self.emptyScalar(at: token.end)
            } else if try peekID() != .flowMappingEnd {
                states.append(.flowMappingEmptyValue)
                return try parseNode(block: false, indentlessSequence: false)
            }
        }
        let token = try scanner.nextToken()
        popState()
        marks.remove(at: marks.count - 1)
        return YAMLEvent(kind: .mappingEnd, start: token.start)
    }

    private mutating func parseFlowMappingValue() throws(YAMLError) -> YAMLEvent {
        if try peekID() == .value {
            let token = try scanner.nextToken()
            let next = try peekID()
            if next != .flowEntry && next != .flowMappingEnd {
                states.append(.flowMappingKey)
                return try parseNode(block: false, indentlessSequence: false)
            }
            state = .flowMappingKey
            return Self.emptyScalar(at: token.end)
        }
        state = .flowMappingKey
        return Self.emptyScalar(at: try scanner.peekToken().start)
    }
}
