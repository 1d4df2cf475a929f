/// How a scalar was written; the resolver only guesses types of plain ones.
public enum YAMLScalarStyle: Sendable, Hashable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// A lexical token (PyYAML tokens.py). One flat struct rather than an enum
/// with payloads keeps the parser's "is the next token one of ..." checks cheap.
struct YAMLToken {
    enum ID: Equatable {
        case streamStart, streamEnd, directive, documentStart, documentEnd
        case blockSequenceStart, blockMappingStart, blockEnd
        case flowSequenceStart, flowMappingStart, flowSequenceEnd, flowMappingEnd
        case blockEntry, flowEntry, key, value
        case alias, anchor, tag, scalar

        /// PyYAML's token id, used in messages ("expected <block end>, but found '-'").
        var name: String {
            switch self {
            case .streamStart: "<stream start>"
            case .streamEnd: "<stream end>"
            case .directive: "<directive>"
            case .documentStart: "<document start>"
            case .documentEnd: "<document end>"
            case .blockSequenceStart: "<block sequence start>"
            case .blockMappingStart: "<block mapping start>"
            case .blockEnd: "<block end>"
            case .flowSequenceStart: "["
            case .flowMappingStart: "{"
            case .flowSequenceEnd: "]"
            case .flowMappingEnd: "}"
            case .blockEntry: "-"
            case .flowEntry: ","
            case .key: "?"
            case .value: ":"
            case .alias: "<alias>"
            case .anchor: "<anchor>"
            case .tag: "<tag>"
            case .scalar: "<scalar>"
            }
        }
    }

    /// Boxed (`indirect`): rare, and tokens are copied often.
    indirect enum Directive {
        case yaml(major: Int, minor: Int)
        case tag(handle: String, prefix: String)
        case other
    }

    var id: ID
    var start: YAMLMark
    var end: YAMLMark
    /// Scalar text, alias or anchor name, directive name, or tag suffix.
    var value: String = ""
    /// Tag handle (`!`, `!!`, `!e!`); nil for verbatim tags `!<...>`.
    var handle: String? = nil
    var plain = false
    var style = YAMLScalarStyle.plain
    var directive = Directive.other
}
