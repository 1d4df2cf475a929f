/// A line and column in a source file, both 1-based.
public struct SourceMark: Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// Where each value of a parsed document came from, so that an error found
/// later, by field path, can still point at `FILE:LINE`.
public struct SourceLocations: Sendable, Hashable {
    /// The file the document came from, as the user named it (nil for stdin or the API).
    public var file: String?
    /// Where the document itself starts.
    public var documentStart: SourceMark
    private var marks: [FieldPath: SourceMark] = [:]

    public init(file: String? = nil, documentStart: SourceMark = SourceMark(line: 1, column: 1)) {
        self.file = file
        self.documentStart = documentStart
    }

    /// Records where the value at `path` starts (for a mapping entry: its key).
    public mutating func record(_ mark: SourceMark, for path: FieldPath) {
        marks[path.normalized] = mark
    }

    /// The mark of the value at `path`, or of its nearest recorded ancestor:
    /// a missing field is reported where its parent is.
    public func mark(for path: FieldPath) -> SourceMark {
        var current = path.normalized
        while true {
            if let mark = marks[current] { return mark }
            if current.isRoot { return documentStart }
            current = current.parent
        }
    }

    /// `file:line` for `path`, or `line N` without a file.
    public func position(of path: FieldPath) -> String {
        let line = mark(for: path).line
        return file.map { "\($0):\(line)" } ?? "line \(line)"
    }
}
