import MeshModel
import Testing

private struct Holder: Codable {
    var timeout: ProtoDuration?
    var port: IntOrString?
    var cpu: Quantity?
    var selector: LabelSelectorSpec?
}

private func decode(_ text: String) -> Decoded<Holder> {
    let value: JSONValue
    do { value = try JSONValue(parsing: text) } catch { Issue.record("\(error)"); value = .null }
    return ValueCodec.decode(Holder.self, from: value, at: "spec")
}

@Suite struct ProtoDurationTests {
    @Test(arguments: [
        ("10s", 10_000_000_000), ("0.5s", 500_000_000), ("300ms", 300_000_000), ("1m", 60_000_000_000),
        ("3m", 180_000_000_000), ("25ms", 25_000_000), ("1h30m", 5_400_000_000_000), ("1.5h", 5_400_000_000_000),
        ("10us", 10_000), ("2µs", 2_000), ("7ns", 7), (".5s", 500_000_000), ("1m0.5s", 60_500_000_000),
    ] as [(String, Int64)])
    func parsesGoSyntax(text: String, nanoseconds: Int64) {
        #expect(ProtoDuration(parsing: text)?.nanoseconds == nanoseconds)
    }

    @Test(arguments: ["", "s", "10", "1x", "1.2.3s", "apple", "--1s", "1 s"])
    func rejectsMalformed(text: String) {
        #expect(ProtoDuration(parsing: text) == nil)
    }

    @Test func decodesWithIstiosRule() {
        #expect(decode(#"{"timeout": "2s"}"#).value?.timeout == ProtoDuration(seconds: 2))
        #expect(decode(#"{"timeout": "apple"}"#).diagnostics.map(\.description) == [
            #"spec.timeout: Invalid value: "string": must be a valid duration greater than 1ms"#
        ])
        #expect(decode(#"{"timeout": "0s"}"#).diagnostics.map(\.description) == [
            #"spec.timeout: Invalid value: "string": must be a valid duration greater than 1ms"#
        ])
        #expect(decode(#"{"timeout": 10}"#).diagnostics.map(\.description) == [
            #"spec.timeout: Invalid value: "integer": spec.timeout in body must be of type string: "integer""#
        ])
    }

    @Test func keepsItsTextAndRendersCanonicallyWhenBuilt() {
        #expect(ValueCodec.encode(decode(#"{"timeout": "1m"}"#).value?.timeout) == "1m")
        #expect(ProtoDuration(seconds: 1.5).text == "1.5s")
        #expect(ProtoDuration(milliseconds: 250).text == "250ms")
        #expect(ProtoDuration(seconds: 90).text == "90s")
    }
}

@Suite struct IntOrStringTests {
    @Test func decodesBothForms() {
        #expect(decode(#"{"port": 8080}"#).value?.port == .int(8080))
        #expect(decode(#"{"port": "http"}"#).value?.port == .string("http"))
        #expect(decode(#"{"port": true}"#).diagnostics.map(\.description) == [
            #"spec.port: Invalid value: "boolean": spec.port in body must be of type integer or string: "boolean""#
        ])
        #expect(ValueCodec.encode(IntOrString.string("25%")) == "25%")
        #expect(ValueCodec.encode(IntOrString.int(3)) == 3)
    }

    @Test func scalesPercentagesAsKubernetesDoes() {
        #expect(IntOrString.string("25%").scaled(total: 10, roundUp: true) == 3)
        #expect(IntOrString.string("25%").scaled(total: 10, roundUp: false) == 2)
        #expect(IntOrString.int(4).scaled(total: 10, roundUp: true) == 4)
        #expect(IntOrString.string("x%").scaled(total: 10, roundUp: true) == nil)
    }
}

@Suite struct QuantityTests {
    @Test(arguments: [
        ("100m", 0.1), ("64Mi", 67_108_864), ("1Gi", 1_073_741_824), ("2", 2), ("1.5", 1.5), ("2e3", 2000),
        ("1k", 1000), ("500M", 5e8), ("+1", 1), ("-1", -1), (".5", 0.5), ("12E-1", 1.2),
    ] as [(String, Double)])
    func parses(text: String, value: Double) {
        #expect(Quantity(text)?.value == value)
    }

    @Test(arguments: ["", "abc", "1Q", "1.2.3", "1 Mi", "Mi", "1e", "1ee3"])
    func rejects(text: String) {
        #expect(Quantity(text) == nil)
    }

    @Test func decodesStringsAndNumbers() {
        #expect(decode(#"{"cpu": "100m"}"#).value?.cpu?.milliValue == 100)
        #expect(decode(#"{"cpu": 1}"#).value?.cpu?.text == "1")
        #expect(decode(#"{"cpu": "lots"}"#).diagnostics.map(\.description) == [
            #"spec.cpu: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#
        ])
    }
}

@Suite struct LabelSelectorSpecTests {
    @Test func matches() throws {
        let selector = try #require(decode("""
            {"selector": {"matchLabels": {"app": "web"}, "matchExpressions": [
              {"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "canary", "operator": "DoesNotExist"}]}}
            """).value?.selector)
        #expect(selector.matches(["app": "web", "tier": "a"]))
        #expect(!selector.matches(["app": "web", "tier": "c"]))
        #expect(!selector.matches(["app": "web", "tier": "a", "canary": "1"]))
        #expect(LabelSelectorSpec().matches(["anything": "x"]))
        #expect(selector.labelSelector.description == "app=web,!canary,tier in (a,b)")
        #expect(selector.labelSelector.matches(labels: ["app": "web", "tier": "b"]))
    }

    @Test func validatesAsKubernetes() {
        let selector = LabelSelectorSpec(
            matchLabels: ["bad key!": "v"],
            matchExpressions: [
                .init(key: "a", operator: .in), .init(key: "b", operator: .exists, values: ["x"]),
            ])
        var validation = Validation(namespace: nil)
        selector.validate(at: "spec.selector", &validation)
        #expect(validation.diagnostics.map(\.description) == [
            "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
            "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            #"spec.selector.matchLabels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
        ])
        #expect(decode(#"{"selector": {"matchExpressions": [{"key": "a", "operator": "Maybe"}]}}"#).diagnostics.map(\.description) == [
            #"spec.selector.matchExpressions[0].operator: Unsupported value: "Maybe": supported values: "In", "NotIn", "Exists", "DoesNotExist""#
        ])
    }
}

@Suite struct ValueOverflowTests {
    @Test func absurdValuesDoNotTrap() {
        #expect(Quantity("9e300")?.milliValue == .max)
        #expect(Quantity("-9e300")?.milliValue == .min)
        #expect(IntOrString.string("99999999999999999%").scaled(total: 1000, roundUp: true) == nil)
        #expect(ProtoDuration(parsing: "9999999999h") == nil)
        #expect(decode(#"{"port": 1e300}"#).errors.count == 1)
    }
}
