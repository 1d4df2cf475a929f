import MeshModel
import Testing

@Suite struct LabelSelectorParsingTests {
    @Test(arguments: [
        // input, canonical rendering
        ("", ""),
        ("app=web", "app=web"),
        ("app==web", "app=web"),
        ("app!=web", "app!=web"),
        ("  app = web ,  tier != db  ", "app=web,tier!=db"),
        ("env in (prod, stage)", "env in (prod,stage)"),
        ("env in (stage,prod,prod)", "env in (prod,stage)"),
        ("env notin (x)", "env notin (x)"),
        ("canary", "canary"),
        ("!canary", "!canary"),
        ("! canary", "!canary"),
        ("tier=db,app=web", "app=web,tier=db"),
        ("app.kubernetes.io/name=reviews", "app.kubernetes.io/name=reviews"),
        ("a=", "a="),
        ("a=,b", "a=,b"),
        ("a in ()", "a in ()"),
        ("a in (,x)", "a in (,x)"),
        ("a=in", "a=in"),
        ("replicas>3", "replicas>3"),
        ("replicas<10", "replicas<10"),
        ("a,!b,c=d", "a,!b,c=d"),
    ])
    func parsesAndRendersCanonically(input: String, rendered: String) throws {
        let selector = try LabelSelector(parsing: input)
        #expect(selector.description == rendered)
        // The rendering parses back to the same selector.
        #expect(try LabelSelector(parsing: rendered) == selector)
    }

    @Test(arguments: [
        ("a b", 2, "found 'b', expected: in, notin, =, ==, !=, >, <"),
        ("a=b c", 4, "found 'c', expected: ',' or end of string"),
        ("a>-1", 2, "invalid label value \"-1\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
        ("a=b,", 4, "found end of string, expected: identifier after ','"),
        (",a", 0, "found ',', expected: !, identifier, or end of string"),
        ("a=b,,c", 4, "found ',', expected: identifier after ','"),
        ("a in x", 5, "found 'x', expected: '('"),
        ("a in (x y)", 8, "found 'y', expected: ',' or ')'"),
        ("a in (x", 7, "found end of string, expected: ',' or ')'"),
        ("!a=b", 2, "found '=', expected: ',' or end of string after '!a'"),
        ("a=(", 2, "found '(', expected: a label value"),
        ("in=x", 0, "found 'in', expected: identifier"),
        ("a>b", 2, "for '>' the value must be an integer, found 'b'"),
    ])
    func rejectsBadSyntaxWithAPosition(input: String, offset: Int, message: String) {
        #expect(throws: LabelSelector.ParseError(message: message, offset: offset)) {
            try LabelSelector(parsing: input)
        }
    }

    @Test func rejectsInvalidKeysAndValues() throws {
        let badKey = #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "x=1,-bad=v") }
        #expect(badKey?.offset == 4)
        #expect(badKey?.message.hasPrefix("invalid label key \"-bad\": name part must consist of") == true)
        #expect(badKey?.description.hasPrefix("column 5: invalid label key") == true)

        let badValue = #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "a in (ok, no@)") }
        #expect(badValue?.offset == 10)
        #expect(badValue?.message.hasPrefix("invalid label value \"no@\"") == true)

        let long = String(repeating: "v", count: 64)
        let tooLong = #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "a=\(long)") }
        #expect(tooLong?.message == "invalid label value \"\(long)\": must be no more than 63 characters")

        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "Example.com/a=b") }
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "a/b/c") }
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: "/a") }
        #expect(try LabelSelector(parsing: "example.com/A_b.c-D").description == "example.com/A_b.c-D")
    }
}

@Suite struct LabelSelectorMatchingTests {
    let labels = ["app": "web", "tier": "frontend", "replicas": "5"]

    @Test(arguments: [
        ("", true),
        ("app=web", true),
        ("app=db", false),
        ("app!=db", true),
        ("missing!=x", true),
        ("app in (db,web)", true),
        ("app in (db)", false),
        ("missing in (a)", false),
        ("app notin (db)", true),
        ("app notin (web)", false),
        ("missing notin (a)", true),
        ("tier", true),
        ("missing", false),
        ("!missing", true),
        ("!tier", false),
        ("app=web,tier=backend", false),
        ("app=web,tier=frontend", true),
        ("replicas>4", true),
        ("replicas>5", false),
        ("replicas<6", true),
        ("app>1", false),
        ("missing<10", false),
        ("app=", false),
    ])
    func matches(selector: String, expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels: labels) == expected)
    }

    @Test func emptyValueMatchesAnEmptyLabel() throws {
        #expect(try LabelSelector(parsing: "a=").matches(labels: ["a": ""]))
        #expect(try LabelSelector(parsing: "a in ()").matches(labels: ["a": ""]))
    }

    @Test func matchesAnObjectsMetadataLabels() throws {
        let pod: JSONValue = ["metadata": ["name": "p", "labels": ["app": "web", "bad": 3]]]
        #expect(LabelSelector.labels(of: pod) == ["app": "web"])
        #expect(try LabelSelector(parsing: "app=web").matches(object: pod))
        #expect(try LabelSelector(parsing: "!bad").matches(object: pod))
        #expect(LabelSelector.everything.matches(object: ["metadata": ["name": "x"]]))
    }

    @Test func matchLabelsIsEqualityOnEveryPair() {
        let selector = LabelSelector(matchLabels: ["b": "2", "a": "1"])
        #expect(selector.description == "a=1,b=2")
        #expect(selector.matches(labels: ["a": "1", "b": "2", "c": "3"]))
        #expect(!selector.matches(labels: ["a": "1"]))
    }
}

