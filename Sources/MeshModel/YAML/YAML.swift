/// YAML in and out, for manifests: the reader parses what PyYAML's
/// `yaml.safe_load_all` parses, to the same JSON (a differential test holds
/// it to that over Istio's samples and our own corpus); the emitter writes
/// the block style `kubectl get -o yaml` prints.
///
///     let documents = try YAML.loadAll(text, file: "bookinfo.yaml")
///     for document in documents {
///         document.value                                   // JSONValue
///         document.locations.position(of: "spec.replicas")  // "bookinfo.yaml:12"
///     }
///     print(YAML.dump(documents.map(\.value)))
///
/// The pipeline is PyYAML's: `YAMLReader` (UTF-8 and character checks) →
/// `YAMLScanner` (tokens) → `YAMLParser` (events) → `YAMLComposer` (node
/// graph, anchors, tag resolution by `YAMLResolver`) → `YAMLConstructor`
/// (JSON values, locations, merge keys).
///
/// Where meshlab deliberately differs from `yaml.safe_load_all` (the
/// differential test normalises the first five the same way on both sides,
/// and holds the sixth as a golden file):
///   1. timestamps stay their text (validated as PyYAML validates them);
///   2. integers beyond `Int` become `.double` (PyYAML keeps big ints);
///   3. `!!binary` is canonical base64 text (PyYAML gives bytes);
///   4. non-string keys become strings as `json.dumps` writes them (and
///      Python's `1 == True` key collision is not reproduced);
///   5. `!!set` is a mapping to null, `!!omap`/`!!pairs` lists of `[k, v]`;
///   6. local tags (`!Ref x`) are tolerated, the node read as if untagged
///      (scalars as strings); PyYAML refuses them;
///   7. a recursive alias (`&a [*a]`) is an error: JSON has no cycles;
///   8. nesting is bounded (`Limits.maxDepth`, 512; PyYAML hits Python's
///      recursion limit near 450-500) and so is alias expansion
///      (`Limits.maxExpandedValues`);
///   9. input is UTF-8 only (PyYAML also decodes UTF-16 with a BOM);
///  10. explicit tags on odd text follow Swift's number parsing where
///      Python's is looser (`!!int 0o17` fails here, is 15 in Python).
/// YAML 1.1 versus 1.2 (what PyYAML resolves, so what we resolve) is
/// described on `YAMLResolver`.
public enum YAML {
    /// Bounds that keep hostile input from exhausting the stack or memory.
    public struct Limits: Sendable, Hashable {
        /// Deepest nesting of collections, in the text and after expanding aliases.
        public var maxDepth: Int
        /// How many values one document may expand to through aliases. A
        /// document larger than this without aliases still loads: the bound
        /// is max(this, the number of nodes written in the document).
        public var maxExpandedValues: Int

        public init(maxDepth: Int = 512, maxExpandedValues: Int = 1_000_000) {
            self.maxDepth = maxDepth
            self.maxExpandedValues = maxExpandedValues
        }

        public static let `default` = Limits()
    }

