/// The manifest form of a label selector (metav1.LabelSelector):
/// `matchLabels` and `matchExpressions`, as a Deployment's `spec.selector`
/// or a webhook's `namespaceSelector` writes it. Matching and the string
/// form live in `LabelSelector` (Selectors/); this is the typed field.
public struct LabelSelectorSpec: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [Requirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public struct Requirement: Codable, Sendable, Hashable {
        public var key: String
        public var `operator`: Operator
        public var values: [String]?

        public init(key: String, operator: Operator, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public enum Operator: String, SchemaEnum {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    /// Selects everything (`{}`).
    public var isEmpty: Bool { (matchLabels ?? [:]).isEmpty && (matchExpressions ?? []).isEmpty }

    /// The same selector in the matching form (Selectors/), for the store's
    /// list filters and the string rendering (`app=web,tier in (a,b)`).
    public var labelSelector: LabelSelector {
        var requirements = (matchLabels ?? [:]).keys.sorted().map {
            LabelRequirement(key: $0, operator: .equals, values: [matchLabels![$0]!])
        }
        for requirement in matchExpressions ?? [] {
            let op: LabelRequirement.Operator =
                switch requirement.operator {
                case .in: .in
                case .notIn: .notIn
                case .exists: .exists
                case .doesNotExist: .doesNotExist
                }
            requirements.append(LabelRequirement(key: requirement.key, operator: op, values: requirement.values ?? []))
        }
        return LabelSelector(requirements)
    }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels ?? [:] where labels[key] != value { return false }
        for requirement in matchExpressions ?? [] {
            let value = labels[requirement.key]
            let values = requirement.values ?? []
            switch requirement.operator {
            case .in: if value.map(values.contains) != true { return false }
            case .notIn: if let value, values.contains(value) { return false }
            case .exists: if value == nil { return false }
            case .doesNotExist: if value != nil { return false }
            }
        }
        return true
    }
}

extension LabelSelectorSpec: Validatable {
    /// Kubernetes' ValidateLabelSelector.
    public func validate(at path: FieldPath, _ validation: inout Validation) {
        for (i, requirement) in (matchExpressions ?? []).enumerated() {
            let requirementPath = path.appending("matchExpressions").appending(index: i)
            let values = requirement.values ?? []
            switch requirement.operator {
            case .in, .notIn:
                if values.isEmpty {
                    validation.add(.required(requirementPath.appending("values"),
                                             "must be specified when `operator` is 'In' or 'NotIn'"))
                }
            case .exists, .doesNotExist:
                if !values.isEmpty {
                    validation.add(.forbidden(requirementPath.appending("values"),
                                              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            }
            for message in KubernetesNames.qualifiedNameErrors(requirement.key) {
                validation.add(.invalid(requirementPath.appending("key"), value: .string(requirement.key), message))
            }
            for (j, value) in values.enumerated() {
                for message in KubernetesNames.labelValueErrors(value) {
                    validation.add(.invalid(requirementPath.appending("values").appending(index: j), value: .string(value), message))
                }
            }
        }
        ObjectMeta.validateLabels(matchLabels ?? [:], at: path.appending("matchLabels"), &validation)
    }
}
