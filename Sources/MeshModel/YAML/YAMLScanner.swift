/// The YAML scanner: UTF-8 bytes in, tokens out.
///
/// A close port of PyYAML's scanner.py, function by function and with its
/// messages, because "parses like `yaml.safe_load`" is the contract (the
/// differential test holds us to it), and PyYAML's behaviour on edge cases
/// (tabs, simple keys limited to one line and 1024 characters, plain scalars
/// that never contain `: ` or ` #`) is defined by this code, not by the spec.
/// Differences from the Python: it works on bytes (multi-byte line breaks NEL,
/// LS, PS are recognised at their lead byte), and flow collections nest at
/// most `maxFlowDepth` deep.
///
/// Tokens are produced lazily: a scalar may turn out to be a mapping key only
/// when its `:` is seen, and then a KEY (and maybe BLOCK-MAPPING-START) token
/// is inserted before it, so the queue holds everything since the oldest
/// possible simple key (at most one line, 1024 characters).
///
/// Hot paths here and in the parser, composer and constructor use index
/// loops, `count == 0` and `remove(at:)` rather than `for-in`, `isEmpty`,
/// `removeLast()`: unspecialized in debug builds, those generic
/// protocol-extension calls cost several times the work they do, and a
/// 1 MB manifest must load in well under a second in debug.
struct YAMLScanner {
    struct SimpleKey {
        var flowLevel: Int
        var tokenNumber: Int
        var required: Bool
        var mark: YAMLMark
    }

    /// The input and the position in it. A separate trivial struct so that
    /// its small helpers never copy the scanner's arrays (which a debug
    /// build does for every non-mutating call from a mutating method).
    var reader: YAMLCursor
    let file: String?
    let maxFlowDepth: Int