@Suite struct LabelSelectorStructuredTests {
    @Test func readsMatchLabelsAndMatchExpressions() throws {
        let value: JSONValue = [
            "matchLabels": ["app": "web"],
            "matchExpressions": [
                ["key": "tier", "operator": "In", "values": ["frontend", "cache"]],
                ["key": "env", "operator": "NotIn", "values": ["dev"]],
                ["key": "canary", "operator": "DoesNotExist"],
                ["key": "version", "operator": "Exists", "values": []],
            ],
        ]
        let selector = try LabelSelector(structured: value)
        #expect(selector.description == "app=web,!canary,env notin (dev),tier in (cache,frontend),version")
        #expect(selector.matches(labels: ["app": "web", "tier": "cache", "version": "v1"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "cache", "version": "v1", "canary": "y"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "cache"]))
        #expect(try LabelSelector(parsing: selector.description) == selector)
    }

    @Test func emptyObjectSelectsEverything() throws {
        #expect(try LabelSelector(structured: [:]).isEverything)
        #expect(try LabelSelector(structured: ["matchLabels": nil, "matchExpressions": []]).isEverything)
    }

    @Test func reportsTypeErrorsWithTheirFieldPaths() {
        let value: JSONValue = [
            "matchLabels": ["ok": "v", "n": 1],
            "matchExpressions": [
                ["key": "c", "operator": "Gt", "values": ["1"]],
                ["operator": "Exists"],
                "nope",
            ],
        ]
        let error = #expect(throws: LabelSelector.StructureError.self) {
            try LabelSelector(structured: value, at: "spec.selector")
        }
        #expect(error?.diagnostics.map(\.description) == [
            #"spec.selector.matchLabels[n]: Invalid value: "integer": spec.selector.matchLabels[n] in body must be of type string: "integer""#,
            #"spec.selector.matchExpressions[0].operator: Unsupported value: "Gt": supported values: "In", "NotIn", "Exists", "DoesNotExist""#,
            "spec.selector.matchExpressions[1].key: Required value",
            #"spec.selector.matchExpressions[2]: Invalid value: "string": spec.selector.matchExpressions[2] in body must be of type object: "string""#,
        ])
    }

    @Test func reportsRuleErrorsWithTheirFieldPaths() {
        let value: JSONValue = [
            "matchLabels": ["-bad": "ok", "good": "no@"],
            "matchExpressions": [
                ["key": "a", "operator": "In"],
                ["key": "b", "operator": "Exists", "values": ["x"]],
                ["key": "a/b/c", "operator": "Exists"],
            ],
        ]
        let error = #expect(throws: LabelSelector.StructureError.self) {
            try LabelSelector(structured: value, at: "spec.selector")
        }
        let lines = error?.diagnostics.map(\.description) ?? []
        #expect(lines.count == 5)
        #expect(lines.contains("spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"))
        #expect(lines.contains("spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        #expect(lines.contains { $0.hasPrefix(#"spec.selector.matchExpressions[2].key: Invalid value: "a/b/c": a qualified name must"#) })
        #expect(lines.contains { $0.hasPrefix(#"spec.selector.matchLabels: Invalid value: "-bad": name part must"#) })
        #expect(lines.contains { $0.hasPrefix(#"spec.selector.matchLabels: Invalid value: "no@": a valid label must"#) })
    }

    @Test func convertsTheTypedSpec() {
        let spec = LabelSelectorSpec(matchLabels: ["app": "web"], matchExpressions: [
            .init(key: "tier", operator: .notIn, values: ["db"]), .init(key: "canary", operator: .doesNotExist),
        ])
        let selector = spec.labelSelector
        #expect(selector.description == "app=web,!canary,tier notin (db)")
        #expect(selector.matches(labels: ["app": "web"]) == spec.matches(["app": "web"]))
        #expect(LabelSelectorSpec().labelSelector.isEverything)
    }

    @Test func rejectsNonObjects() {
        #expect(throws: LabelSelector.StructureError.self) { try LabelSelector(structured: nil) }
        #expect(throws: LabelSelector.StructureError.self) { try LabelSelector(structured: ["matchLabels": ["a", "b"]]) }
        #expect(throws: LabelSelector.StructureError.self) { try LabelSelector(structured: ["matchExpressions": "x"]) }
    }
}

@Suite struct LabelSelectorFuzzTests {
    /// Seeded random strings over the selector alphabet: each either parses
    /// (and then round-trips through its rendering) or throws a ParseError
    /// whose offset is inside the text; nothing traps.
    @Test func randomInputParsesOrFailsCleanly() throws {
        var generator = SplitMix64(seed: 0x5EED)
        let alphabet = Array("ab1-_./=!(), in notin<>\t\u{e9}")
        var parsed = 0
        for _ in 0..<5000 {
            let length = Int(generator.next() % 16)
            let text = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            do {
                let selector = try LabelSelector(parsing: text)
                #expect(try LabelSelector(parsing: selector.description) == selector, "\(text)")
                parsed += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= text.count, "\(text)")
            }
        }
        #expect(parsed > 100)
    }
}

/// A tiny seeded generator (SplitMix64), so fuzz inputs are the same every run.
struct SplitMix64: RandomNumberGenerator {
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
