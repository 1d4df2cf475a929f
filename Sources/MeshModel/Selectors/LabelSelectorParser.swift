extension LabelSelector {
    /// A selector string that does not parse: what was wrong and where.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        /// Offset in characters from the start of the selector text.
        public var offset: Int

        public init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }

        /// `column 7: found 'x', expected: ',' or end of string`.
        public var description: String { "column \(offset + 1): \(message)" }
    }

    /// Parses the string form, with the grammar and checks of Kubernetes'
    /// `labels.Parse`:
    /// ```
    /// selector    := "" | requirement ("," requirement)*
    /// requirement := "!" key | key [ ("=" | "==" | "!=" | ">" | "<") value
    ///                               | ("in" | "notin") "(" value ("," value)* ")" ]
    /// ```
    /// Whitespace may surround any token; `in` and `notin` are keywords and
    /// cannot be used as keys. An empty value (`a=`, `a in ()`) is the empty string.
    public init(parsing text: String) throws(ParseError) {
        var parser = SelectorParser(text)
        self.init(try parser.parseSelector())
    }
}

/// Tokens and the recursive-descent parser behind `LabelSelector(parsing:)`.
private struct SelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case bang, equals, doubleEquals, notEquals, greater, less
        case openParen, closeParen, comma
        case end

        var text: String {
            switch self {
            case .identifier(let s): s
            case .bang: "!"
            case .equals: "="
            case .doubleEquals: "=="
            case .notEquals: "!="
            case .greater: ">"
            case .less: "<"
            case .openParen: "("
            case .closeParen: ")"
            case .comma: ","
            case .end: "end of string"
            }
        }

        /// How an error message shows the token: quoted, except the end.
        var shown: String { self == .end ? "end of string" : "'\(text)'" }
    }

    let characters: [Character]
    var position = 0

    init(_ text: String) { characters = Array(text) }

    static func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
    static func isSpecial(_ c: Character) -> Bool { "=!(),<>".contains(c) }

    /// The next token and the offset it starts at, without consuming it.
    func peek() -> (token: Token, offset: Int) {
        var i = position
        while i < characters.count, Self.isWhitespace(characters[i]) { i += 1 }
        return (scan(at: i).token, i)
    }

    /// Consumes and returns the next token and its offset.
    mutating func next() -> (token: Token, offset: Int) {
        while position < characters.count, Self.isWhitespace(characters[position]) { position += 1 }
        let start = position
        let (token, length) = scan(at: start)
        position = start + length
        return (token, start)
    }

    private func scan(at i: Int) -> (token: Token, length: Int) {
        guard i < characters.count else { return (.end, 0) }
        let c = characters[i]
        let following: Character? = i + 1 < characters.count ? characters[i + 1] : nil
        switch c {
        case "!": return following == "=" ? (.notEquals, 2) : (.bang, 1)
        case "=": return following == "=" ? (.doubleEquals, 2) : (.equals, 1)
        case ">": return (.greater, 1)
        case "<": return (.less, 1)
        case "(": return (.openParen, 1)
        case ")": return (.closeParen, 1)
        case ",": return (.comma, 1)
        default:
            var j = i
            while j < characters.count, !Self.isWhitespace(characters[j]), !Self.isSpecial(characters[j]) { j += 1 }
            return (.identifier(String(characters[i..<j])), j - i)
        }
    }

    static func isKeyword(_ token: Token) -> Bool { token == .identifier("in") || token == .identifier("notin") }

    mutating func parseSelector() throws(LabelSelector.ParseError) -> [LabelRequirement] {
        var requirements: [LabelRequirement] = []
        while true {
            let (token, offset) = peek()
            switch token {
            case .end:
                return requirements
            case .identifier, .bang:
                requirements.append(try parseRequirement())
                let (after, afterOffset) = next()
                switch after {
                case .end:
                    return requirements
                case .comma:
                    let (ahead, aheadOffset) = peek()
                    var startsRequirement = ahead == .bang
                    if case .identifier = ahead, !Self.isKeyword(ahead) { startsRequirement = true }
                    if !startsRequirement {
                        throw error("found \(ahead.shown), expected: identifier after ','", at: aheadOffset)
                    }
                default:
                    throw error("found \(after.shown), expected: ',' or end of string", at: afterOffset)
                }
            default:
                throw error("found \(token.shown), expected: !, identifier, or end of string", at: offset)
            }
        }
    }

    mutating func parseRequirement() throws(LabelSelector.ParseError) -> LabelRequirement {
        var (token, offset) = next()
        let negated = token == .bang
        if negated { (token, offset) = next() }
        guard case .identifier(let key) = token, !Self.isKeyword(token) else {
            throw error("found \(token.shown), expected: identifier", at: offset)
        }
        if let problem = KubernetesNames.qualifiedNameErrors(key).first {
            throw error("invalid label key \"\(key)\": \(problem)", at: offset)
        }
        let (ahead, aheadOffset) = peek()
        if ahead == .end || ahead == .comma {
            return LabelRequirement(key: key, operator: negated ? .doesNotExist : .exists)
        }
        if negated {
            throw error("found \(ahead.shown), expected: ',' or end of string after '!\(key)'", at: aheadOffset)
        }

        let (op, opOffset) = next()
        switch op {
        case .equals, .doubleEquals, .notEquals:
            let value = try parseExactValue()
            return LabelRequirement(key: key, operator: op == .notEquals ? .notEquals : .equals, values: [value])
        case .greater, .less:
            let valueOffset = peek().offset
            let value = try parseExactValue()
            guard Int64(value) != nil else {
                throw error("for '\(op.text)' the value must be an integer, found '\(value)'", at: valueOffset)
            }
            return LabelRequirement(key: key, operator: op == .greater ? .greaterThan : .lessThan, values: [value])
        case .identifier("in"), .identifier("notin"):
            let values = try parseValueList()
            return LabelRequirement(key: key, operator: op == .identifier("in") ? .in : .notIn, values: values)
        default:
            throw error("found \(op.shown), expected: in, notin, =, ==, !=, >, <", at: opOffset)
        }
    }

    /// The value after `=`, `!=`, `>`, `<`: an identifier, or empty when the requirement ends there.
    mutating func parseExactValue() throws(LabelSelector.ParseError) -> String {
        let (ahead, offset) = peek()
        if ahead == .end || ahead == .comma { return "" }
        guard case .identifier(let value) = next().token else {
            throw error("found \(ahead.shown), expected: a label value", at: offset)
        }
        return try validated(value, at: offset)
    }

    /// `( v1, v2, ... )`; empty entries stand for the empty value, as in Kubernetes.
    mutating func parseValueList() throws(LabelSelector.ParseError) -> [String] {
        let (open, openOffset) = next()
        guard open == .openParen else { throw error("found \(open.shown), expected: '('", at: openOffset) }
        var values: [String] = []
        var expectingValue = true
        while true {
            let (token, offset) = next()
            switch token {
            case .identifier(let value) where expectingValue:
                values.append(try validated(value, at: offset))
                expectingValue = false
            case .comma:
                if expectingValue { values.append("") }
                expectingValue = true
            case .closeParen:
                if expectingValue { values.append("") }
                return values
            default:
                let expected = expectingValue ? "',', ')' or a label value" : "',' or ')'"
                throw error("found \(token.shown), expected: \(expected)", at: offset)
            }
        }
    }

    func validated(_ value: String, at offset: Int) throws(LabelSelector.ParseError) -> String {
        if let problem = KubernetesNames.labelValueErrors(value).first {
            throw error("invalid label value \"\(value)\": \(problem)", at: offset)
        }
        return value
    }

    func error(_ message: String, at offset: Int) -> LabelSelector.ParseError {
        LabelSelector.ParseError(message: message, offset: offset)
    }
}
