/// A YAML syntax or construction error, with where it was found.
///
/// Rendered as compilers and kubectl render positions, so a person can jump
/// to it: `deploy.yaml:12:5: mapping values are not allowed here`. When the
/// problem belongs to an enclosing construct that started elsewhere (an
/// unclosed quote, a mapping whose key never got its `:`), `context` names it
/// and `contextMark` says where it started.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it; nil for stdin or in-memory text.
    public var file: String?
    /// Where the problem is (1-based line and column, columns in Unicode scalars).
    public var mark: SourceMark
    /// What is wrong, in PyYAML's words where PyYAML has words for it.
    public var message: String
    /// The construct the problem was found in, e.g. "while scanning a quoted scalar".
    public var context: String?
    public var contextMark: SourceMark?

    public init(
        file: String? = nil, mark: SourceMark, message: String, context: String? = nil,
        contextMark: SourceMark? = nil
    ) {
        self.file = file
        self.mark = mark
        self.message = message
        self.context = context
        self.contextMark = contextMark
    }

    public var description: String {
        var out = file.map { "\($0):" } ?? ""
        out += "\(mark.line):\(mark.column): \(message)"
        if let context {
            out += " (\(context)"
            if let contextMark, contextMark != mark {
                out += " started at \(contextMark.line):\(contextMark.column)"
            }
            out += ")"
        }
        return out
    }
}