    private var done = false
    private var flowLevel = 0
    private var tokens: [YAMLToken] = []
    private var head = 0
    private var tokensTaken = 0
    private var indent = -1
    private var indents: [Int] = []
    private var allowSimpleKey = true
    private var headSettled = false
    /// Possible simple keys, at most one per flow level, in the order they
    /// were saved, which is also position, token-number and flow-level
    /// order. So the stale ones (on an earlier line or over 1024 characters
    /// back) are always a prefix, the nearest is the first, and the current
    /// level's key is the last: every operation is O(1) amortized, even for
    /// one long line of deeply nested flow collections (PyYAML scans them all).
    private var simpleKeys: [SimpleKey] = []
    /// Entries before this index are dropped (a queue's head).
    private var simpleKeysHead = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, file: String?, maxFlowDepth: Int) {
        reader = YAMLCursor(bytes)
        self.file = file
        self.maxFlowDepth = maxFlowDepth
        tokens.append(YAMLToken(id: .streamStart, start: reader.mark, end: reader.mark))
    }

    // MARK: Public interface

    /// The next token without consuming it.
    mutating func peekToken() throws(YAMLError) -> YAMLToken {
        try settleHead()
        return tokens[head]
    }

    /// The kind of the next token (the parser's most frequent question; cheaper than a copy of the token).
    mutating func peekTokenID() throws(YAMLError) -> YAMLToken.ID {
        try settleHead()
        return tokens[head].id
    }

    /// Fetches until the head token is final (no KEY can be inserted before
    /// it). Once it is, it stays so until consumed: later possible keys have
    /// later token numbers, and without fetching the staleness check finds
    /// nothing new. So the parser's repeated peeks cost one check.
    private mutating func settleHead() throws(YAMLError) {
        if headSettled { return }
        while try needMoreTokens() { try fetchMoreTokens() }
        headSettled = true
    }

    mutating func nextToken() throws(YAMLError) -> YAMLToken {
        let token = try peekToken()
        headSettled = false
        head += 1
        tokensTaken += 1
        if head >= 64 && head * 2 >= tokens.count {
            tokens.removeFirst(head)
            head = 0
        }
        return token
    }

    func error(_ message: String, at mark: YAMLMark, context: String? = nil, contextMark: YAMLMark? = nil) -> YAMLError
    {
        YAMLError(
            file: file, mark: mark.sourceMark, message: message, context: context,
            contextMark: contextMark?.sourceMark)
    }

    // MARK: Fetching tokens

    private mutating func needMoreTokens() throws(YAMLError) -> Bool {
        if done { return false }
        if head == tokens.count { return true }
        if simpleKeysHead == simpleKeys.count { return false }
        // The current token may be a simple key: look further to find its ':'.
        try staleSimpleKeys()
        return simpleKeysHead < simpleKeys.count && simpleKeys[simpleKeysHead].tokenNumber == tokensTaken
    }

    private mutating func fetchMoreTokens() throws(YAMLError) {
        scanToNextToken()
        try staleSimpleKeys()
        unwindIndent(reader.column)

        // Byte values, not UInt8(ascii:), which a debug build calls each time.
        let ch = reader.peek()
        if reader.index >= reader.bytes.count { return try fetchStreamEnd() }
        if ch == 0x25 && reader.column == 0 { return try fetchDirective() }  // %
        if (ch == 0x2D || ch == 0x2E) && reader.isDocumentIndicatorAtColumnZero() {  // --- or ...
            return try fetchDocumentIndicator(ch == 0x2D ? .documentStart : .documentEnd)
        }
        switch ch {
        case 0x5B: return try fetchFlowCollectionStart(.flowSequenceStart)  // [
        case 0x7B: return try fetchFlowCollectionStart(.flowMappingStart)  // {
        case 0x5D: return try fetchFlowCollectionEnd(.flowSequenceEnd)  // ]
        case 0x7D: return try fetchFlowCollectionEnd(.flowMappingEnd)  // }
        case 0x2C: return try fetchFlowEntry()  // ,
        case 0x2D where reader.isBlankOrEnd(reader.index + 1): return try fetchBlockEntry()  // -
        case 0x3F where flowLevel != 0 || reader.isBlankOrEnd(reader.index + 1): return try fetchKey()  // ?
        case 0x3A where flowLevel != 0 || reader.isBlankOrEnd(reader.index + 1): return try fetchValue()  // :
        case 0x2A: return try fetchAnchorOrAlias(.alias)  // *
        case 0x26: return try fetchAnchorOrAlias(.anchor)  // &
        case 0x21: return try fetchTag()  // !
        case 0x7C where flowLevel == 0: return try fetchBlockScalar(folded: false)  // |
        case 0x3E where flowLevel == 0: return try fetchBlockScalar(folded: true)  // >
        case 0x27: return try fetchFlowScalar(double: false)  // '
        case 0x22: return try fetchFlowScalar(double: true)  // "
        default: break
        }
        if Self.checkPlain(reader, flowLevel: flowLevel) { return try fetchPlain() }
        throw error(
            "found character \(reader.describeCharacter(at: reader.index)) that cannot start any token",
            at: reader.mark,
            context: "while scanning for the next token")
    }

    // MARK: Simple keys

    /// Drops possible simple keys that can no longer be keys: a simple key
    /// is limited to one line and 1024 characters.
    private mutating func staleSimpleKeys() throws(YAMLError) {
        while simpleKeysHead < simpleKeys.count {
            let key = simpleKeys[simpleKeysHead]
            guard key.mark.line != reader.mark.line || reader.mark.characterIndex - key.mark.characterIndex > 1024
            else { break }
            if key.required {
                throw error(
                    "could not find expected ':'", at: reader.mark, context: "while scanning a simple key",
                    contextMark: key.mark)
            }
            simpleKeysHead += 1
        }
        if simpleKeysHead == 0 { return }
        if simpleKeysHead == simpleKeys.count {
            simpleKeys.removeAll(keepingCapacity: true)
            simpleKeysHead = 0
        } else if simpleKeysHead > 64 && simpleKeysHead * 2 > simpleKeys.count {
            simpleKeys.removeFirst(simpleKeysHead)
            simpleKeysHead = 0
        }
    }

    private mutating func savePossibleSimpleKey() throws(YAMLError) {
        let required = flowLevel == 0 && indent == reader.column
        guard allowSimpleKey else { return }
        try removePossibleSimpleKey()
        simpleKeys.append(
            SimpleKey(
                flowLevel: flowLevel, tokenNumber: tokensTaken + tokens.count - head, required: required,
                mark: reader.mark))
    }

    /// The current flow level's possible key, which can only be the last one.
    private mutating func takeSimpleKeyAtCurrentLevel() -> SimpleKey? {
        guard simpleKeysHead < simpleKeys.count, simpleKeys[simpleKeys.count - 1].flowLevel == flowLevel else {
            return nil
        }
        return simpleKeys.remove(at: simpleKeys.count - 1)
    }

    private mutating func removePossibleSimpleKey() throws(YAMLError) {
        guard let key = takeSimpleKeyAtCurrentLevel() else { return }
        if key.required {
            throw error(
                "could not find expected ':'", at: reader.mark, context: "while scanning a simple key",
                contextMark: key.mark)
        }
    }

    // MARK: Indentation

    private mutating func unwindIndent(_ column: Int) {
        // In the flow context indentation is ignored (as PyYAML does).
        if flowLevel != 0 { return }
        while indent > column {
            indent = indents.remove(at: indents.count - 1)
            tokens.append(YAMLToken(id: .blockEnd, start: reader.mark, end: reader.mark))
        }
    }

    private mutating func addIndent(_ column: Int) -> Bool {
        guard indent < column else { return false }
        indents.append(indent)
        indent = column
        return true
    }

    // MARK: Fetchers

    private mutating func fetchStreamEnd() throws(YAMLError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        simpleKeys = []
        simpleKeysHead = 0
        tokens.append(YAMLToken(id: .streamEnd, start: reader.mark, end: reader.mark))
        done = true
    }

    private mutating func fetchDirective() throws(YAMLError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanDirective())
    }

    private mutating func fetchDocumentIndicator(_ id: YAMLToken.ID) throws(YAMLError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        let start = reader.mark
        reader.forward(3)
        tokens.append(YAMLToken(id: id, start: start, end: reader.mark))
    }

    private mutating func fetchFlowCollectionStart(_ id: YAMLToken.ID) throws(YAMLError) {
        try savePossibleSimpleKey()
        flowLevel += 1
        if flowLevel > maxFlowDepth {
            throw error("flow collections nested deeper than \(maxFlowDepth) levels", at: reader.mark)
        }
        allowSimpleKey = true
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: id, start: start, end: reader.mark))
    }

    private mutating func fetchFlowCollectionEnd(_ id: YAMLToken.ID) throws(YAMLError) {
        try removePossibleSimpleKey()
        // PyYAML lets the level go negative on a stray ']' and leaves the error to the parser.
        flowLevel -= 1
        allowSimpleKey = false
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: id, start: start, end: reader.mark))
    }

    private mutating func fetchFlowEntry() throws(YAMLError) {
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: .flowEntry, start: start, end: reader.mark))
    }

    private mutating func fetchBlockEntry() throws(YAMLError) {
        if flowLevel == 0 {
            if !allowSimpleKey { throw error("sequence entries are not allowed here", at: reader.mark) }
            if addIndent(reader.column) {
                tokens.append(YAMLToken(id: .blockSequenceStart, start: reader.mark, end: reader.mark))
            }
        }
        // A '-' in the flow context is an error the parser reports.
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: .blockEntry, start: start, end: reader.mark))
    }

    private mutating func fetchKey() throws(YAMLError) {
        if flowLevel == 0 {
            if !allowSimpleKey { throw error("mapping keys are not allowed here", at: reader.mark) }
            if addIndent(reader.column) {
                tokens.append(YAMLToken(id: .blockMappingStart, start: reader.mark, end: reader.mark))
            }
        }
        allowSimpleKey = flowLevel == 0
        try removePossibleSimpleKey()
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: .key, start: start, end: reader.mark))
    }

    private mutating func fetchValue() throws(YAMLError) {
        if let key = takeSimpleKeyAtCurrentLevel() {
            // The saved scalar (or collection) was a key: insert KEY before it.
            let position = head + key.tokenNumber - tokensTaken
            tokens.insert(YAMLToken(id: .key, start: key.mark, end: key.mark), at: position)
            if flowLevel == 0 && addIndent(key.mark.column) {
                tokens.insert(YAMLToken(id: .blockMappingStart, start: key.mark, end: key.mark), at: position)
            }
            allowSimpleKey = false
        } else {
            // Part of a complex key (`? key` then `: value`).
            if flowLevel == 0 {
                if !allowSimpleKey { throw error("mapping values are not allowed here", at: reader.mark) }
                if addIndent(reader.column) {
                    tokens.append(YAMLToken(id: .blockMappingStart, start: reader.mark, end: reader.mark))
                }
            }
            allowSimpleKey = flowLevel == 0
            try removePossibleSimpleKey()
        }
        let start = reader.mark
        reader.forward()
        tokens.append(YAMLToken(id: .value, start: start, end: reader.mark))
    }

    private mutating func fetchAnchorOrAlias(_ id: YAMLToken.ID) throws(YAMLError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanAnchor(id))
    }

    private mutating func fetchTag() throws(YAMLError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanTag())
    }

    private mutating func fetchBlockScalar(folded: Bool) throws(YAMLError) {
        allowSimpleKey = true
        try removePossibleSimpleKey()
        tokens.append(try scanBlockScalar(folded: folded))
    }

    private mutating func fetchFlowScalar(double: Bool) throws(YAMLError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanFlowScalar(double: double))
    }

    private mutating func fetchPlain() throws(YAMLError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(scanPlain())
    }

    /// A plain scalar may start with any non-space character except the
    /// indicators; `-`, `?`, `:` may start one when followed by a non-space
    /// (`?` and `:` only in the block context).
    private static func checkPlain(_ reader: YAMLCursor, flowLevel: Int) -> Bool {
        let ch = reader.peek()
        if reader.isBlankOrEnd(reader.index) { return false }
        switch ch {
        case 0x2D:  // -
            return !reader.isBlankOrEnd(reader.index + 1)
        case 0x3F, 0x3A:  // ? :
            return !reader.isBlankOrEnd(reader.index + 1) && flowLevel == 0
        case 0x2C, 0x5B, 0x5D, 0x7B, 0x7D,  // , [ ] { }
            0x23, 0x26, 0x2A, 0x21, 0x7C,  // # & * ! |
            0x3E, 0x27, 0x22, 0x25, 0x40,  // > ' " % @
            0x60:  // `
            return false
        default:
            return true
        }
    }

    // MARK: Scanners

    /// Skips spaces, comments and line breaks (not tabs: PyYAML does not
    /// allow a tab to precede a token). A BOM is skipped at the very start.
    private mutating func scanToNextToken() {
        if reader.index == 0 && reader.peek() == 0xEF && reader.peek(1) == 0xBB && reader.peek(2) == 0xBF {
            reader.forward(3)
        }
        while true {
            reader.skipSpaces()
            if reader.peek() == 0x23 { reader.skipToBreak() }  // '#'
            if reader.scanLineBreak() != .none {
                if flowLevel == 0 { allowSimpleKey = true }
            } else {
                return
            }
        }
    }

    private mutating func scanDirective() throws(YAMLError) -> YAMLToken {
        let start = reader.mark
        reader.forward()
        let name = try scanDirectiveName(start)
        var token = YAMLToken(id: .directive, start: start, end: reader.mark, value: name)
        if name == "YAML" {
            token.directive = try scanYAMLDirectiveValue(start)
            token.end = reader.mark
        } else if name == "TAG" {
            token.directive = try scanTagDirectiveValue(start)
            token.end = reader.mark
        } else {
            token.end = reader.mark
            reader.skipToBreak()
        }
        try scanIgnoredLine(start, context: "while scanning a directive")
        return token
    }

    private static func isNameCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    private mutating func scanDirectiveName(_ start: YAMLMark) throws(YAMLError) -> String {
        var length = 0
        while Self.isNameCharacter(reader.peek(length)) { length += 1 }
        if length == 0 {
            throw error(
                "expected alphabetic or numeric character, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        let value = reader.text(reader.index, reader.index + length)
        reader.forward(length)
        if !reader.isSpaceOrEnd(reader.index) {
            throw error(
                "expected alphabetic or numeric character, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        return value
    }

    private mutating func scanYAMLDirectiveValue(_ start: YAMLMark) throws(YAMLError) -> YAMLToken.Directive {
        reader.skipSpaces()
        let major = try scanYAMLDirectiveNumber(start)
        if reader.peek() != UInt8(ascii: ".") {
            throw error(
                "expected a digit or '.', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        reader.forward()
        let minor = try scanYAMLDirectiveNumber(start)
        if !reader.isSpaceOrEnd(reader.index) {
            throw error(
                "expected a digit or ' ', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        return .yaml(major: major, minor: minor)
    }

    private mutating func scanYAMLDirectiveNumber(_ start: YAMLMark) throws(YAMLError) -> Int {
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if !isDigit(reader.peek()) {
            throw error(
                "expected a digit, but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        var length = 0
        while isDigit(reader.peek(length)) { length += 1 }
        // Clamp absurdly long numbers rather than overflow; only 1.x is accepted anyway.
        let value = Int(reader.text(reader.index, reader.index + min(length, 9))) ?? 0
        reader.forward(length)
        return value
    }

    private mutating func scanTagDirectiveValue(_ start: YAMLMark) throws(YAMLError) -> YAMLToken.Directive {
        reader.skipSpaces()
        let handle = try scanTagHandle(context: "directive", start)
        if reader.peek() != UInt8(ascii: " ") {
            throw error(
                "expected ' ', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        reader.skipSpaces()
        let prefix = try scanTagURI(context: "directive", start)
        if !reader.isSpaceOrEnd(reader.index) {
            throw error(
                "expected ' ', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a directive", contextMark: start)
        }
        return .tag(handle: handle, prefix: prefix)
    }

    /// The rest of a directive or block scalar header line: spaces and an optional comment.
    private mutating func scanIgnoredLine(_ start: YAMLMark, context: String) throws(YAMLError) {
        reader.skipSpaces()
        if reader.peek() == UInt8(ascii: "#") { reader.skipToBreak() }
        if !reader.isBreakOrEnd(reader.index) {
            throw error(
                "expected a comment or a line break, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: context, contextMark: start)
        }
        _ = reader.scanLineBreak()
    }

    /// Anchors and aliases: ASCII letters, digits, `-` and `_` only (PyYAML
    /// restricts them so that `[*a, b]` is unambiguous).
    private mutating func scanAnchor(_ id: YAMLToken.ID) throws(YAMLError) -> YAMLToken {
        let start = reader.mark
        let name = id == .alias ? "alias" : "anchor"
        reader.forward()
        var length = 0
        while Self.isNameCharacter(reader.peek(length)) { length += 1 }
        if length == 0 {
            throw error(
                "expected alphabetic or numeric character, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: "while scanning an \(name)", contextMark: start)
        }
        let value = reader.text(reader.index, reader.index + length)
        reader.forward(length)
        let ch = reader.peek()
        let allowedAfter: Bool =
            reader.isBlankOrEnd(reader.index)
            || [
                UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
                UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"),
            ].contains(ch)
        if !allowedAfter {
            throw error(
                "expected alphabetic or numeric character, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: "while scanning an \(name)", contextMark: start)
        }
        return YAMLToken(id: id, start: start, end: reader.mark, value: value)
    }

    private mutating func scanTag() throws(YAMLError) -> YAMLToken {
        let start = reader.mark
        var handle: String?
        var suffix: String
        let ch = reader.peek(1)
        if ch == UInt8(ascii: "<") {
            // Verbatim: !<tag:yaml.org,2002:str>
            handle = nil
            reader.forward(2)
            suffix = try scanTagURI(context: "tag", start)
            if reader.peek() != UInt8(ascii: ">") {
                throw error(
                    "expected '>', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                    context: "while parsing a tag",
                    contextMark: start)
            }
            reader.forward()
        } else if reader.isBlankOrEnd(reader.index + 1) {
            // The non-specific tag '!'.
            handle = nil
            suffix = "!"
            reader.forward()
        } else {
            // '!suffix' or '!handle!suffix': look for a second '!' before a space.
            var length = 1
            var useHandle = false
            while !reader.isSpaceOrEnd(reader.index + length) {
                if reader.peek(length) == UInt8(ascii: "!") {
                    useHandle = true
                    break
                }
                length += 1
            }
            if useHandle {
                handle = try scanTagHandle(context: "tag", start)
            } else {
                handle = "!"
                reader.forward()
            }
            suffix = try scanTagURI(context: "tag", start)
        }
        if !reader.isSpaceOrEnd(reader.index) {
            throw error(
                "expected ' ', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a tag",
                contextMark: start)
        }
        return YAMLToken(id: .tag, start: start, end: reader.mark, value: suffix, handle: handle)
    }

    private mutating func scanTagHandle(context: String, _ start: YAMLMark) throws(YAMLError) -> String {
        if reader.peek() != UInt8(ascii: "!") {
            throw error(
                "expected '!', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a \(context)", contextMark: start)
        }
        var length = 1
        if reader.peek(length) != UInt8(ascii: " ") {
            while Self.isNameCharacter(reader.peek(length)) { length += 1 }
            if reader.peek(length) != UInt8(ascii: "!") {
                reader.forward(length)
                throw error(
                    "expected '!', but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                    context: "while scanning a \(context)", contextMark: start)
            }
            length += 1
        }
        let value = reader.text(reader.index, reader.index + length)
        reader.forward(length)
        return value
    }

    private static func isURICharacter(_ b: UInt8) -> Bool {
        if Self.isNameCharacter(b) { return true }
        switch b {
        case UInt8(ascii: ";"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "@"),
            UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: ","),
            UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"), UInt8(ascii: "*"), UInt8(ascii: "'"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    private mutating func scanTagURI(context: String, _ start: YAMLMark) throws(YAMLError) -> String {
        var utf8: [UInt8] = []
        var any = false
        while Self.isURICharacter(reader.peek()) {
            any = true
            if reader.peek() == UInt8(ascii: "%") {
                utf8 += try scanURIEscapes(context: context, start)
            } else {
                utf8.append(reader.peek())
                reader.forward()
            }
        }
        if !any {
            throw error(
                "expected URI, but found \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while parsing a \(context)", contextMark: start)
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    private mutating func scanURIEscapes(context: String, _ start: YAMLMark) throws(YAMLError) -> [UInt8] {
        var codes: [UInt8] = []
        let escapeMark = reader.mark
        while reader.peek() == UInt8(ascii: "%") {
            reader.forward()
            guard let high = Self.hexValue(reader.peek()), let low = Self.hexValue(reader.peek(1)) else {
                let bad = Self.hexValue(reader.peek()) == nil ? reader.index : reader.index + 1
                let found = reader.describeCharacter(at: bad)
                throw error(
                    "expected URI escape sequence of 2 hexadecimal numbers, but found \(found)", at: reader.mark,
                    context: "while scanning a \(context)", contextMark: start)
            }
            codes.append(UInt8(high << 4 | low))
            reader.forward(2)
        }
        guard String(validating: codes, as: UTF8.self) != nil else {
            throw error(
                "URI escape is not valid UTF-8", at: escapeMark, context: "while scanning a \(context)",
                contextMark: start)
        }
        return codes
    }

    private static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: Block scalars

    private mutating func scanBlockScalar(folded: Bool) throws(YAMLError) -> YAMLToken {
        let start = reader.mark
        var chunks: [UInt8] = []
        reader.forward()
        let (chomping, increment) = try scanBlockScalarIndicators(start)
        try scanIgnoredLine(start, context: "while scanning a block scalar")

        // Determine the indentation level and go to the first non-empty line.
        let minIndent = max(indent + 1, 1)
        var breaks: [UInt8]
        var end: YAMLMark
        let blockIndent: Int
        if let increment {
            blockIndent = minIndent + increment - 1
            (breaks, end) = scanBlockScalarBreaks(blockIndent)
        } else {
            let maxIndent: Int
            (breaks, maxIndent, end) = scanBlockScalarIndentation()
            blockIndent = max(minIndent, maxIndent)
        }
        var lineBreak = YAMLCursor.LineBreak.none

        // The content lines.
        while reader.column == blockIndent && reader.index < reader.bytes.count {
            chunks += breaks
            let leadingNonSpace = reader.peek() != UInt8(ascii: " ") && reader.peek() != UInt8(ascii: "\t")
            let lineStart = reader.index
            let i = reader.breakOrEnd(from: lineStart)
            reader.append(lineStart..<i, to: &chunks)
            reader.forward(i - lineStart)
            lineBreak = reader.scanLineBreak()
            (breaks, end) = scanBlockScalarBreaks(blockIndent)
            if reader.column == blockIndent && reader.index < reader.bytes.count {
                // Folding as the specification says (PyYAML's choice).
                if folded && lineBreak == .lineFeed && leadingNonSpace && reader.peek() != UInt8(ascii: " ")
                    && reader.peek() != UInt8(ascii: "\t")
                {
                    if breaks.isEmpty { chunks.append(0x20) }
                } else {
                    chunks += lineBreak.utf8
                }
            } else {
                break
            }
        }

        // Chomp the tail: clip keeps one break, keep (+) all, strip (-) none.
        if chomping != false { chunks += lineBreak.utf8 }
        if chomping == true { chunks += breaks }
        return YAMLToken(
            id: .scalar, start: start, end: end, value: String(decoding: chunks, as: UTF8.self), plain: false,
            style: folded ? .folded : .literal)
    }

    /// `|+2`, `|-`, `>9` ...: chomping (true keep, false strip, nil clip) and indentation.
    private mutating func scanBlockScalarIndicators(_ start: YAMLMark) throws(YAMLError) -> (Bool?, Int?) {
        var chomping: Bool?
        var increment: Int?
        func digit(_ b: UInt8) -> Int? {
            b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") ? Int(b - UInt8(ascii: "0")) : nil
        }
        let zeroMessage = "expected indentation indicator in the range 1-9, but found 0"
        var ch = reader.peek()
        if ch == UInt8(ascii: "+") || ch == UInt8(ascii: "-") {
            chomping = ch == UInt8(ascii: "+")
            reader.forward()
            if let d = digit(reader.peek()) {
                if d == 0 {
                    throw error(
                        zeroMessage, at: reader.mark, context: "while scanning a block scalar", contextMark: start)
                }
                increment = d
                reader.forward()
            }
        } else if let d = digit(ch) {
            if d == 0 {
                throw error(zeroMessage, at: reader.mark, context: "while scanning a block scalar", contextMark: start)
            }
            increment = d
            reader.forward()
            ch = reader.peek()
            if ch == UInt8(ascii: "+") || ch == UInt8(ascii: "-") {
                chomping = ch == UInt8(ascii: "+")
                reader.forward()
            }
        }
        if !reader.isSpaceOrEnd(reader.index) {
            throw error(
                "expected chomping or indentation indicators, but found \(reader.describeCharacter(at: reader.index))",
                at: reader.mark,
                context: "while scanning a block scalar", contextMark: start)
        }
        return (chomping, increment)
    }

    private mutating func scanBlockScalarIndentation() -> ([UInt8], Int, YAMLMark) {
        var chunks: [UInt8] = []
        var maxIndent = 0
        var end = reader.mark
        while reader.peek() == UInt8(ascii: " ") || reader.isBreak(reader.index) {
            if reader.peek() != UInt8(ascii: " ") {
                chunks += reader.scanLineBreak().utf8
                end = reader.mark
            } else {
                reader.forward()
                if reader.column > maxIndent { maxIndent = reader.column }
            }
        }
        return (chunks, maxIndent, end)
    }

    private mutating func scanBlockScalarBreaks(_ blockIndent: Int) -> ([UInt8], YAMLMark) {
        var chunks: [UInt8] = []
        var end = reader.mark
        while reader.column < blockIndent && reader.peek() == UInt8(ascii: " ") { reader.forward() }
        while reader.isBreak(reader.index) {
            chunks += reader.scanLineBreak().utf8
            end = reader.mark
            while reader.column < blockIndent && reader.peek() == UInt8(ascii: " ") { reader.forward() }
        }
        return (chunks, end)
    }

    // MARK: Quoted scalars

    /// Quoted scalars do not have to respect indentation (PyYAML is lenient
    /// here: the quotes delimit them); only document separators inside are errors.
    private mutating func scanFlowScalar(double: Bool) throws(YAMLError) -> YAMLToken {
        var chunks: [UInt8] = []
        let start = reader.mark
        let quote = reader.peek()
        reader.forward()
        try scanFlowScalarNonSpaces(double: double, start, into: &chunks)
        while reader.peek() != quote {
            try scanFlowScalarSpaces(double: double, start, into: &chunks)
            try scanFlowScalarNonSpaces(double: double, start, into: &chunks)
        }
        reader.forward()
        return YAMLToken(
            id: .scalar, start: start, end: reader.mark, value: String(decoding: chunks, as: UTF8.self), plain: false,
            style: double ? .doubleQuoted : .singleQuoted)
    }

    private mutating func scanFlowScalarNonSpaces(
        double: Bool, _ start: YAMLMark, into chunks: inout [UInt8]
    ) throws(YAMLError) {
        while true {
            var i = reader.index
            let base = reader.base
            while i < reader.count {
                let b = base[i]
                if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x20
                    || b == 0x09
                    || b == 0x0A || b == 0x0D || (b >= 0x80 && reader.isBreak(i))
                {
                    break
                }
                i += 1
            }
            if i > reader.index {
                reader.append(reader.index..<i, to: &chunks)
                reader.forward(i - reader.index)
            }
            let ch = reader.peek()
            if !double && ch == UInt8(ascii: "'") && reader.peek(1) == UInt8(ascii: "'") {
                chunks.append(UInt8(ascii: "'"))
                reader.forward(2)
            } else if (double && ch == UInt8(ascii: "'"))
                || (!double && (ch == UInt8(ascii: "\"") || ch == UInt8(ascii: "\\")))
            {
                chunks.append(ch)
                reader.forward()
            } else if double && ch == UInt8(ascii: "\\") {
                reader.forward()
                try scanEscape(start, into: &chunks)
            } else {
                return
            }
        }
    }

    /// One escape after `\` in a double-quoted scalar.
    private mutating func scanEscape(_ start: YAMLMark, into chunks: inout [UInt8]) throws(YAMLError) {
        let ch = reader.peek()
        let replacement: [UInt8]? =
            switch ch {
            case UInt8(ascii: "0"): [0x00]
            case UInt8(ascii: "a"): [0x07]
            case UInt8(ascii: "b"): [0x08]
            case UInt8(ascii: "t"), 0x09: [0x09]
            case UInt8(ascii: "n"): [0x0A]
            case UInt8(ascii: "v"): [0x0B]
            case UInt8(ascii: "f"): [0x0C]
            case UInt8(ascii: "r"): [0x0D]
            case UInt8(ascii: "e"): [0x1B]
            case UInt8(ascii: " "): [0x20]
            case UInt8(ascii: "\""): [0x22]
            case UInt8(ascii: "\\"): [0x5C]
            case UInt8(ascii: "/"): [0x2F]
            case UInt8(ascii: "N"): [0xC2, 0x85]
            case UInt8(ascii: "_"): [0xC2, 0xA0]
            case UInt8(ascii: "L"): [0xE2, 0x80, 0xA8]
            case UInt8(ascii: "P"): [0xE2, 0x80, 0xA9]
            default: nil
            }
        if let replacement {
            chunks += replacement
            reader.forward()
            return
        }
        let length =
            switch ch {
            case UInt8(ascii: "x"): 2
            case UInt8(ascii: "u"): 4
            case UInt8(ascii: "U"): 8
            default: 0
            }
        if length > 0 {
            reader.forward()
            var code: UInt32 = 0
            for k in 0..<length {
                guard let digit = Self.hexValue(reader.peek(k)) else {
                    let found = reader.describeCharacter(at: reader.index + k)
                    throw error(
                        "expected escape sequence of \(length) hexadecimal numbers, but found \(found)",
                        at: reader.mark, context: "while scanning a double-quoted scalar", contextMark: start)
                }
                code = code << 4 | digit
            }
            guard let scalar = Unicode.Scalar(code) else {
                let escape = "\\" + String(UnicodeScalar(ch)) + reader.text(reader.index, reader.index + length)
                throw error(
                    "escape sequence \(escape) is not a Unicode scalar value", at: reader.mark,
                    context: "while scanning a double-quoted scalar", contextMark: start)
            }
            chunks += Array(String(Character(scalar)).utf8)
            reader.forward(length)
        } else if reader.isBreak(reader.index) {
            // An escaped line break: the break and the next line's leading blanks vanish.
            _ = reader.scanLineBreak()
            try scanFlowScalarBreaks(start, into: &chunks)
        } else {
            throw error(
                "found unknown escape character \(reader.describeCharacter(at: reader.index))", at: reader.mark,
                context: "while scanning a double-quoted scalar", contextMark: start)
        }
    }

    private mutating func scanFlowScalarSpaces(
        double: Bool, _ start: YAMLMark, into chunks: inout [UInt8]
    ) throws(YAMLError) {
        let whitespaceStart = reader.index
        while reader.peek() == UInt8(ascii: " ") || reader.peek() == UInt8(ascii: "\t") { reader.forward() }
        let whitespaceEnd = reader.index
        if reader.index >= reader.bytes.count {
            throw error(
                "found unexpected end of stream", at: reader.mark, context: "while scanning a quoted scalar",
                contextMark: start)
        }
        if reader.isBreak(reader.index) {
            let lineBreak = reader.scanLineBreak()
            var breaks: [UInt8] = []
            try scanFlowScalarBreaks(start, into: &breaks)
            if lineBreak != .lineFeed {
                chunks += lineBreak.utf8
            } else if breaks.isEmpty {
                chunks.append(0x20)
            }
            chunks += breaks
        } else {
            reader.append(whitespaceStart..<whitespaceEnd, to: &chunks)
        }
    }

    private mutating func scanFlowScalarBreaks(_ start: YAMLMark, into chunks: inout [UInt8]) throws(YAMLError) {
        while true {
            // Instead of checking indentation, check for document separators.
            if reader.isDocumentIndicator() {
                throw error(
                    "found unexpected document separator", at: reader.mark, context: "while scanning a quoted scalar",
                    contextMark: start)
            }
            while reader.peek() == UInt8(ascii: " ") || reader.peek() == UInt8(ascii: "\t") { reader.forward() }
            if reader.isBreak(reader.index) {
                chunks += reader.scanLineBreak().utf8
            } else {
                return
            }
        }
    }

    // MARK: Plain scalars

    /// Plain scalars end at `: `, ` #`, a line less indented than the
    /// enclosing block, a document separator, and in the flow context at
    /// `,[]{}?`. Multi-line plain scalars fold line breaks to spaces.
    private mutating func scanPlain() -> YAMLToken {
        // Most plain scalars are one run of input bytes: `firstRun` keeps
        // that range and `chunks` is built only for multi-word scalars.
        var firstRun: Range<Int>?
        var chunks: [UInt8] = []
        let start = reader.mark
        var end = start
        let minIndent = indent + 1
        var spaces: [UInt8] = []
        while true {
            if reader.peek() == 0x23 { break }  // '#'
            var i = reader.index
            let base = reader.base
            let count = reader.count
            while i < count {
                let ch = base[i]
                if ch == 0x20 || ch == 0x09 || ch == 0x0A || ch == 0x0D { break }
                if ch >= 0x80 && reader.isBreak(i) { break }
                if ch == 0x3A {  // ':' followed by a blank (or in flow, by an indicator) ends it
                    let next = reader.byte(i + 1)
                    if reader.isBlankOrEnd(i + 1) { break }
                    if flowLevel != 0
                        && (next == 0x2C || next == 0x5B || next == 0x5D || next == 0x7B || next == 0x7D)
                    {
                        break
                    }
                }
                // In the flow context: , ? [ ] { }
                if flowLevel != 0 && (ch == 0x2C || ch == 0x3F || ch == 0x5B || ch == 0x5D || ch == 0x7B || ch == 0x7D)
                {
                    break
                }
                i += 1
            }
            if i == reader.index { break }
            allowSimpleKey = false
            if firstRun == nil && chunks.count == 0 {
                firstRun = reader.index..<i
            } else {
                if let run = firstRun {
                    reader.append(run, to: &chunks)
                    firstRun = nil
                }
                chunks += spaces
                reader.append(reader.index..<i, to: &chunks)
            }
            reader.forward(i - reader.index)
            end = reader.mark
            spaces.removeAll(keepingCapacity: true)
            guard scanPlainSpaces(into: &spaces), spaces.count > 0, reader.peek() != 0x23,
                flowLevel != 0 || reader.column >= minIndent
            else { break }
        }
        let value: String
        if let run = firstRun {
            value = reader.text(run.lowerBound, run.upperBound)
        } else {
            value = String(decoding: chunks, as: UTF8.self)
        }
        return YAMLToken(id: .scalar, start: start, end: end, value: value, plain: true, style: .plain)
    }

    /// The spaces and line breaks after a plain scalar's words, folded, into
    /// `chunks`; false at a document separator. Tabs are not allowed here
    /// (PyYAML forbids them).
    private mutating func scanPlainSpaces(into chunks: inout [UInt8]) -> Bool {
        let whitespaceStart = reader.index
        reader.skipSpaces()
        let whitespaceEnd = reader.index
        if reader.isBreak(reader.index) {
            let lineBreak = reader.scanLineBreak()
            allowSimpleKey = true
            if reader.isDocumentIndicator() { return false }
            var breaks: [UInt8] = []
            while reader.peek() == UInt8(ascii: " ") || reader.isBreak(reader.index) {
                if reader.peek() == UInt8(ascii: " ") {
                    reader.skipSpaces()
                } else {
                    breaks += reader.scanLineBreak().utf8
                    if reader.isDocumentIndicator() { return false }
                }
            }
            if lineBreak != .lineFeed {
                chunks += lineBreak.utf8
            } else if breaks.isEmpty {
                chunks.append(0x20)
            }
            chunks += breaks
        } else if whitespaceEnd > whitespaceStart {
            reader.append(whitespaceStart..<whitespaceEnd, to: &chunks)
        }
        return true
    }
}
