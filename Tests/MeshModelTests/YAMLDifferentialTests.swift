import Foundation
import MeshModel
import MeshTestSupport
import Testing

/// meshlab's YAML reader against PyYAML's `yaml.safe_load_all` (the
/// reference, run through `Testdata/yaml/pyyaml_reference.py`): every file
/// must give the same JSON, or both must fail.
@Suite struct YAMLDifferentialTests {
    /// Compares each file's outcome; returns the number of documents compared.
    @discardableResult
    static func expectSameAsPyYAML(files: [String], requireSuccess: Bool) throws -> Int {
        let reference = try YAMLReference.outcomes(files: files)
        var documents = 0
        for (file, expected) in zip(files, reference) {
            let bytes = try YAMLReference.read(file)
            let actual = YAMLReference.ours { () throws(YAMLError) in try YAML.loadAll(utf8: bytes, file: file) }
            if requireSuccess && expected.isError {
                Issue.record("PyYAML fails on \(file), which should load: \(expected)")
                continue
            }
            switch (expected, actual) {
            case (.documents(let e), .documents(let a)):
                #expect(
                    a == e,
                    "\(file): differs from PyYAML\n\(Golden.firstDifference(expected: e, actual: a))\n  PyYAML: \(e)\n  meshlab: \(a)"
                )
                if a == e, case .array(let list)? = try? JSONValue(parsing: e) { documents += list.count }
            case (.error, .error):
                break
            case (.documents(let e), .error(_, _, let message)):
                Issue.record("\(file): PyYAML loads it but meshlab fails: \(message)\n  PyYAML: \(e)")
            case (.error(_, _, let message), .documents(let a)):
                Issue.record("\(file): PyYAML fails (\(message)) but meshlab loads it: \(a)")
            }
        }
        return documents
    }

    @Test(
        .enabled(
            if: YAMLReference.istioDirectory != nil, "no Istio checkout at <repo>/../shared/istio or /work/shared/istio"
        ))
    func istioAndLabFilesLoadAsPyYAMLLoadsThem() throws {
        let istio = YAMLReference.yamlFiles(under: YAMLReference.istioDirectory!)
        let lab = YAMLReference.yamlFiles(under: YAMLReference.repositoryRoot + "/Lab")
        #expect(istio.count >= 40, "expected Istio's samples and testdata, found \(istio.count) YAML files")
        let documents = try Self.expectSameAsPyYAML(files: istio + lab, requireSuccess: true)
        print(
            "YAML differential: \(istio.count) Istio + \(lab.count) Lab files, \(documents) documents equal to PyYAML's"
        )
    }

    @Test func corpusLoadsAsPyYAMLLoadsIt() throws {
        let files = try Self.corpus("yaml")
        #expect(files.count >= 25)
        let documents = try Self.expectSameAsPyYAML(files: files, requireSuccess: true)
        print("YAML differential: \(files.count) corpus files, \(documents) documents equal to PyYAML's")
    }

    /// Every file in `errors/` fails in PyYAML and in meshlab, at the same
    /// line where PyYAML names one.
    @Test func corpusErrorsFailAsInPyYAML() throws {
        let files = try Self.corpus("yaml/errors")
        #expect(files.count >= 60)
        let reference = try YAMLReference.outcomes(files: files)
        for (file, expected) in zip(files, reference) {
            let bytes = try YAMLReference.read(file)
            let actual = YAMLReference.ours { () throws(YAMLError) in try YAML.loadAll(utf8: bytes, file: file) }
            guard case .error(let line, _, let message) = expected else {
                Issue.record("\(file): PyYAML loads it; an error case must fail")
                continue
            }
            guard case .error(let ourLine, _, let ourMessage) = actual else {
                Issue.record("\(file): meshlab loads it but PyYAML fails: \(message)")
                continue
            }
            if line > 0 {
                #expect(
                    ourLine == line,
                    "\(file): meshlab reports line \(ourLine) (\(ourMessage)), PyYAML \(line) (\(message))")
            }
        }
    }

    /// Where meshlab differs on purpose: the expected JSON is a golden file,
    /// and PyYAML must still refuse the input (or the difference is gone).
    @Test func deliberateDifferences() throws {
        let files = try Self.corpus("yaml/deliberate")
        #expect(!files.isEmpty)
        let reference = try YAMLReference.outcomes(files: files)
        for (file, expected) in zip(files, reference) {
            let name = (file as NSString).lastPathComponent
            let documents = try YAML.loadAll(utf8: try YAMLReference.read(file), file: name)
            let text =
                JSONValue.array(documents.map(\.value)).serialized(JSONFormat(indent: 2, sortedKeys: true)) + "\n"
            try Golden.check(text, against: "yaml/deliberate/" + name.replacingOccurrences(of: ".yaml", with: ".json"))
            #expect(expected.isError, "\(file): PyYAML now loads it; the deliberate difference is gone: \(expected)")
        }
    }

    /// Scalars one by one: the resolver's patterns against PyYAML's regular expressions.
    @Test func scalarResolutionMatchesPyYAML() throws {
        var texts: [String] = []
        let atoms = [
            "0", "1", "7", "9", "00", "07", "08", "0b", "0x", "0o", "b1", "x1f", "_", "__", ".", "..", "-", "+", ":",
            "::", "e", "E", "e+", "e-1", "E+05", "inf", "Inf", "INF", "nan", "NaN", "59", "60", "5", "12", "1_0", "T",
            "t", " ", "  ", "Z", "+01", "-05:00", "yes", "No", "on", "OFF", "~", "null", "=", "<<", "y", "n",
        ]
        // Every pair and a seeded sample of triples of the atoms, as plain scalars.
        var generator = SeededGenerator(seed: 20_240_601)
        for a in atoms {
            for b in atoms { texts.append(a + b) }
        }
        for _ in 0..<4000 {
            texts.append((0..<3).map { _ in atoms.randomElement(using: &generator)! }.joined())
        }
        texts += [
            "2001-12-14", "2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43.10-05:00", "2001-1-1 1:00:00",
            "2001-12-14 21:59:43  Z", "2001-12-14T21:59:43.5+5:30", "1:2:3.5", "190:20:30", "-190:20:30.15",
            "0x_1", "0b1_1", "+0", "-0.0", "1.e+5", "._1", ".1_e+1",
        ]
        let documents = texts.map { "- " + $0 + "\n" }
        let reference = try YAMLReference.outcomes(texts: documents)
        var compared = 0
        for (text, expected) in zip(documents, reference) {
            let actual = YAMLReference.ours { () throws(YAMLError) in try YAML.loadAll(text) }
            switch (expected, actual) {
            case (.error, .error): compared += 1
            case (.documents(let e), .documents(let a)):
                #expect(a == e, "\(text.debugDescription): PyYAML \(e), meshlab \(a)")
                compared += 1
            default:
                Issue.record("\(text.debugDescription): PyYAML \(expected), meshlab \(actual)")
            }
        }
        print("YAML differential: \(compared) scalars resolved as PyYAML resolves them")
    }

    static func corpus(_ directory: String) throws -> [String] {
        let path = Golden.path(directory)
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".yaml") }
            .sorted()
            .map { path + "/" + $0 }
    }
}

/// SplitMix64: reproducible randomness for generated test data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
