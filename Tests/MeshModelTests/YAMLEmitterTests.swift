import Foundation
import MeshModel
import MeshTestSupport
import Testing

@Suite struct YAMLEmitterTests {
    /// One value exercising every layout and quoting rule, as kubectl prints it.
    static let sample: JSONValue = [
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": [
            "name": "reviews-v1",
            "labels": ["app": "reviews", "version": "v1"],
            "annotations": [
                "sidecar.istio.io/inject": "true",
                "description": "first line\nsecond line\n",
                "script": "#!/bin/sh\necho hi",
                "kept": "trailing\n\n",
                "indented": "  starts with spaces\nthen not\n",
            ],
        ],
        "spec": [
            "replicas": 3,
            "paused": false,
            "progressDeadlineSeconds": nil,
            "template": [
                "spec": [
                    "containers": [
                        [
                            "name": "reviews",
                            "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2",
                            "args": ["--port", "9080", "-v"],
                            "ports": [["containerPort": 9080]],
                            "env": [],
                            "resources": [:],
                        ]
                    ],
                    "nested": [["a", "b"], [["deep"]], [], [:]],
                ]
            ],
        ],
        "strings": [
            "empty": "",
            "number": "8080",
            "float": "1.5",
            "exponent": "1e3",
            "octal12": "0o17",
            "bool": "yes",
            "y": "y",
            "null": "null",
            "tilde": "~",
            "date": "2001-12-14",
            "merge": "<<",
            "leading space": " x",
            "colon": "a: b",
            "hash": "a #b",
            "indicator": "*star",
            "dash": "- item",
            "quote": "it's",
            "tab": "a\tb",
            "carriage return": "a\r\nb",
            "control": "bell\u{07}",
            "unicode": "héllo 中文 😀",
            "line separator": "a\u{2028}b",
            "dots": "...",
            "url": "https://istio.io:443/docs",
        ],
        "numbers": [
            "int": 42, "negative": -7, "double": 1.5, "integral double": 10.0, "large": 1e16, "small": 1e-7,
            "negative zero": -0.0, "infinity": .double(.infinity), "nan": .double(.nan),
        ],
        "": "empty key",
        "key: with colon": "v",
        "123": "numeric key",
    ]

    @Test func writesTheKubectlStyle() throws {
        try Golden.check(YAML.dump(Self.sample), against: "yaml/emitter/kubectl-style.yaml")
    }

    @Test func writesScalarsAndEmptyCollectionsAtTheRoot() {
        #expect(YAML.dump("hello") == "hello\n")
        #expect(YAML.dump("") == "''\n")
        #expect(YAML.dump(nil) == "null\n")
        #expect(YAML.dump([:]) == "{}\n")
        #expect(YAML.dump([]) == "[]\n")
        #expect(YAML.dump(["a", ["b": 1]]) == "- a\n- b: 1\n")
        #expect(YAML.dump("two\nlines") == "|-\n  two\n  lines\n")
    }

    @Test func joinsDocumentsWithMarkers() {
        #expect(YAML.dump(documents: [["a": 1], ["b": 2]]) == "a: 1\n---\nb: 2\n")
        #expect(YAML.dump(documents: []) == "")
    }

    @Test func writesVeryLongKeysAsExplicitKeys() throws {
        let key = String(repeating: "k", count: 1500)
        let text = YAML.dump([key: "v"])
        #expect(text.hasPrefix("? "))
        #expect(try YAML.load(text).value == [key: "v"])
    }

    /// Every file the differential test loads, written and read back, by
    /// meshlab and by PyYAML.
    @Test(.enabled(if: YAMLReference.istioDirectory != nil, "no Istio checkout"))
    func roundTripsEveryLoadedFile() throws {
        var files = try YAMLDifferentialTests.corpus("yaml")
        files += YAMLReference.yamlFiles(under: YAMLReference.istioDirectory!)
        files += YAMLReference.yamlFiles(under: YAMLReference.repositoryRoot + "/Lab")
        var values: [[JSONValue]] = []
        for file in files {
            values.append(try YAML.loadAll(utf8: try YAMLReference.read(file), file: file).map(\.value))
        }
        try Self.expectRoundTrips(values, names: files)
    }

    /// Seeded random values built from the fragments that make quoting hard.
    @Test func roundTripsGeneratedValues() throws {
        var generator = SeededGenerator(seed: 7)
        let values = (0..<400).map { _ in [Self.randomValue(depth: 0, using: &generator)] }
        try Self.expectRoundTrips(values, names: values.indices.map { "generated value \($0)" })
    }

    static func expectRoundTrips(_ streams: [[JSONValue]], names: [String]) throws {
        let texts = streams.map { YAML.dump(documents: $0) }
        let reference = try YAMLReference.outcomes(texts: texts)
        for ((documents, text), (name, python)) in zip(zip(streams, texts), zip(names, reference)) {
            let expected = YAMLReference.canonical(documents)
            let ours = YAMLReference.ours { () throws(YAMLError) in try YAML.loadAll(text) }
            #expect(ours == .documents(expected), "\(name): meshlab reads its own output differently\n\(text)")
            #expect(python == .documents(expected), "\(name): PyYAML reads meshlab's output differently\n\(text)")
        }
    }

    static let fragments = [
        "", " ", "a", "key", "yes", "No", "on", "y", "null", "~", "true", "1", "0x1F", "0o7", "1e3", "1.5", ".inf",
        "2001-12-14", "<<", "=", "-", "- ", "?", ":", ": ", "#", " #", "'", "\"", "\\", "\t", "\n", "\r", "\r\n",
        "\u{85}", "\u{2028}", "\u{FEFF}", "\u{7F}", "\u{01}", "\u{1B}", "é", "中", "😀", "[", "]", "{", "}", ",", "&a",
        "*a", "!tag", "|", ">", "%", "@", "`", "---", "...", "  ", "\n\n", "x\n", " \n",
    ]

    static func randomString(using generator: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...4, using: &generator)).map { _ in fragments.randomElement(using: &generator)! }.joined()
    }

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        let choice = Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &generator)
        switch choice {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            return .int(
                Int.random(in: Int.min...Int.max, using: &generator) >> Int.random(in: 0..<64, using: &generator))
        case 3:
            let special: [Double] = [
                0, -0.0, 1e16, 1e-5, 0.1, .infinity, -.infinity, .nan, 1e300, .leastNonzeroMagnitude, 123456.789,
            ]
            return .double(
                Bool.random(using: &generator)
                    ? special.randomElement(using: &generator)!
                    : Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)))
        case 4, 5: return .string(randomString(using: &generator))
        case 6:
            return .array(
                (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                    randomValue(depth: depth + 1, using: &generator)
                })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                object[randomString(using: &generator)] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(object)
        }
    }
}
