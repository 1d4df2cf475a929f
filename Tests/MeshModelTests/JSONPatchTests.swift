import MeshModel
import Testing

@Suite struct JSONPatchTests {
    func apply(_ document: String, _ patch: String) throws -> JSONValue {
        try JSONPatch(json: try JSONValue(parsing: patch)).apply(to: try JSONValue(parsing: document))
    }

    // RFC 6902 appendix A, the examples that succeed.
    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
         #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#,
         #"{"foo":["all","cows","eat","grass"]}"#),
        (#"{"baz":"qux","foo":["a",2,"c"]}"#,
         #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
         #"{"baz":"qux","foo":["a",2,"c"]}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#,
         #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#,
         #"{"foo":["bar",["abc","def"]]}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#, #"{"/":9,"~1":10}"#),
        (#"{"a":1}"#, #"[{"op":"copy","from":"/a","path":"/b"}]"#, #"{"a":1,"b":1}"#),
        (#"{"a":1}"#, #"[{"op":"replace","path":"","value":[1]}]"#, #"[1]"#),
    ])
    func followsRFC6902(document: String, patch: String, expected: String) throws {
        #expect(try apply(document, patch) == (try JSONValue(parsing: expected)))
    }

    @Test(arguments: [
        (#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#, "patch operation 0: test failed: /baz is \"qux\", not \"bar\""),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#, "patch operation 0: no member \"baz\""),
        (#"{"foo":[1]}"#, #"[{"op":"add","path":"/foo/5","value":2}]"#, "patch operation 0: index 5 is out of range (1 elements)"),
        (#"{"foo":[1]}"#, #"[{"op":"remove","path":"/foo/01"}]"#, "patch operation 0: \"01\" is not an array index"),
        (#"{}"#, #"[{"op":"add","path":"/a","value":1},{"op":"remove","path":"/b"}]"#, "patch operation 1: no member \"b\" to remove"),
        (#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#, "patch operation 0: cannot move \"/a\" into its own child \"/a/b/c\""),
        (#"{}"#, #"[{"op":"frob","path":"/a"}]"#, "patch operation 0: unknown op \"frob\""),
        (#"{}"#, #"[{"op":"add","path":"a","value":1}]"#, "patch operation 0: path \"a\" must start with /"),
    ])
    func failsWithAClearMessage(document: String, patch: String, message: String) {
        do {
            _ = try apply(document, patch)
            Issue.record("expected a failure")
        } catch let failure as JSONPatch.Failure {
            #expect(failure.description == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func roundTripsItsJSONAndEscapes() throws {
        let patch = JSONPatch([.add(path: "/metadata/labels/" + JSONPatch.escape("app.kubernetes.io/name"), value: "x")])
        #expect(try JSONPatch(json: patch.json) == patch)
        #expect(try patch.apply(to: ["metadata": ["labels": [:]]])["metadata"]?["labels"]?["app.kubernetes.io/name"] == "x")
    }
}

@Suite struct ThreeWayMergePatchTests {
    @Test func setsChangesRemovesDroppedFieldsAndKeepsServerFields() throws {
        let original: JSONValue = ["spec": ["replicas": 2, "paused": false, "template": ["image": "a"]]]
        let modified: JSONValue = ["spec": ["replicas": 3, "template": ["image": "a"], "new": "x"]]
        let current: JSONValue = [
            "spec": ["replicas": 2, "paused": false, "template": ["image": "a"], "clusterIP": "10.96.0.5"],
            "status": ["ready": 1],
        ]
        let patch = threeWayMergePatch(original: original, modified: modified, current: current)
        #expect(JSONValue.object(patch) == ["spec": ["replicas": 3, "new": "x", "paused": nil]])
        let applied = applyMergePatch(.object(patch), to: current)
        #expect(applied["spec"]?["clusterIP"] == "10.96.0.5")
        #expect(applied["status"] == ["ready": 1])
        #expect(applied["spec"]?["paused"] == nil)
    }

    @Test func unchangedObjectsGiveAnEmptyPatch() {
        let manifest: JSONValue = ["data": ["a": "1"], "list": [1, 2]]
        var live = manifest
        live["metadata"] = ["resourceVersion": "7"]
        #expect(threeWayMergePatch(original: manifest, modified: manifest, current: live).isEmpty)
    }

    @Test func listsAreReplacedWhole() {
        let patch = threeWayMergePatch(original: nil, modified: ["ports": [["port": 80]]],
                                       current: ["ports": [["port": 80, "protocol": "TCP"], ["port": 81]]])
        #expect(JSONValue.object(patch) == ["ports": [["port": 80]]])
    }
}
