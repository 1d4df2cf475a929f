import Foundation
import MeshModel
import MeshTestSupport

/// PyYAML as the reference reader: runs `Testdata/yaml/pyyaml_reference.py`
/// (see its docstring for the output format and the normalisation both
/// sides apply) and puts meshlab's own results in the same canonical form.
enum YAMLReference {
    enum Outcome: Equatable, CustomStringConvertible {
        /// The canonical JSON text of the list of documents.
        case documents(String)
        /// PyYAML's error with its problem mark (0, 0 when it gave none).
        case error(line: Int, column: Int, message: String)

        var isError: Bool { if case .error = self { true } else { false } }

        var description: String {
            switch self {
            case .documents(let text): text
            case .error(let line, let column, let message): "error at \(line):\(column): \(message)"
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let script = Golden.path("yaml/pyyaml_reference.py")

    /// PyYAML's outcome for each file, in order.
    static func outcomes(files: [String]) throws -> [Outcome] {
        try run(arguments: files, input: nil, count: files.count)
    }

    /// PyYAML's outcome for each text, in order.
    static func outcomes(texts: [String]) throws -> [Outcome] {
        let input = JSONValue.array(texts.map { .string($0) }).serialized()
        return try run(arguments: ["-"], input: Data(input.utf8), count: texts.count)
    }

    private static func run(arguments: [String], input: Data?, count: Int) throws -> [Outcome] {
        let process = Process()
        // `timeout` keeps a wedged interpreter from hanging the test run.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["timeout", "300", "python3", script] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run python3 (needed for the PyYAML differential test): \(error)")
        }
        // Feed stdin on another thread so a full stdout pipe cannot deadlock us.
        let writer = Thread {
            if let input { stdin.fileHandleForWriting.write(input) }
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "python3 \(script) exited with \(process.terminationStatus) "
                    + "(is PyYAML installed? `make test-deps` installs python3-yaml): "
                    + String(decoding: errors, as: UTF8.self))
        }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == count else {
            throw Failure(description: "expected \(count) lines from python3, got \(lines.count)")
        }
        return try lines.map { line in
            if line.hasPrefix("OK ") { return .documents(String(line.dropFirst(3))) }
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "ERR", let l = Int(parts[1]), let c = Int(parts[2]) else {
                throw Failure(description: "unexpected line from python3: \(line)")
            }
            return .error(line: l, column: c, message: String(parts[3]))
        }
    }

    /// meshlab's outcome for a text, in the reference's form.
    static func ours(_ load: () throws(YAMLError) -> [YAMLDocument]) -> Outcome {
        do {
            return .documents(canonical(try load().map(\.value)))
        } catch {
            return .error(line: error.mark.line, column: error.mark.column, message: error.description)
        }
    }

    static func canonical(_ documents: [JSONValue]) -> String {
        JSONValue.array(documents.map(comparable)).serialized(.canonical)
    }

    /// Doubles as the bits of their IEEE-754 form, as the Python side writes
    /// floats, so that no formatting difference can hide or fake a mismatch.
    static func comparable(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let d):
            if d.isNaN { return "float:nan" }
            let hex = String(d.bitPattern, radix: 16)
            return .string("float:" + String(repeating: "0", count: 16 - hex.count) + hex)
        case .array(let items): return .array(items.map(comparable))
        case .object(let object): return .object(JSONObject(object.pairs.map { ($0.key, comparable($0.value)) }))
        default: return value
        }
    }

    /// The directory tree of the Istio sources checked out beside the repository.
    static var istioDirectory: String? {
        let candidates = [repositoryRoot + "/../shared/istio", "/work/shared/istio"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static var repositoryRoot: String {
        // Tests/MeshModelTests/YAMLReference.swift → the repository.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// Files under `directory` (recursively) whose name says YAML: `.yaml`,
    /// `.yml`, and Istio's golden `.yaml.injected` files. Sorted.
    static func yamlFiles(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.contains(".yaml.") {
                files.append(directory + "/" + relative)
            }
        }
        return files.sorted()
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        return [UInt8](data)
    }
}
