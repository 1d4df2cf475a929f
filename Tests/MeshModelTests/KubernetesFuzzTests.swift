import MeshModel
import Testing

/// Seeded mutations of a real object: whatever shape a field takes, checking
/// reports it and never traps.
@Suite struct KubernetesFuzzTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let oddValues: [JSONValue] = [
        nil, true, 0, -1, 2_147_483_648, 1.5, 1e300, "", "x", "-1", "25%", "Always", [], [nil], [1, "a"], [:],
        ["name": "x"], ["containerPort": 80], ["exec": ["command": []]], ["httpGet": ["port": "http"]],
    ]

    /// Every path of `value` that ends at a value (for replacing).
    static func paths(_ value: JSONValue, at path: FieldPath = .root) -> [FieldPath] {
        var found = [path]
        switch value {
        case .object(let object): for (key, child) in object { found += paths(child, at: path.appending(key)) }
        case .array(let elements): for (i, child) in elements.enumerated() { found += paths(child, at: path.appending(index: i)) }
        default: break
        }
        return found
    }

    static func replacing(_ value: JSONValue, at components: ArraySlice<FieldPath.Component>, with new: JSONValue) -> JSONValue {
        guard let first = components.first else { return new }
        switch (value, first) {
        case (.object(var object), .field(let key)):
            object[key] = replacing(object[key] ?? nil, at: components.dropFirst(), with: new)
            return .object(object)
        case (.array(var elements), .index(let i)) where elements.indices.contains(i):
            elements[i] = replacing(elements[i], at: components.dropFirst(), with: new)
            return .array(elements)
        default:
            return value
        }
    }

    @Test func mutatedPodsAreReportedNotTrapped() throws {
        let pod = try JSONValue(parsing: KubernetesRoundTripTests.livePod)
        let candidates = Self.paths(pod).filter { !$0.isRoot }
        var generator = SplitMix64(state: 42)
        var rejected = 0
        for _ in 0..<400 {
            var mutated = pod
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let path = candidates.randomElement(using: &generator)!
                let value = Self.oddValues.randomElement(using: &generator)!
                mutated = Self.replacing(mutated, at: path.components[...], with: value)
            }
            let result = ResourceCodec.check(Pod.self, mutated, options: CheckOptions())
            if !result.isValid {
                rejected += 1
                #expect(!result.errors.isEmpty)
            }
            for diagnostic in result.diagnostics { #expect(!diagnostic.description.isEmpty) }
        }
        #expect(rejected > 100)
    }
}
