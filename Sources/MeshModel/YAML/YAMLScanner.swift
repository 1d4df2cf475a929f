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
struct YAMLScanner {
    struct SimpleKey {
        var flowLevel: Int
        var tokenNumber: Int
        var required: Bool
        var mark: YAMLMark
    }

    enum LineBreak {
        case none, lineFeed, lineSeparator, paragraphSeparator

        var utf8: [UInt8] {
            switch self {
            case .none: []
            case .lineFeed: [0x0A]
            case .lineSeparator: [0xE2, 0x80, 0xA8]
            case .paragraphSeparator: [0xE2, 0x80, 0xA9]
            }
        }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let file: String?
    let maxFlowDepth: Int

    /// Current position: `mark.index` is the byte offset.
    var mark = YAMLMark.start
    var done = false
    var flowLevel = 0
    private var tokens: [YAMLToken] = []
    private var head = 0
    private var tokensTaken = 0
    private var indent = -1
    private var indents: [Int] = []
    private var allowSimpleKey = true
    /// At most one per flow level; almost always zero to two entries.
    private var possibleSimpleKeys: [SimpleKey] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, file: String?, maxFlowDepth: Int) {
        self.bytes = bytes
        self.file = file
        self.maxFlowDepth = maxFlowDepth
        tokens.append(YAMLToken(id: .streamStart, start: mark, end: mark))
    }

    // MARK: Public interface

    /// The next token without consuming it.
    mutating func peekToken() throws(YAMLError) -> YAMLToken {
        while try needMoreTokens() { try fetchMoreTokens() }
        return tokens[head]
    }

    mutating func nextToken() throws(YAMLError) -> YAMLToken {
        let token = try peekToken()
        head += 1
        tokensTaken += 1
        if head >= 64 && head * 2 >= tokens.count {
            tokens.removeFirst(head)
            head = 0
        }
        return token
    }

    // MARK: Reading bytes

    var index: Int { mark.index }
    var column: Int { mark.column }