    /// Every document of a YAML stream. An empty document between markers
    /// (`---\n---`) is `.null`, as in PyYAML; an empty stream has none.
    public static func loadAll(_ text: String, file: String? = nil, limits: Limits = .default) throws(YAMLError)
        -> [YAMLDocument]
    {
        // The string's own UTF-8 storage: `Array(text.utf8)` costs more than parsing in a debug build.
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(YAMLError) in try loadAll(buffer, file: file, limits: limits) }
        }.get()
    }

    /// The same from raw bytes, which must be UTF-8 (a leading BOM is skipped).
    public static func loadAll(utf8 bytes: [UInt8], file: String? = nil, limits: Limits = .default) throws(YAMLError)
        -> [YAMLDocument]
    {
        try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) in
            try loadAll(buffer, file: file, limits: limits)
        }
    }

    private static func loadAll(_ buffer: UnsafeBufferPointer<UInt8>, file: String?, limits: Limits) throws(YAMLError)
        -> [YAMLDocument]
    {
        var documents: [YAMLDocument] = []
        try forEachDocument(in: buffer, file: file, limits: limits) { (document) throws(YAMLError) in
            documents.append(document)
        }
        return documents
    }

    /// The only document of a stream (`.null` for an empty stream, as
    /// `yaml.safe_load`); more than one document is an error.
    public static func load(_ text: String, file: String? = nil, limits: Limits = .default) throws(YAMLError)
        -> YAMLDocument
    {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(YAMLError) in try load(buffer, file: file, limits: limits) }
        }.get()
    }

    public static func load(utf8 bytes: [UInt8], file: String? = nil, limits: Limits = .default) throws(YAMLError)
        -> YAMLDocument
    {
        try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) in try load(buffer, file: file, limits: limits) }
    }

    private static func load(_ buffer: UnsafeBufferPointer<UInt8>, file: String?, limits: Limits) throws(YAMLError)
        -> YAMLDocument
    {
        var single: YAMLDocument?
        try forEachDocument(in: buffer, file: file, limits: limits) { (document) throws(YAMLError) in
            if let first = single {
                throw YAMLError(
                    file: file, mark: document.locations.documentStart,
                    message: "expected a single document in the stream, but found another document",
                    context: "the first document", contextMark: first.locations.documentStart)
            }
            single = document
        }
        return single ?? YAMLDocument(value: .null, locations: SourceLocations(file: file))
    }

    /// The pipeline, one document at a time.
    private static func forEachDocument(
        in buffer: UnsafeBufferPointer<UInt8>, file: String?, limits: Limits,
        _ each: (YAMLDocument) throws(YAMLError) -> Void
    ) throws(YAMLError) {
        try YAMLReader.validate(buffer, file: file)
        let scanner = YAMLScanner(buffer, file: file, maxFlowDepth: limits.maxDepth)
        var composer = YAMLComposer(YAMLParser(scanner), maxDepth: limits.maxDepth)
        while true {
            let nodesBefore = composer.nodeCount
            guard let root = try composer.nextDocument() else { return }
            var constructor = YAMLConstructor(
                file: file, maxDepth: limits.maxDepth,
                budget: max(limits.maxExpandedValues, composer.nodeCount - nodesBefore),
                documentStart: root.start.sourceMark)
            let value = try constructor.constructDocument(root)
            try each(
                YAMLDocument(value: value, locations: constructor.locations, duplicateKeys: constructor.duplicateKeys))
        }
    }
}

/// One document of a YAML stream: its value and where each part of it was written.
public struct YAMLDocument: Sendable, Hashable {
    public var value: JSONValue
    /// The line and column of every mapping key and sequence item, by field
    /// path (keys as `.field`): `locations.position(of: "spec.http[0].route")`.
    public var locations: SourceLocations
    /// Keys written twice in one mapping. Loading keeps the last value, as
    /// PyYAML does; Kubernetes' strict decoding rejects them, so callers
    /// that validate can turn these into warnings or errors.
    public var duplicateKeys: [YAMLDuplicateKey]

    public init(value: JSONValue, locations: SourceLocations, duplicateKeys: [YAMLDuplicateKey] = []) {
        self.value = value
        self.locations = locations
        self.duplicateKeys = duplicateKeys
    }
}

/// A key repeated in one mapping; the later one (at `mark`) wins.
public struct YAMLDuplicateKey: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    /// The field path of the key.
    public var path: FieldPath
    public var mark: SourceMark
    public var firstMark: SourceMark

    public init(file: String?, path: FieldPath, mark: SourceMark, firstMark: SourceMark) {
        self.file = file
        self.path = path
        self.mark = mark
        self.firstMark = firstMark
    }

    /// `deploy.yaml:14:3: spec.replicas: duplicate key (first at 9:3); the last value wins`
    public var description: String {
        (file.map { "\($0):" } ?? "") + "\(mark.line):\(mark.column): \(path): duplicate key (first at "
            + "\(firstMark.line):\(firstMark.column)); the last value wins"
    }
}
