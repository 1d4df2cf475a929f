import MeshModel
import Testing

// A small schema in the shape of an Istio one, to drive the codec.
private enum Mode: String, SchemaEnum {
    case unset = "UNSET"
    case strict = "STRICT"
    case permissive = "PERMISSIVE"
}

private struct Destination: Codable, Equatable {
    var host: String
    var port: UInt32?
}

private struct Route: Codable, Equatable {
    var destination: Destination
    var weight: Int32?
}

private struct Spec: Codable, Equatable {
    var hosts: [String]?
    var routes: [Route]?
    var labels: [String: String]?
    var byName: [String: Route]?
    var mode: Mode?
    var raw: JSONValue?
    var ratio: Double?
    var enabled: Bool?
    var count: Int64?
}

/// A type with a custom decoder that rejects odd numbers through `FieldError`.
private struct Even: Codable, Equatable {
    var value: Int
    init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(JSONValue.self)
        guard let i = raw.intValue else { throw FieldError.typeMismatch(expected: "integer", actual: raw) }
        guard i % 2 == 0 else { throw FieldError.invalid(raw, "must be even") }
        value = i
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

private struct WithEven: Codable {
    var first: Even?
    var second: Even
    var after: String?
}

/// Like `Even`, but able to stand in for a missing value.
private struct PlaceholderEven: Codable, SchemaPlaceholder {
    var even: Even
    static var schemaPlaceholder: PlaceholderEven { PlaceholderEven(even: Even(fromInt: 0)) }
    init(even: Even) { self.even = even }
    init(from decoder: any Decoder) throws { even = try Even(from: decoder) }
}

private struct WithPlaceholderEven: Codable {
    var second: PlaceholderEven
    var after: String?
}

private func json(_ text: String) -> JSONValue {
    do { return try JSONValue(parsing: text) } catch { Issue.record("bad test JSON: \(error)"); return .null }
}

private func messages<T: Decodable>(_ type: T.Type, _ text: String, at path: FieldPath = "spec", strict: Bool = false) -> [String] {
    ValueCodec.decode(T.self, from: json(text), at: path, strict: strict).diagnostics.map(\.description)
}

@Suite struct CodecDecodingTests {
    @Test func decodesEveryShape() throws {
        let decoded = ValueCodec.decode(Spec.self, from: json("""
            {"hosts": ["a", "b"], "routes": [{"destination": {"host": "r", "port": 80}, "weight": 10}],
             "labels": {"app": "x"}, "byName": {"one": {"destination": {"host": "o"}}}, "mode": "STRICT",
             "raw": {"anything": [1, {"goes": true}]}, "ratio": 0.5, "enabled": true, "count": 9007199254740993}
            """))
        #expect(decoded.diagnostics.isEmpty)
        let spec = try #require(decoded.value)
        #expect(spec.hosts == ["a", "b"])
        #expect(spec.routes == [Route(destination: Destination(host: "r", port: 80), weight: 10)])
        #expect(spec.labels == ["app": "x"])
        #expect(spec.byName?["one"]?.destination.host == "o")
        #expect(spec.mode == .strict)
        #expect(spec.raw == json(#"{"anything": [1, {"goes": true}]}"#))
        #expect(spec.ratio == 0.5)
        #expect(spec.enabled == true)
        #expect(spec.count == 9_007_199_254_740_993)
    }

