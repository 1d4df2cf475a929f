import MeshModel
import MeshTestSupport
import Testing

@Suite struct YAMLLoaderTests {
    static let deployment = """
        # reviews, as a user writes it
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: reviews
          labels: {app: reviews, version: v1}
        spec:
          replicas: 3
          template:
            spec:
              containers:
              - name: reviews
                image: reviews:1.20
                ports:
                -   containerPort: 9080
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: reviews

        """

    @Test func loadsEveryDocumentOfAStream() throws {
        let documents = try YAML.loadAll(Self.deployment, file: "reviews.yaml")
        #expect(documents.count == 2)
        #expect(documents[0].value["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"] == "reviews:1.20")
        #expect(documents[0].value["metadata"]?["labels"] == ["app": "reviews", "version": "v1"])
        #expect(documents[1].value == ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "reviews"]])
        // Keys keep the order they were written in.
        #expect(documents[0].value.objectValue?.keys == ["apiVersion", "kind", "metadata", "spec"])
    }

    @Test func recordsWhereEveryKeyAndItemWasWritten() throws {
        let documents = try YAML.loadAll(Self.deployment, file: "reviews.yaml")
        let locations = documents[0].locations
        #expect(locations.file == "reviews.yaml")
        #expect(locations.documentStart == SourceMark(line: 2, column: 1))
        #expect(locations.mark(for: "kind") == SourceMark(line: 3, column: 1))
        #expect(locations.mark(for: "metadata.labels.version") == SourceMark(line: 6, column: 26))
        #expect(locations.mark(for: "spec.template.spec.containers[0]") == SourceMark(line: 12, column: 9))
        #expect(locations.mark(for: "spec.template.spec.containers[0].image") == SourceMark(line: 13, column: 9))
        #expect(
            locations.mark(for: "spec.template.spec.containers[0].ports[0].containerPort")
                == SourceMark(line: 15, column: 13))
        // Map keys in a path (`[app]`) find the same entries as fields.
        #expect(
            locations.position(of: FieldPath.root.appending("metadata").appending("labels").appending(key: "app"))
                == "reviews.yaml:6")
        // A missing field is reported where its parent is.
        #expect(locations.position(of: "spec.template.spec.containers[0].resources.limits") == "reviews.yaml:12")
        #expect(documents[1].locations.position(of: "metadata.name") == "reviews.yaml:20")
    }

    @Test func locationsOfMergedKeysPointAtTheirDefinitionAndAliasesAtTheAlias() throws {
        let text = """
            defaults: &defaults
              timeout: 5s
              retries: 3
            route:
              <<: *defaults
              retries: 5
            copy: *defaults
            """
        let document = try YAML.load(text)
        #expect(document.value["route"] == ["timeout": "5s", "retries": 5])
        #expect(document.locations.mark(for: "route.timeout") == SourceMark(line: 2, column: 3))
        #expect(document.locations.mark(for: "route.retries") == SourceMark(line: 6, column: 3))
        // Values reached through an alias are located at the alias.
        #expect(document.locations.mark(for: "copy.retries") == SourceMark(line: 7, column: 1))
        #expect(document.locations.mark(for: "defaults.retries") == SourceMark(line: 3, column: 3))
        // Overriding a merged key is not a duplicate.
        #expect(document.duplicateKeys.isEmpty)
    }

    @Test func reportsDuplicateKeysAndKeepsTheLast() throws {
        let text = """
            metadata:
              name: a
              labels: {app: x, app: y}
              name: b
            """
        let document = try YAML.load(text, file: "dup.yaml")
        #expect(document.value["metadata"]?["name"] == "b")
        #expect(document.value["metadata"]?["labels"] == ["app": "y"])
        #expect(
            document.duplicateKeys.map(\.description) == [
                "dup.yaml:3:20: metadata.labels.app: duplicate key (first at 3:12); the last value wins",
                "dup.yaml:4:3: metadata.name: duplicate key (first at 2:3); the last value wins",
            ])
    }

    @Test func loadOfOneDocument() throws {
        #expect(try YAML.load("a: 1").value == ["a": 1])
        #expect(try YAML.load("").value == nil)
        #expect(try YAML.load("# only a comment\n").value == nil)
        #expect(throws: YAMLError.self) { try YAML.load("a: 1\n---\nb: 2\n") }
        do {
            _ = try YAML.load("a: 1\n---\nb: 2\n", file: "two.yaml")
        } catch {
            #expect(
                error.description
                    == "two.yaml:3:1: expected a single document in the stream, but found another document (the first document started at 1:1)"
            )
        }
    }

    @Test func emptyDocumentsAreNullAsInPyYAML() throws {
        #expect(try YAML.loadAll("").map(\.value) == [])
        #expect(try YAML.loadAll("---\n---\n").map(\.value) == [nil, nil])
        #expect(try YAML.loadAll("a: 1\n---\n---\nb: 2\n").map(\.value) == [["a": 1], nil, ["b": 2]])
    }

    @Test(arguments: [
        ("a: b: c\n", "deploy.yaml:1:5: mapping values are not allowed here"),
        ("a: *foo\n", "deploy.yaml:1:4: found undefined alias \"foo\""),
        (
            "a:\n\tb: 1\n",
            "deploy.yaml:2:1: found character '\\t' that cannot start any token (while scanning for the next token)"
        ),
        // As PyYAML words it: the less indented key starts a mapping the parser cannot place.
        (
            "spec:\n  replicas: 1\n image: x\n",
            "deploy.yaml:3:2: expected <block end>, but found '<block mapping start>' (while parsing a block mapping started at 1:1)"
        ),
        (
            "a: \"unterminated\n",
            "deploy.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar started at 1:4)"
        ),
        (
            "a: [1, 2\nb: 3\n",
            "deploy.yaml:2:2: expected ',' or ']', but got ':' (while parsing a flow sequence started at 1:4)"
        ),
        (
            "- a\nb: c\n",
            "deploy.yaml:2:1: expected <block end>, but found '?' (while parsing a block collection started at 1:1)"
        ),
        (
            "a: \"\\q\"\n",
            "deploy.yaml:1:6: found unknown escape character 'q' (while scanning a double-quoted scalar started at 1:4)"
        ),
        ("a: !e!x y\n", "deploy.yaml:1:4: found undefined tag handle '!e!' (while parsing a node)"),
        ("? [a]\n: b\n", "deploy.yaml:1:3: found unhashable key (while constructing a mapping started at 1:1)"),
        ("a: &x 1\nb: &x 2\n", "deploy.yaml:2:4: found duplicate anchor \"x\"; first occurrence at 1:4"),
        ("a: &a [*a]\n", "deploy.yaml:1:8: found recursive alias \"a\": the node contains itself"),
        ("when: 2021-02-30\n", "deploy.yaml:1:7: invalid timestamp \"2021-02-30\": day is out of range for month"),
        ("a: !!int x\n", "deploy.yaml:1:4: invalid integer \"x\""),
        (
            "x: !<tag:example.com,2000:t> 1\n",
            "deploy.yaml:1:4: could not determine a constructor for the tag 'tag:example.com,2000:t'"
        ),
        ("a: b\u{1}\n", "deploy.yaml:1:5: unacceptable character #x0001: special characters are not allowed"),
    ])
    func errorsSayWhatAndWhere(text: String, expected: String) {
        do {
            let documents = try YAML.loadAll(text, file: "deploy.yaml")
            Issue.record("loaded \(documents.map(\.value)), expected an error")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func errorsWithoutAFileStartWithTheLine() {
        do {
            _ = try YAML.loadAll("a: b: c")
        } catch {
            #expect(error.description == "1:5: mapping values are not allowed here")
            #expect(error.file == nil && error.mark == SourceMark(line: 1, column: 5))
        }
    }

    @Test func readsBytesWithBOMAndCRLF() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: |\r\n  x\r\n  y\r\n".utf8)
        let document = try YAML.load(utf8: bytes)
        #expect(document.value == ["a": 1, "b": "x\ny\n"])
        #expect(document.locations.mark(for: "b") == SourceMark(line: 2, column: 1))
    }

    @Test func rejectsInvalidUTF8() {
        do {
            _ = try YAML.loadAll(utf8: Array("a: ".utf8) + [0xC3, 0x28], file: "bad.yaml")
            Issue.record("invalid UTF-8 loaded")
        } catch {
            #expect(error.description == "bad.yaml:1:4: invalid UTF-8: unexpected byte #xc3")
        }
    }

    @Test func columnsCountCharactersNotBytes() {
        do {
            _ = try YAML.loadAll("é: ü: x")
        } catch {
            #expect(error.mark == SourceMark(line: 1, column: 5))
        }
    }

    @Test func integersBeyondIntBecomeDoubles() throws {
        let value = try YAML.load(
            "[9223372036854775807, 9223372036854775808, -9223372036854775808, 0x10000000000000001]"
        ).value
        #expect(
            value == [
                .int(Int.max), .double(9_223_372_036_854_775_808), .int(Int.min), .double(18_446_744_073_709_551_616),
            ])
    }

    @Test func timestampsKeepTheirText() throws {
        #expect(
            try YAML.load("- 2001-12-14t21:59:43.10-05:00\n- !!timestamp 2001-1-2").value
                == ["2001-12-14t21:59:43.10-05:00", "2001-1-2"])
    }

    @Test func binaryBecomesCanonicalBase64() throws {
        #expect(try YAML.load("data: !!binary |\n  aGVs\n  bG8=\n").value == ["data": "aGVsbG8="])
    }

    // MARK: Hostile input

    @Test func refusesAnAliasBomb() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        do {
            _ = try YAML.loadAll(text, file: "bomb.yaml")
            Issue.record("a billion laughs loaded")
        } catch {
            #expect(
                error.description
                    == "bomb.yaml:1:1: the document expands to more than 1000000 values through aliases (an alias bomb?)"
            )
        }
    }

    @Test func aliasesWithinTheBudgetExpand() throws {
        var text = "a0: &a0 [x, x]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [*a\(i - 1), *a\(i - 1)]\n" }
        let value = try YAML.load(text).value
        #expect(value["a9"]?[1]?[0]?[1]?[0]?[1]?[0]?[1]?[0]?[1]?[0] == "x")
        #expect(throws: YAMLError.self) {
            try YAML.load(text, limits: YAML.Limits(maxExpandedValues: 500))
        }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: YAMLError.self) { try YAML.loadAll(deep) }
        let block = (0..<2000).map { String(repeating: " ", count: $0) + "- x:\n" }.joined()
        #expect(throws: YAMLError.self) { try YAML.loadAll(block) }
        // Just inside the limit loads.
        let limit = YAML.Limits.default.maxDepth
        let inside = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try YAML.load(inside).value != nil)
        // Aliases cannot nest deeper than the text does.
        var chain = "a0: &a0 [x]\n"
        for i in 1...600 { chain += "a\(i): &a\(i) [*a\(i - 1)]\n" }
        #expect(throws: YAMLError.self) { try YAML.loadAll(chain) }
    }

    /// Seeded mutations of the corpus: whatever happens, a value or a YAMLError, never a trap or a hang.
    @Test func survivesMutatedInput() throws {
        var generator = SeededGenerator(seed: 42)
        let files = try YAMLDifferentialTests.corpus("yaml") + YAMLDifferentialTests.corpus("yaml/errors")
        let pieces: [[UInt8]] =
            [
                ":", "- ", "? ", "\n", "\t", "'", "\"", "[", "{", "]", "}", "&a", "*a", "!!", "|", ">-", "#", "\\",
                "<<: ", "---\n", "\r", " ",
            ]
            .map { Array($0.utf8) } + [[0xC3], [0xE2, 0x80, 0xA8], [0xEF, 0xBB, 0xBF], [0]]
        var loaded = 0
        var failed = 0
        for _ in 0..<1500 {
            var bytes = try YAMLReference.read(files.randomElement(using: &generator)!)
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let at = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.insert(contentsOf: pieces.randomElement(using: &generator)!, at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = UInt8.random(in: 0...255, using: &generator) }
                }
            }
            do {
                _ = try YAML.loadAll(utf8: bytes)
                loaded += 1
            } catch {
                failed += 1
                #expect(error.mark.line >= 1 && error.mark.column >= 1)
            }
        }
        #expect(loaded > 0 && failed > 0)
    }
}
