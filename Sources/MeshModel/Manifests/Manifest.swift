/// One object read from a manifest file, with where it came from.
public struct Manifest: Sendable {
    public var object: JSONValue
    public var locations: SourceLocations
    /// The object's own path inside its document: root, or `items[3]` for a `kind: List`.
    public var basePath: FieldPath
    /// Fields the YAML wrote twice (the last one won), relative to the object.
    public var duplicateFields: [FieldPath]

    public init(object: JSONValue, locations: SourceLocations, basePath: FieldPath = .root,
                duplicateFields: [FieldPath] = []) {
        self.object = object
        self.locations = locations
        self.basePath = basePath
        self.duplicateFields = duplicateFields
    }

    public var apiVersion: String? { object["apiVersion"]?.stringValue }
    public var kind: String? { object["kind"]?.stringValue }
    public var name: String? { object["metadata"]?["name"]?.stringValue }
    public var namespace: String? { object["metadata"]?["namespace"]?.stringValue }

    /// `VirtualService/reviews`, how messages name the object.
    public var displayName: String { "\(kind ?? "<no kind>")/\(name ?? object["metadata"]?["generateName"]?.stringValue ?? "<no name>")" }

    /// `file:line` of `path` inside this object.
    public func position(of path: FieldPath = .root) -> String {
        locations.position(of: FieldPath(basePath.components + path.components))
    }

    /// A finding about this object as `meshlab apply` and `validate` print it:
    /// `FILE:LINE: Kind/name: path: message`.
    public func render(_ diagnostic: Diagnostic) -> String {
        let prefix = diagnostic.severity == .warning ? "Warning: " : ""
        return "\(position(of: diagnostic.sourcePath ?? diagnostic.path)): \(prefix)\(displayName): \(diagnostic.description)"
    }
}

/// A document that is not a Kubernetes object at all.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: String
    public var message: String
    public var description: String { "\(position): \(message)" }
}

/// Reads the objects in a YAML or JSON manifest, as `kubectl apply -f` does:
/// every document of a stream, empty documents skipped, `kind: List`
/// expanded into its items.
public enum ManifestReader {
    public struct Result: Sendable {
        public var manifests: [Manifest] = []
        public var errors: [ManifestError] = []
    }

    public static func read(_ text: String, file: String?) -> Result {
        read(utf8: Array(text.utf8), file: file)
    }

    public static func read(utf8 bytes: [UInt8], file: String?) -> Result {
        var result = Result()
        let documents: [YAMLDocument]
        do {
            documents = try YAML.loadAll(utf8: bytes, file: file)
        } catch {
            result.errors.append(ManifestError(position: position(file, error.mark.line), message: error.message
                + (error.context.map { " (\($0))" } ?? "")))
            return result
        }
        for document in documents {
            let before = result.manifests.count
            collect(document.value, locations: document.locations, basePath: .root, into: &result)
            for i in before..<result.manifests.count {
                let base = result.manifests[i].basePath.components
                result.manifests[i].duplicateFields = document.duplicateKeys.compactMap { duplicate in
                    let components = duplicate.path.components
                    guard components.count > base.count, Array(components.prefix(base.count)) == base else { return nil }
                    return FieldPath(Array(components.dropFirst(base.count)))
                }
            }
        }
        return result
    }

    static func position(_ file: String?, _ line: Int) -> String { file.map { "\($0):\(line)" } ?? "line \(line)" }

    static func collect(_ value: JSONValue, locations: SourceLocations, basePath: FieldPath, into result: inout Result) {
        let here = locations.position(of: basePath)
        switch value {
        case .null:
            return  // an empty document, or `---` at the end of a file
        case .object(let object):
            if object["kind"]?.stringValue == "List" || (object["kind"]?.stringValue?.hasSuffix("List") == true
                && object["items"]?.arrayValue != nil)
            {
                for (i, item) in (object["items"]?.arrayValue ?? []).enumerated() {
                    collect(item, locations: locations, basePath: basePath.appending("items").appending(index: i),
                            into: &result)
                }
                return
            }
            var missing: [String] = []
            if object["apiVersion"]?.stringValue?.isEmpty ?? true { missing.append("apiVersion not set") }
            if object["kind"]?.stringValue?.isEmpty ?? true { missing.append("kind not set") }
            if !missing.isEmpty {
                result.errors.append(ManifestError(position: here, message: missing.joined(separator: ", ")))
                return
            }
            result.manifests.append(Manifest(object: value, locations: locations, basePath: basePath))
        default:
            result.errors.append(ManifestError(
                position: here, message: "a manifest document must be an object with apiVersion and kind, not \(value.typeName == "array" ? "a list" : "a \(value.typeName)")"))
        }
    }
}

extension Manifest {
    /// Checks the object against its kind as the API server would (decode,
    /// default, validate), adding what only the file shows: fields written
    /// twice. An unknown kind is an error, as kubectl's "no matches for kind".
    public func check(options: CheckOptions = CheckOptions()) -> ResourceCheck {
        guard let apiVersion, let kind, let registered = ResourceRegistry.resource(apiVersion: apiVersion, kind: kind)
        else {
            return ResourceCheck(object: nil, diagnostics: [
                .error(.root, "no matches for kind \"\(kind ?? "")\" in version \"\(apiVersion ?? "")\""),
            ])
        }
        var result = registered.check(object, options: options)
        let duplicates = duplicateFields.map { path in
            Diagnostic(options.strict ? .error : .warning, at: .root, "duplicate field \"\(path)\"", sourcePath: path)
        }
        result.diagnostics.insert(contentsOf: duplicates, at: 0)
        if options.strict && !duplicates.isEmpty { result.object = nil }
        return result
    }
}