    @Test func wrongTypesReadAsTheStructuralSchemaReportsThem() {
        #expect(messages(Spec.self, #"{"routes": [{"destination": {"host": "h"}, "weight": "ten"}]}"#) == [
            #"spec.routes[0].weight: Invalid value: "string": spec.routes[0].weight in body must be of type integer: "string""#
        ])
        #expect(messages(Spec.self, #"{"routes": ["x"]}"#) == [
            #"spec.routes[0]: Invalid value: "string": spec.routes[0] in body must be of type object: "string""#
        ])
        #expect(messages(Spec.self, #"{"hosts": [5]}"#) == [
            #"spec.hosts[0]: Invalid value: "integer": spec.hosts[0] in body must be of type string: "integer""#
        ])
        #expect(messages(Spec.self, #"{"hosts": "a"}"#) == [
            #"spec.hosts: Invalid value: "string": spec.hosts in body must be of type array: "string""#
        ])
        #expect(messages(Spec.self, #"{"enabled": "yes"}"#) == [
            #"spec.enabled: Invalid value: "string": spec.enabled in body must be of type boolean: "string""#
        ])
        #expect(messages(Spec.self, #"{"ratio": "1"}"#) == [
            #"spec.ratio: Invalid value: "string": spec.ratio in body must be of type number: "string""#
        ])
        #expect(messages(Spec.self, #"{"labels": {"a": 1}}"#) == [
            #"spec.labels[a]: Invalid value: "integer": spec.labels[a] in body must be of type string: "integer""#
        ])
        #expect(messages(Spec.self, #""text""#) == [
            #"spec: Invalid value: "string": spec in body must be of type object: "string""#
        ])
    }

    @Test func integersMayBeWrittenWithAZeroFractionButNotAFraction() {
        let whole = ValueCodec.decode(Route.self, from: json(#"{"destination": {"host": "h"}, "weight": 10.0}"#))
        #expect(whole.value?.weight == 10)
        #expect(messages(Route.self, #"{"destination": {"host": "h"}, "weight": 1.5}"#) == [
            #"spec.weight: Invalid value: "number": spec.weight in body must be of type integer: "number""#
        ])
    }

    @Test func integersMustFitTheirDeclaredWidth() {
        #expect(messages(Route.self, #"{"destination": {"host": "h"}, "weight": 2147483648}"#) == [
            "spec.weight: Invalid value: 2147483648: spec.weight in body should be less than or equal to 2147483647"
        ])
        #expect(messages(Route.self, #"{"destination": {"host": "h", "port": -1}}"#) == [
            "spec.destination.port: Invalid value: -1: spec.destination.port in body should be greater than or equal to 0"
        ])
    }

    @Test func missingAndNullRequiredFieldsAreRequiredValues() {
        #expect(messages(Spec.self, #"{"routes": [{"weight": 1}, {"destination": null}]}"#) == [
            "spec.routes[0].destination: Required value",
            "spec.routes[1].destination: Required value",
        ])
        #expect(messages(Spec.self, #"{"routes": [{"destination": {}}]}"#) == [
            "spec.routes[0].destination.host: Required value"
        ])
    }

    @Test func nullOptionalFieldsAreAbsent() throws {
        let decoded = ValueCodec.decode(Spec.self, from: json(#"{"hosts": null, "mode": null}"#))
        #expect(decoded.diagnostics.isEmpty)
        #expect(decoded.value == Spec())
    }

    @Test func enumsListTheirSupportedValues() {
        #expect(messages(Spec.self, #"{"mode": "BLAH"}"#) == [
            #"spec.mode: Unsupported value: "BLAH": supported values: "UNSET", "STRICT", "PERMISSIVE""#
        ])
        #expect(messages(Spec.self, #"{"mode": 2}"#) == [
            #"spec.mode: Invalid value: "integer": spec.mode in body must be of type string: "integer""#
        ])
    }

    @Test func customTypesRejectThroughFieldErrorAtTheirPath() {
        #expect(messages(WithEven.self, #"{"first": 3, "second": 4}"#) == ["spec.first: Invalid value: 3: must be even"])
        #expect(messages(WithEven.self, #"{"second": "x"}"#) == [
            #"spec.second: Invalid value: "string": spec.second in body must be of type integer: "string""#
        ])
    }

    @Test func reportsEveryErrorInOnePass() {
        let found = messages(Spec.self, """
            {"hosts": [1, "ok", true], "routes": [{"weight": "x"}, {"destination": {"host": 1}}],
             "mode": "NOPE", "enabled": 3, "bogus": 1}
            """)
        #expect(found == [
            #"spec.hosts[0]: Invalid value: "integer": spec.hosts[0] in body must be of type string: "integer""#,
            #"spec.hosts[2]: Invalid value: "boolean": spec.hosts[2] in body must be of type string: "boolean""#,
            "spec.routes[0].destination: Required value",
            #"spec.routes[0].weight: Invalid value: "string": spec.routes[0].weight in body must be of type integer: "string""#,
            #"spec.routes[1].destination.host: Invalid value: "integer": spec.routes[1].destination.host in body must be of type string: "integer""#,
            #"spec.mode: Unsupported value: "NOPE": supported values: "UNSET", "STRICT", "PERMISSIVE""#,
            #"spec.enabled: Invalid value: "integer": spec.enabled in body must be of type boolean: "integer""#,
            #"unknown field "spec.bogus""#,
        ])
    }

    @Test func aFailedFieldDoesNotHideUnknownFieldsOfItsObject() {
        // `second` fails before `after` is read: a stand-in takes its place,
        // so `after` is still read (not reported as unknown) and `typo` is reported.
        let found = messages(WithPlaceholderEven.self, #"{"typo": 1, "second": 5, "after": "x"}"#)
        #expect(found == ["spec.second: Invalid value: 5: must be even", #"unknown field "spec.typo""#])
    }

    @Test func anObjectThatCannotBeReadToItsEndReportsNoFalseUnknowns() {
        // `Even` cannot stand in for itself, so reading stops at `second`;
        // `after` was never asked for and must not be called unknown.
        let found = messages(WithEven.self, #"{"second": 5, "after": "x"}"#)
        #expect(found == ["spec.second: Invalid value: 5: must be even"])
    }

    @Test func errorsMakeTheValueNil() {
        #expect(ValueCodec.decode(Spec.self, from: json(#"{"mode": "NOPE"}"#)).value == nil)
        // Warnings alone do not.
        #expect(ValueCodec.decode(Spec.self, from: json(#"{"nope": 1}"#)).value == Spec())
    }
}

@Suite struct CodecUnknownFieldTests {
    @Test func namesTheFullPathInsideListsAndMaps() {
        let found = ValueCodec.decode(Spec.self, from: json("""
            {"routes": [{"destination": {"host": "a"}}, {"destination": {"host": "b", "prot": 1}, "wieght": 2}],
             "byName": {"x.y": {"destination": {"host": "c", "hots": 1}}},
             "raw": {"free": {"form": 1}}, "labels": {"any": "key"}, "extra": {"deep": 1}}
            """), at: "spec")
        #expect(found.diagnostics.map(\.description) == [
            #"unknown field "spec.routes[1].destination.prot""#,
            #"unknown field "spec.routes[1].wieght""#,
            #"unknown field "spec.byName[x.y].destination.hots""#,
            #"unknown field "spec.extra""#,
        ])
        #expect(found.diagnostics.allSatisfy { $0.severity == .warning })
        #expect(found.diagnostics.first?.sourcePath == "spec.routes[1].destination.prot")
        #expect(found.value != nil)
    }

    @Test func strictMakesThemErrors() {
        let found = ValueCodec.decode(Spec.self, from: json(#"{"extra": 1}"#), at: "spec", strict: true)
        #expect(found.errors.map(\.description) == [#"unknown field "spec.extra""#])
        #expect(found.value == nil)
    }

    @Test func pointsAtTheUnknownFieldsLine() {
        var locations = SourceLocations(file: "x.yaml")
        locations.record(SourceMark(line: 7, column: 5), for: "spec.extra")
        let diagnostic = Diagnostic.unknownField("spec.extra")
        #expect(diagnostic.rendered(object: "Thing/a", locations: locations) == #"x.yaml:7: Thing/a: unknown field "spec.extra""#)
    }
}

@Suite struct CodecEncodingTests {
    @Test func keepsFieldOrderSortsMapsAndOmitsNil() {
        var spec = Spec()
        spec.mode = .permissive
        spec.labels = ["z": "1", "a": "2", "m": "3"]
        spec.routes = [Route(destination: Destination(host: "h"), weight: nil)]
        spec.ratio = 100
        let value = ValueCodec.encode(spec)
        #expect(value.objectValue?.keys == ["routes", "labels", "mode", "ratio"])
        #expect(value["labels"]?.objectValue?.keys == ["a", "m", "z"])
        #expect(value["routes"] == json(#"[{"destination": {"host": "h"}}]"#))
        #expect(value["ratio"] == .int(100))
        #expect(value["mode"] == "PERMISSIVE")
    }

    @Test func roundTrips() throws {
        let text = """
            {"hosts":["a"],"routes":[{"destination":{"host":"r","port":80},"weight":10}],"labels":{"a":"1","b":"2"},\
            "byName":{"k":{"destination":{"host":"o"}}},"mode":"STRICT","raw":{"z":[1,2.5,null],"a":"b"},"ratio":0.25,\
            "enabled":false,"count":-3}
            """
        let spec = try #require(ValueCodec.decode(Spec.self, from: json(text)).value)
        let encoded = ValueCodec.encode(spec)
        #expect(encoded.serialized() == text)
        #expect(ValueCodec.decode(Spec.self, from: encoded).value == spec)
    }

    @Test func customEncodersWork() {
        let value = ValueCodec.encode([Even(fromInt: 4)])
        #expect(value == [4])
    }
}

extension Even {
    fileprivate init(fromInt i: Int) {
        let decoded = ValueCodec.decode(Even.self, from: .int(i))
        self = decoded.value!
    }
}
