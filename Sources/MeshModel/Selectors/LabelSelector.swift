/// A Kubernetes label selector: a conjunction of requirements on an object's
/// labels, shared by `meshlab get -l`, the API's `?labelSelector=`, watches and
/// the controllers (Service → Pods, Deployment → Pods).
///
/// Two spellings come in and mean the same thing:
/// - the string form of `kubectl -l` and `?labelSelector=`
///   (`app=web,tier!=db,env in (prod,stage),!canary`),
///   parsed with `init(parsing:)` by the grammar of
///   k8s.io/apimachinery/pkg/labels/selector.go;
/// - the structured form in manifests (`matchLabels` + `matchExpressions`):
///   the typed `LabelSelectorSpec.labelSelector`, or from plain JSON
///   `init(structured:at:)`, as metav1.LabelSelectorAsSelector does.
///
/// Requirements are kept sorted by key (as Kubernetes sorts them), so two
/// selectors that say the same thing compare equal and render the same.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public private(set) var requirements: [LabelRequirement]

    public init(_ requirements: [LabelRequirement] = []) {
        self.requirements = requirements.sorted { $0.key < $1.key }
    }

    /// Selects every object (the empty string, or `{}` in a manifest).
    public static let everything = LabelSelector()

    /// Equality on every pair, as a Service's `selector` or Istio's
    /// `workloadSelector.labels` means.
    public init(matchLabels: [String: String]) {
        self.init(matchLabels.map { LabelRequirement(key: $0.key, operator: .equals, values: [$0.value]) })
    }

    public var isEverything: Bool { requirements.isEmpty }

    /// True when every requirement holds for `labels`.
    public func matches(labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels: labels) }
    }

    /// True when the requirements hold for `metadata.labels` of `object`.
    public func matches(object: JSONValue) -> Bool {
        isEverything || matches(labels: LabelSelector.labels(of: object))
    }

    /// `metadata.labels` of an object; entries whose value is not a string are skipped.
    public static func labels(of object: JSONValue) -> [String: String] {
        guard let labels = object["metadata"]?["labels"]?.objectValue else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in labels {
            if let string = value.stringValue { result[key] = string }
        }
        return result
    }

    /// The string form, parseable again: `a=b,c notin (x,y),!d`.
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

/// One condition of a selector: a key, an operator and (for some operators) values.
public struct LabelRequirement: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        /// `key=value` or `key==value`: present with that value.
        case equals
        /// `key!=value`: absent, or present with another value.
        case notEquals
        /// `key in (a,b)` / `In`: present with one of the values.
        case `in`
        /// `key notin (a,b)` / `NotIn`: absent, or present with none of the values.
        case notIn
        /// `key` / `Exists`.
        case exists
        /// `!key` / `DoesNotExist`.
        case doesNotExist
        /// `key>5`: present and, read as an integer, greater than the value.
        case greaterThan
        /// `key<5`: present and, read as an integer, less than the value.
        case lessThan
    }

    public var key: String
    public var `operator`: Operator
    /// Sorted and without duplicates; empty for `exists` and `doesNotExist`.
    public var values: [String]

    public init(key: String, operator: Operator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = Array(Set(values)).sorted()
    }

    public func matches(labels: [String: String]) -> Bool {
        let value = labels[key]
        switch self.operator {
        case .equals, .in:
            guard let value else { return false }
            return values.contains(value)
        case .notEquals, .notIn:
            guard let value else { return true }
            return !values.contains(value)
        case .exists:
            return value != nil
        case .doesNotExist:
            return value == nil
        case .greaterThan, .lessThan:
            guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else {
                return false
            }
            return self.operator == .greaterThan ? actual > bound : actual < bound
        }
    }

    public var description: String {
        switch self.operator {
        case .equals: "\(key)=\(values.first ?? "")"
        case .notEquals: "\(key)!=\(values.first ?? "")"
        case .in: "\(key) in (\(values.joined(separator: ",")))"
        case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
        case .exists: key
        case .doesNotExist: "!\(key)"
        case .greaterThan: "\(key)>\(values.first ?? "")"
        case .lessThan: "\(key)<\(values.first ?? "")"
        }
    }
}