    @inline(__always) func byte(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
    @inline(__always) func peek(_ k: Int = 0) -> UInt8 { byte(mark.index + k) }

    /// A line break starts at byte `i` (LF, CR, NEL, LS, PS).
    @inline(__always) func isBreak(_ i: Int) -> Bool {
        switch byte(i) {
        case 0x0A, 0x0D: true
        case 0xC2: byte(i + 1) == 0x85
        case 0xE2: byte(i + 1) == 0x80 && (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9)
        default: false
        }
    }
    /// PyYAML's `'\0\r\n\x85\u2028\u2029'`: a break or the end.
    @inline(__always) func isBreakOrEnd(_ i: Int) -> Bool { i >= bytes.count || isBreak(i) }
    /// `'\0 \t\r\n\x85\u2028\u2029'`.
    @inline(__always) func isBlankOrEnd(_ i: Int) -> Bool {
        let b = byte(i)
        return b == 0x20 || b == 0x09 || isBreakOrEnd(i)
    }
    /// `'\0 \r\n\x85\u2028\u2029'` (no tab).
    @inline(__always) func isSpaceOrEnd(_ i: Int) -> Bool { byte(i) == 0x20 || isBreakOrEnd(i) }

    mutating func forward(_ count: Int = 1) {
        let end = min(mark.index + count, bytes.count)
        var i = mark.index
        while i < end {
            YAMLReader.advance(&mark, over: bytes, at: i)
            i += 1
        }
    }

    /// Skips ASCII spaces quickly (the hot path of indentation).
    mutating func skipSpaces() {
        var i = mark.index
        while i < bytes.count && bytes[i] == 0x20 { i += 1 }
        let n = i - mark.index
        mark.index = i
        mark.column += n
        mark.characterIndex += n
    }

    /// Skips to the next line break or the end (comments, ignored lines).
    mutating func skipToBreak() {
        while !isBreakOrEnd(mark.index) { forward() }
    }

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// The character at byte `i`, quoted for a message: `'\t'`, `'é'`, or `end of stream`.
    func describeCharacter(at i: Int) -> String {
        guard i < bytes.count else { return "end of stream" }
        let b = bytes[i]
        switch b {
        case 0x09: return "'\\t'"
        case 0x0A: return "'\\n'"
        case 0x0D: return "'\\r'"
        case 0x27: return "\"'\""
        default:
            if b < 0x80 { return "'\(String(UnicodeScalar(b)))'" }
            guard let (scalar, _) = YAMLReader.decode(bytes, at: i), let unicode = Unicode.Scalar(scalar) else {
                return "byte #x\(YAMLReader.hex(UInt32(b), width: 2))"
            }
            if scalar == 0x85 || scalar == 0x2028 || scalar == 0x2029 || scalar == 0xFEFF {
                return "'\\u{\(YAMLReader.hex(scalar, width: 4))}'"
            }
            return "'\(String(Character(unicode)))'"
        }
    }

    func error(_ message: String, at mark: YAMLMark, context: String? = nil, contextMark: YAMLMark? = nil) -> YAMLError {
        YAMLError(
            file: file, mark: mark.sourceMark, message: message, context: context,
            contextMark: contextMark?.sourceMark)
    }

    // MARK: Fetching tokens

    private mutating func needMoreTokens() throws(YAMLError) -> Bool {
        if done { return false }
        if head == tokens.count { return true }
        // The current token may be a simple key: look further to find its ':'.
        try staleSimpleKeys()
        return nextPossibleSimpleKey() == tokensTaken
    }

    private mutating func fetchMoreTokens() throws(YAMLError) {
        scanToNextToken()
        try staleSimpleKeys()
        unwindIndent(column)

        let ch = peek()
        if index >= bytes.count { return try fetchStreamEnd() }
        if ch == UInt8(ascii: "%") && column == 0 { return try fetchDirective() }
        if ch == UInt8(ascii: "-") && checkDocumentIndicator() { return try fetchDocumentIndicator(.documentStart) }
        if ch == UInt8(ascii: ".") && checkDocumentIndicator() { return try fetchDocumentIndicator(.documentEnd) }
        switch ch {
        case UInt8(ascii: "["): return try fetchFlowCollectionStart(.flowSequenceStart)
        case UInt8(ascii: "{"): return try fetchFlowCollectionStart(.flowMappingStart)
        case UInt8(ascii: "]"): return try fetchFlowCollectionEnd(.flowSequenceEnd)
        case UInt8(ascii: "}"): return try fetchFlowCollectionEnd(.flowMappingEnd)
        case UInt8(ascii: ","): return try fetchFlowEntry()
        case UInt8(ascii: "-") where isBlankOrEnd(index + 1): return try fetchBlockEntry()
        case UInt8(ascii: "?") where flowLevel != 0 || isBlankOrEnd(index + 1): return try fetchKey()
        case UInt8(ascii: ":") where flowLevel != 0 || isBlankOrEnd(index + 1): return try fetchValue()
        case UInt8(ascii: "*"): return try fetchAnchorOrAlias(.alias)
        case UInt8(ascii: "&"): return try fetchAnchorOrAlias(.anchor)
        case UInt8(ascii: "!"): return try fetchTag()
        case UInt8(ascii: "|") where flowLevel == 0: return try fetchBlockScalar(folded: false)
        case UInt8(ascii: ">") where flowLevel == 0: return try fetchBlockScalar(folded: true)
        case UInt8(ascii: "'"): return try fetchFlowScalar(double: false)
        case UInt8(ascii: "\""): return try fetchFlowScalar(double: true)
        default: break
        }
        if checkPlain() { return try fetchPlain() }
        throw error(
            "found character \(describeCharacter(at: index)) that cannot start any token", at: mark,
            context: "while scanning for the next token")
    }

    // MARK: Simple keys

    private func nextPossibleSimpleKey() -> Int? {
        var minimum: Int? = nil
        for key in possibleSimpleKeys where minimum == nil || key.tokenNumber < minimum! {
            minimum = key.tokenNumber
        }
        return minimum
    }

    /// Drops possible simple keys that can no longer be keys: a simple key
    /// is limited to one line and 1024 characters.
    private mutating func staleSimpleKeys() throws(YAMLError) {
        var i = 0
        while i < possibleSimpleKeys.count {
            let key = possibleSimpleKeys[i]
            if key.mark.line != mark.line || mark.characterIndex - key.mark.characterIndex > 1024 {
                if key.required {
                    throw error(
                        "could not find expected ':'", at: mark, context: "while scanning a simple key",
                        contextMark: key.mark)
                }
                possibleSimpleKeys.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    private mutating func savePossibleSimpleKey() throws(YAMLError) {
        let required = flowLevel == 0 && indent == column
        guard allowSimpleKey else { return }
        try removePossibleSimpleKey()
        possibleSimpleKeys.append(
            SimpleKey(
                flowLevel: flowLevel, tokenNumber: tokensTaken + tokens.count - head, required: required, mark: mark))
    }

    private mutating func removePossibleSimpleKey() throws(YAMLError) {
        guard let i = possibleSimpleKeys.firstIndex(where: { $0.flowLevel == flowLevel }) else { return }
        let key = possibleSimpleKeys[i]
        if key.required {
            throw error(
                "could not find expected ':'", at: mark, context: "while scanning a simple key", contextMark: key.mark)
        }
        possibleSimpleKeys.remove(at: i)
    }

    // MARK: Indentation

    private mutating func unwindIndent(_ column: Int) {
        // In the flow context indentation is ignored (as PyYAML does).
        if flowLevel != 0 { return }
        while indent > column {
            indent = indents.removeLast()
            tokens.append(YAMLToken(id: .blockEnd, start: mark, end: mark))
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
        possibleSimpleKeys = []
        tokens.append(YAMLToken(id: .streamEnd, start: mark, end: mark))
        done = true
    }

    private mutating func fetchDirective() throws(YAMLError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanDirective())
    }

    private func checkDocumentIndicator() -> Bool {
        guard column == 0 else { return false }
        let c = peek()
        return peek(1) == c && peek(2) == c && isBlankOrEnd(index + 3)
    }

    private mutating func fetchDocumentIndicator(_ id: YAMLToken.ID) throws(YAMLError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        let start = mark
        forward(3)
        tokens.append(YAMLToken(id: id, start: start, end: mark))
    }

    private mutating func fetchFlowCollectionStart(_ id: YAMLToken.ID) throws(YAMLError) {
        try savePossibleSimpleKey()
        flowLevel += 1
        if flowLevel > maxFlowDepth {
            throw error("flow collections nested deeper than \(maxFlowDepth) levels", at: mark)
        }
        allowSimpleKey = true
        let start = mark
        forward()
        tokens.append(YAMLToken(id: id, start: start, end: mark))
    }

    private mutating func fetchFlowCollectionEnd(_ id: YAMLToken.ID) throws(YAMLError) {
        try removePossibleSimpleKey()
        // PyYAML lets the level go negative on a stray ']' and leaves the error to the parser.
        flowLevel -= 1
        allowSimpleKey = false
        let start = mark
        forward()
        tokens.append(YAMLToken(id: id, start: start, end: mark))
    }

    private mutating func fetchFlowEntry() throws(YAMLError) {
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(YAMLToken(id: .flowEntry, start: start, end: mark))
    }

    private mutating func fetchBlockEntry() throws(YAMLError) {
        if flowLevel == 0 {
            if !allowSimpleKey { throw error("sequence entries are not allowed here", at: mark) }
            if addIndent(column) { tokens.append(YAMLToken(id: .blockSequenceStart, start: mark, end: mark)) }
        }
        // A '-' in the flow context is an error the parser reports.
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(YAMLToken(id: .blockEntry, start: start, end: mark))
    }

    private mutating func fetchKey() throws(YAMLError) {
        if flowLevel == 0 {
            if !allowSimpleKey { throw error("mapping keys are not allowed here", at: mark) }
            if addIndent(column) { tokens.append(YAMLToken(id: .blockMappingStart, start: mark, end: mark)) }
        }
        allowSimpleKey = flowLevel == 0
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(YAMLToken(id: .key, start: start, end: mark))
    }

    private mutating func fetchValue() throws(YAMLError) {
        if let i = possibleSimpleKeys.firstIndex(where: { $0.flowLevel == flowLevel }) {
            // The saved scalar (or collection) was a key: insert KEY before it.
            let key = possibleSimpleKeys.remove(at: i)
            let position = head + key.tokenNumber - tokensTaken
            tokens.insert(YAMLToken(id: .key, start: key.mark, end: key.mark), at: position)
            if flowLevel == 0 && addIndent(key.mark.column) {
                tokens.insert(YAMLToken(id: .blockMappingStart, start: key.mark, end: key.mark), at: position)
            }
            allowSimpleKey = false
        } else {
            // Part of a complex key (`? key` then `: value`).
            if flowLevel == 0 {
                if !allowSimpleKey { throw error("mapping values are not allowed here", at: mark) }
                if addIndent(column) { tokens.append(YAMLToken(id: .blockMappingStart, start: mark, end: mark)) }
            }
            allowSimpleKey = flowLevel == 0
            try removePossibleSimpleKey()
        }
        let start = mark
        forward()
        tokens.append(YAMLToken(id: .value, start: start, end: mark))
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
    private func checkPlain() -> Bool {
        let ch = peek()
        if isBlankOrEnd(index) { return false }
        switch ch {
        case UInt8(ascii: "-"):
            return !isBlankOrEnd(index + 1)
        case UInt8(ascii: "?"), UInt8(ascii: ":"):
            return !isBlankOrEnd(index + 1) && flowLevel == 0
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
            UInt8(ascii: "`"):
            return false
        default:
            return true
        }
    }

    // MARK: Scanners

    /// Skips spaces, comments and line breaks (not tabs: PyYAML does not
    /// allow a tab to precede a token). A BOM is skipped at the very start.
    private mutating func scanToNextToken() {
        if index == 0 && peek() == 0xEF && peek(1) == 0xBB && peek(2) == 0xBF { forward(3) }
        while true {
            skipSpaces()
            if peek() == UInt8(ascii: "#") { skipToBreak() }
            if scanLineBreak() != .none {
                if flowLevel == 0 { allowSimpleKey = true }
            } else {
                return
            }
        }
    }

    private mutating func scanDirective() throws(YAMLError) -> YAMLToken {
        let start = mark
        forward()
        let name = try scanDirectiveName(start)
        var token = YAMLToken(id: .directive, start: start, end: mark, value: name)
        if name == "YAML" {
            token.directive = try scanYAMLDirectiveValue(start)
            token.end = mark
        } else if name == "TAG" {
            token.directive = try scanTagDirectiveValue(start)
            token.end = mark
        } else {
            token.end = mark
            skipToBreak()
        }
        try scanIgnoredLine(start, context: "while scanning a directive")
        return token
    }

    private func isNameCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    private mutating func scanDirectiveName(_ start: YAMLMark) throws(YAMLError) -> String {
        var length = 0
        while isNameCharacter(peek(length)) { length += 1 }
        if length == 0 {
            throw error(
                "expected alphabetic or numeric character, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        let value = text(index, index + length)
        forward(length)
        if !isSpaceOrEnd(index) {
            throw error(
                "expected alphabetic or numeric character, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        return value
    }

    private mutating func scanYAMLDirectiveValue(_ start: YAMLMark) throws(YAMLError) -> YAMLToken.Directive {
        skipSpaces()
        let major = try scanYAMLDirectiveNumber(start)
        if peek() != UInt8(ascii: ".") {
            throw error(
                "expected a digit or '.', but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        forward()
        let minor = try scanYAMLDirectiveNumber(start)
        if !isSpaceOrEnd(index) {
            throw error(
                "expected a digit or ' ', but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        return .yaml(major: major, minor: minor)
    }

    private mutating func scanYAMLDirectiveNumber(_ start: YAMLMark) throws(YAMLError) -> Int {
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if !isDigit(peek()) {
            throw error(
                "expected a digit, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        var length = 0
        while isDigit(peek(length)) { length += 1 }
        // Clamp absurdly long numbers rather than overflow; only 1.x is accepted anyway.
        let value = Int(text(index, index + min(length, 9))) ?? 0
        forward(length)
        return value
    }

    private mutating func scanTagDirectiveValue(_ start: YAMLMark) throws(YAMLError) -> YAMLToken.Directive {
        skipSpaces()
        let handle = try scanTagHandle(context: "directive", start)
        if peek() != UInt8(ascii: " ") {
            throw error(
                "expected ' ', but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        skipSpaces()
        let prefix = try scanTagURI(context: "directive", start)
        if !isSpaceOrEnd(index) {
            throw error(
                "expected ' ', but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a directive", contextMark: start)
        }
        return .tag(handle: handle, prefix: prefix)
    }

    /// The rest of a directive or block scalar header line: spaces and an optional comment.
    private mutating func scanIgnoredLine(_ start: YAMLMark, context: String) throws(YAMLError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") { skipToBreak() }
        if !isBreakOrEnd(index) {
            throw error(
                "expected a comment or a line break, but found \(describeCharacter(at: index))", at: mark,
                context: context, contextMark: start)
        }
        _ = scanLineBreak()
    }

    /// Anchors and aliases: ASCII letters, digits, `-` and `_` only (PyYAML
    /// restricts them so that `[*a, b]` is unambiguous).
    private mutating func scanAnchor(_ id: YAMLToken.ID) throws(YAMLError) -> YAMLToken {
        let start = mark
        let name = id == .alias ? "alias" : "anchor"
        forward()
        var length = 0
        while isNameCharacter(peek(length)) { length += 1 }
        if length == 0 {
            throw error(
                "expected alphabetic or numeric character, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning an \(name)", contextMark: start)
        }
        let value = text(index, index + length)
        forward(length)
        let ch = peek()
        let allowedAfter: Bool =
            isBlankOrEnd(index)
            || [UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
                UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`")].contains(ch)
        if !allowedAfter {
            throw error(
                "expected alphabetic or numeric character, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning an \(name)", contextMark: start)
        }
        return YAMLToken(id: id, start: start, end: mark, value: value)
    }

    private mutating func scanTag() throws(YAMLError) -> YAMLToken {
        let start = mark
        var handle: String?
        var suffix: String
        let ch = peek(1)
        if ch == UInt8(ascii: "<") {
            // Verbatim: !<tag:yaml.org,2002:str>
            handle = nil
            forward(2)
            suffix = try scanTagURI(context: "tag", start)
            if peek() != UInt8(ascii: ">") {
                throw error(
                    "expected '>', but found \(describeCharacter(at: index))", at: mark, context: "while parsing a tag",
                    contextMark: start)
            }
            forward()
        } else if isBlankOrEnd(index + 1) {
            // The non-specific tag '!'.
            handle = nil
            suffix = "!"
            forward()
        } else {
            // '!suffix' or '!handle!suffix': look for a second '!' before a space.
            var length = 1
            var useHandle = false
            while !isSpaceOrEnd(index + length) {
                if peek(length) == UInt8(ascii: "!") {
                    useHandle = true
                    break
                }
                length += 1
            }
            if useHandle {
                handle = try scanTagHandle(context: "tag", start)
            } else {
                handle = "!"
                forward()
            }
            suffix = try scanTagURI(context: "tag", start)
        }
        if !isSpaceOrEnd(index) {
            throw error(
                "expected ' ', but found \(describeCharacter(at: index))", at: mark, context: "while scanning a tag",
                contextMark: start)
        }
        return YAMLToken(id: .tag, start: start, end: mark, value: suffix, handle: handle)
    }

    private mutating func scanTagHandle(context: String, _ start: YAMLMark) throws(YAMLError) -> String {
        if peek() != UInt8(ascii: "!") {
            throw error(
                "expected '!', but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a \(context)", contextMark: start)
        }
        var length = 1
        if peek(length) != UInt8(ascii: " ") {
            while isNameCharacter(peek(length)) { length += 1 }
            if peek(length) != UInt8(ascii: "!") {
                forward(length)
                throw error(
                    "expected '!', but found \(describeCharacter(at: index))", at: mark,
                    context: "while scanning a \(context)", contextMark: start)
            }
            length += 1
        }
        let value = text(index, index + length)
        forward(length)
        return value
    }

    private func isURICharacter(_ b: UInt8) -> Bool {
        if isNameCharacter(b) { return true }
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
        while isURICharacter(peek()) {
            any = true
            if peek() == UInt8(ascii: "%") {
                utf8 += try scanURIEscapes(context: context, start)
            } else {
                utf8.append(peek())
                forward()
            }
        }
        if !any {
            throw error(
                "expected URI, but found \(describeCharacter(at: index))", at: mark,
                context: "while parsing a \(context)", contextMark: start)
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    private mutating func scanURIEscapes(context: String, _ start: YAMLMark) throws(YAMLError) -> [UInt8] {
        var codes: [UInt8] = []
        let escapeMark = mark
        while peek() == UInt8(ascii: "%") {
            forward()
            guard let high = hexValue(peek()), let low = hexValue(peek(1)) else {
                let bad = hexValue(peek()) == nil ? index : index + 1
                throw error(
                    "expected URI escape sequence of 2 hexadecimal numbers, but found \(describeCharacter(at: bad))",
                    at: mark, context: "while scanning a \(context)", contextMark: start)
            }
            codes.append(UInt8(high << 4 | low))
            forward(2)
        }
        guard String(validating: codes, as: UTF8.self) != nil else {
            throw error(
                "URI escape is not valid UTF-8", at: escapeMark, context: "while scanning a \(context)",
                contextMark: start)
        }
        return codes
    }

    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: Block scalars

    private mutating func scanBlockScalar(folded: Bool) throws(YAMLError) -> YAMLToken {
        let start = mark
        var chunks: [UInt8] = []
        forward()
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
        var lineBreak = LineBreak.none

        // The content lines.
        while column == blockIndent && index < bytes.count {
            chunks += breaks
            let leadingNonSpace = peek() != UInt8(ascii: " ") && peek() != UInt8(ascii: "\t")
            let lineStart = index
            var i = index
            while !isBreakOrEnd(i) { i += 1 }
            chunks += bytes[lineStart..<i]
            forward(i - lineStart)
            lineBreak = scanLineBreak()
            (breaks, end) = scanBlockScalarBreaks(blockIndent)
            if column == blockIndent && index < bytes.count {
                // Folding as the specification says (PyYAML's choice).
                if folded && lineBreak == .lineFeed && leadingNonSpace && peek() != UInt8(ascii: " ")
                    && peek() != UInt8(ascii: "\t")
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
        var ch = peek()
        if ch == UInt8(ascii: "+") || ch == UInt8(ascii: "-") {
            chomping = ch == UInt8(ascii: "+")
            forward()
            if let d = digit(peek()) {
                if d == 0 { throw error(zeroMessage, at: mark, context: "while scanning a block scalar", contextMark: start) }
                increment = d
                forward()
            }
        } else if let d = digit(ch) {
            if d == 0 { throw error(zeroMessage, at: mark, context: "while scanning a block scalar", contextMark: start) }
            increment = d
            forward()
            ch = peek()
            if ch == UInt8(ascii: "+") || ch == UInt8(ascii: "-") {
                chomping = ch == UInt8(ascii: "+")
                forward()
            }
        }
        if !isSpaceOrEnd(index) {
            throw error(
                "expected chomping or indentation indicators, but found \(describeCharacter(at: index))", at: mark,
                context: "while scanning a block scalar", contextMark: start)
        }
        return (chomping, increment)
    }

    private mutating func scanBlockScalarIndentation() -> ([UInt8], Int, YAMLMark) {
        var chunks: [UInt8] = []
        var maxIndent = 0
        var end = mark
        while peek() == UInt8(ascii: " ") || isBreak(index) {
            if peek() != UInt8(ascii: " ") {
                chunks += scanLineBreak().utf8
                end = mark
            } else {
                forward()
                if column > maxIndent { maxIndent = column }
            }
        }
        return (chunks, maxIndent, end)
    }

    private mutating func scanBlockScalarBreaks(_ blockIndent: Int) -> ([UInt8], YAMLMark) {
        var chunks: [UInt8] = []
        var end = mark
        while column < blockIndent && peek() == UInt8(ascii: " ") { forward() }
        while isBreak(index) {
            chunks += scanLineBreak().utf8
            end = mark
            while column < blockIndent && peek() == UInt8(ascii: " ") { forward() }
        }
        return (chunks, end)
    }

    // MARK: Quoted scalars

    /// Quoted scalars do not have to respect indentation (PyYAML is lenient
    /// here: the quotes delimit them); only document separators inside are errors.
    private mutating func scanFlowScalar(double: Bool) throws(YAMLError) -> YAMLToken {
        var chunks: [UInt8] = []
        let start = mark
        let quote = peek()
        forward()
        try scanFlowScalarNonSpaces(double: double, start, into: &chunks)
        while peek() != quote {
            try scanFlowScalarSpaces(double: double, start, into: &chunks)
            try scanFlowScalarNonSpaces(double: double, start, into: &chunks)
        }
        forward()
        return YAMLToken(
            id: .scalar, start: start, end: mark, value: String(decoding: chunks, as: UTF8.self), plain: false,
            style: double ? .doubleQuoted : .singleQuoted)
    }

    private mutating func scanFlowScalarNonSpaces(
        double: Bool, _ start: YAMLMark, into chunks: inout [UInt8]
    ) throws(YAMLError) {
        while true {
            var i = index
            while true {
                let b = byte(i)
                if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || isBlankOrEnd(i) {
                    break
                }
                i += 1
            }
            if i > index {
                chunks += bytes[index..<i]
                forward(i - index)
            }
            let ch = peek()
            if !double && ch == UInt8(ascii: "'") && peek(1) == UInt8(ascii: "'") {
                chunks.append(UInt8(ascii: "'"))
                forward(2)
            } else if (double && ch == UInt8(ascii: "'")) || (!double && (ch == UInt8(ascii: "\"") || ch == UInt8(ascii: "\\"))) {
                chunks.append(ch)
                forward()
            } else if double && ch == UInt8(ascii: "\\") {
                forward()
                try scanEscape(start, into: &chunks)
            } else {
                return
            }
        }
    }

    /// One escape after `\` in a double-quoted scalar.
    private mutating func scanEscape(_ start: YAMLMark, into chunks: inout [UInt8]) throws(YAMLError) {
        let ch = peek()
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
            forward()
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
            forward()
            var code: UInt32 = 0
            for k in 0..<length {
                guard let digit = hexValue(peek(k)) else {
                    throw error(
                        "expected escape sequence of \(length) hexadecimal numbers, but found \(describeCharacter(at: index + k))",
                        at: mark, context: "while scanning a double-quoted scalar", contextMark: start)
                }
                code = code << 4 | digit
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error(
                    "escape sequence \\\(String(UnicodeScalar(ch)))\(text(index, index + length)) is not a Unicode scalar value",
                    at: mark, context: "while scanning a double-quoted scalar", contextMark: start)
            }
            chunks += Array(String(Character(scalar)).utf8)
            forward(length)
        } else if isBreak(index) {
            // An escaped line break: the break and the next line's leading blanks vanish.
            _ = scanLineBreak()
            try scanFlowScalarBreaks(start, into: &chunks)
        } else {
            throw error(
                "found unknown escape character \(describeCharacter(at: index))", at: mark,
                context: "while scanning a double-quoted scalar", contextMark: start)
        }
    }

    private mutating func scanFlowScalarSpaces(
        double: Bool, _ start: YAMLMark, into chunks: inout [UInt8]
    ) throws(YAMLError) {
        let whitespaceStart = index
        while peek() == UInt8(ascii: " ") || peek() == UInt8(ascii: "\t") { forward() }
        let whitespaceEnd = index
        if index >= bytes.count {
            throw error(
                "found unexpected end of stream", at: mark, context: "while scanning a quoted scalar",
                contextMark: start)
        }
        if isBreak(index) {
            let lineBreak = scanLineBreak()
            var breaks: [UInt8] = []
            try scanFlowScalarBreaks(start, into: &breaks)
            if lineBreak != .lineFeed {
                chunks += lineBreak.utf8
            } else if breaks.isEmpty {
                chunks.append(0x20)
            }
            chunks += breaks
        } else {
            chunks += bytes[whitespaceStart..<whitespaceEnd]
        }
    }

    private mutating func scanFlowScalarBreaks(_ start: YAMLMark, into chunks: inout [UInt8]) throws(YAMLError) {
        while true {
            // Instead of checking indentation, check for document separators.
            if checkDocumentIndicatorAtLineStart() {
                throw error(
                    "found unexpected document separator", at: mark, context: "while scanning a quoted scalar",
                    contextMark: start)
            }
            while peek() == UInt8(ascii: " ") || peek() == UInt8(ascii: "\t") { forward() }
            if isBreak(index) {
                chunks += scanLineBreak().utf8
            } else {
                return
            }
        }
    }

    /// `---` or `...` followed by a blank, at the current position (PyYAML
    /// checks this after line breaks without looking at the column).
    private func checkDocumentIndicatorAtLineStart() -> Bool {
        let c = peek()
        return (c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) && peek(1) == c && peek(2) == c
            && isBlankOrEnd(index + 3)
    }

    // MARK: Plain scalars

    /// Plain scalars end at `: `, ` #`, a line less indented than the
    /// enclosing block, a document separator, and in the flow context at
    /// `,[]{}?`. Multi-line plain scalars fold line breaks to spaces.
    private mutating func scanPlain() -> YAMLToken {
        var chunks: [UInt8] = []
        let start = mark
        var end = start
        let minIndent = indent + 1
        var spaces: [UInt8] = []
        while true {
            if peek() == UInt8(ascii: "#") { break }
            var i = index
            while true {
                let ch = byte(i)
                if ch == 0x20 || ch == 0x09 || ch == 0x0A || ch == 0x0D || i >= bytes.count { break }
                if ch >= 0x80 && isBreak(i) { break }
                if ch == UInt8(ascii: ":") {
                    let next = byte(i + 1)
                    if isBlankOrEnd(i + 1) { break }
                    if flowLevel != 0
                        && (next == UInt8(ascii: ",") || next == UInt8(ascii: "[") || next == UInt8(ascii: "]")
                            || next == UInt8(ascii: "{") || next == UInt8(ascii: "}"))
                    {
                        break
                    }
                }
                if flowLevel != 0
                    && (ch == UInt8(ascii: ",") || ch == UInt8(ascii: "?") || ch == UInt8(ascii: "[")
                        || ch == UInt8(ascii: "]") || ch == UInt8(ascii: "{") || ch == UInt8(ascii: "}"))
                {
                    break
                }
                i += 1
            }
            if i == index { break }
            allowSimpleKey = false
            chunks += spaces
            chunks += bytes[index..<i]
            forward(i - index)
            end = mark
            guard let more = scanPlainSpaces(), !more.isEmpty, peek() != UInt8(ascii: "#"),
                flowLevel != 0 || column >= minIndent
            else { break }
            spaces = more
        }
        return YAMLToken(
            id: .scalar, start: start, end: end, value: String(decoding: chunks, as: UTF8.self), plain: true,
            style: .plain)
    }

    /// The spaces and line breaks after a plain scalar's words, folded; nil
    /// at a document separator. Tabs are not allowed here (PyYAML forbids them).
    private mutating func scanPlainSpaces() -> [UInt8]? {
        var chunks: [UInt8] = []
        let whitespaceStart = index
        skipSpaces()
        let whitespaceEnd = index
        if isBreak(index) {
            let lineBreak = scanLineBreak()
            allowSimpleKey = true
            if checkDocumentIndicatorAtLineStart() { return nil }
            var breaks: [UInt8] = []
            while peek() == UInt8(ascii: " ") || isBreak(index) {
                if peek() == UInt8(ascii: " ") {
                    forward()
                } else {
                    breaks += scanLineBreak().utf8
                    if checkDocumentIndicatorAtLineStart() { return nil }
                }
            }
            if lineBreak != .lineFeed {
                chunks += lineBreak.utf8
            } else if breaks.isEmpty {
                chunks.append(0x20)
            }
            chunks += breaks
        } else if whitespaceEnd > whitespaceStart {
            chunks += bytes[whitespaceStart..<whitespaceEnd]
        }
        return chunks
    }

    /// CR LF, CR, LF and NEL become LF; LS and PS stay themselves.
    private mutating func scanLineBreak() -> LineBreak {
        let b = peek()
        if b == 0x0D {
            forward(peek(1) == 0x0A ? 2 : 1)
            return .lineFeed
        }
        if b == 0x0A {
            forward()
            return .lineFeed
        }
        if b == 0xC2 && peek(1) == 0x85 {
            forward(2)
            return .lineFeed
        }
        if b == 0xE2 && peek(1) == 0x80 {
            if peek(2) == 0xA8 {
                forward(3)
                return .lineSeparator
            }
            if peek(2) == 0xA9 {
                forward(3)
                return .paragraphSeparator
            }
        }
        return .none
    }
}
