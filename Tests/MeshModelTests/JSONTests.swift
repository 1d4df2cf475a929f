import MeshModel
import Testing

@Suite struct JSONParsingTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: #"{"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}}"#)
        #expect(value["a"] == [1, -2.5, 300.0, true, false, nil])
        #expect(value["b"]?["c"] == "d\né😀")
    }

    @Test func keepsIntegersAndDoublesApart() throws {
        #expect(try JSONValue(parsing: "10") == .int(10))
        #expect(try JSONValue(parsing: "10.0") == .double(10))
        #expect(try JSONValue(parsing: "-0") == .int(0))
        // Too big for Int: falls back to a double rather than failing.
        #expect(try JSONValue(parsing: "123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func keepsKeyOrderButComparesWithoutIt() throws {
        let value = try JSONValue(parsing: #"{"z": 1, "a": 2}"#)
        #expect(value.objectValue?.keys == ["z", "a"])
        #expect(value == (try JSONValue(parsing: #"{"a": 2, "z": 1}"#)))
    }

    @Test(arguments: [
        ("", "1:1: unexpected end of input"),
        ("{", "1:2: expected a string key"),
        ("[1,]", "1:4: unexpected character ']'"),
        ("{\"a\" 1}", "1:6: expected ':' after an object key"),
        ("\n  tru", "2:3: invalid literal"),
        ("01", "1:2: unexpected data after the JSON value"),
        ("\"a\tb\"", "1:3: control character in a string"),
        ("\"\\x\"", "1:2: invalid escape '\\x'"),
        ("\"\\ud800\"", "1:8: unpaired surrogate in \\u escape"),
        ("1.", "1:1: invalid number"),
        ("[1] [2]", "1:5: unexpected data after the JSON value"),
    ])
    func rejectsMalformedTextWithAPosition(text: String, expected: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22] as [UInt8]) }
    }
}

@Suite struct JSONSerializingTests {
    @Test func compactRoundTrips() throws {
        let text = #"{"b":[1,2.5,"x\"y\\z\u0001"],"a":{},"c":[],"d":null,"e":true}"#
        let value = try JSONValue(parsing: text)
        #expect(value.serialized() == text)
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func canonicalSortsKeys() {
        let value: JSONValue = ["b": 1, "a": ["d": 1, "c": 2]]
        #expect(value.serialized(.canonical) == #"{"a":{"c":2,"d":1},"b":1}"#)
    }

    @Test func kubectlIndentsFourSpaces() {
        let value: JSONValue = ["kind": "Pod", "items": [1]]
        #expect(value.serialized(.kubectl) == "{\n    \"kind\": \"Pod\",\n    \"items\": [\n        1\n    ]\n}")
    }

    @Test func doublesPrintAsPythonDoes() {
        #expect(JSONValue.double(150).serialized() == "150.0")
        #expect(JSONValue.double(0.1).serialized() == "0.1")
        #expect(JSONValue.double(.infinity).serialized() == "Infinity")
    }
}

@Suite struct FieldPathTests {
    @Test func rendersAsKubernetesDoes() {
        let path = FieldPath.root.appending("spec").appending("http").appending(index: 0)
            .appending("route").appending(index: 1).appending("weight")
        #expect(path.description == "spec.http[0].route[1].weight")
        #expect(FieldPath.root.appending("metadata").appending("labels").appending(key: "app.kubernetes.io/name")
            .description == "metadata.labels[app.kubernetes.io/name]")
    }

    @Test func parsesItsOwnRendering() {
        let path: FieldPath = "spec.http[0].headers[x-user].exact"
        #expect(path.components == [.field("spec"), .field("http"), .index(0), .field("headers"), .mapKey("x-user"), .field("exact")])
        #expect(path.description == "spec.http[0].headers[x-user].exact")
    }

    @Test func locationsFallBackToTheNearestAncestor() {
        var locations = SourceLocations(file: "vs.yaml", documentStart: SourceMark(line: 3, column: 1))
        locations.record(SourceMark(line: 7, column: 3), for: "spec")
        locations.record(SourceMark(line: 9, column: 5), for: "spec.http[0]")
        #expect(locations.position(of: "spec.http[0].route[1].weight") == "vs.yaml:9")
        #expect(locations.position(of: "spec.tcp") == "vs.yaml:7")
        #expect(locations.position(of: "metadata") == "vs.yaml:3")
        #expect(locations.mark(for: FieldPath.root.appending("spec").appending("http").appending(index: 0)) == SourceMark(line: 9, column: 5))
    }
}
