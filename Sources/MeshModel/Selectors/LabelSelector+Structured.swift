extension LabelSelector {
    /// A structured selector that breaks the rules, with one diagnostic per problem.
    public struct StructureError: Error, Sendable, Hashable, CustomStringConvertible {
        public var diagnostics: [Diagnostic]

        public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

        public var description: String { diagnostics.map(\.description).joined(separator: ", ") }
    }

    /// Reads the manifest form (metav1.LabelSelector) found at `path`:
    /// ```yaml
    /// matchLabels: {app: web}
    /// matchExpressions:
    /// - {key: tier, operator: In, values: [frontend, cache]}
    /// - {key: canary, operator: DoesNotExist}
    /// ```
    /// `{}` selects everything. What an absent (null) selector means depends on
    /// the field (a Service without a selector selects nothing), so the caller
    /// decides that before calling; null is rejected here.
    ///
    /// Errors follow Kubernetes' ValidateLabelSelector, e.g.
    /// `spec.selector.matchExpressions[0].values: Required value: must be
    /// specified when `operator` is 'In' or 'NotIn'`.
    public init(structured value: JSONValue, at path: FieldPath = .root) throws(StructureError) {
        var errors: [Diagnostic] = []
        var requirements: [LabelRequirement] = []
        guard let object = value.objectValue else {
            throw StructureError(diagnostics: [.invalid(path, value: value, "must be an object")])
        }

        if let matchLabels = object["matchLabels"], !matchLabels.isNull {
            let labelsPath = path.appending("matchLabels")
            if let labels = matchLabels.objectValue {
                for (key, labelValue) in labels.sortedPairs {
                    if let problem = LabelValidation.problem(withKey: key) {
                        errors.append(.invalid(labelsPath, value: .string(key), problem))
                    }
                    guard let string = labelValue.stringValue else {
                        errors.append(.invalid(labelsPath.appending(key: key), value: labelValue, "must be a string"))
                        continue
                    }
                    if let problem = LabelValidation.problem(withValue: string) {
                        errors.append(.invalid(labelsPath, value: labelValue, problem))
                    }
                    requirements.append(LabelRequirement(key: key, operator: .equals, values: [string]))
                }
            } else {
                errors.append(.invalid(labelsPath, value: matchLabels, "must be an object"))
            }
        }

        if let matchExpressions = object["matchExpressions"], !matchExpressions.isNull {
            let expressionsPath = path.appending("matchExpressions")
            if let expressions = matchExpressions.arrayValue {
                for (index, expression) in expressions.enumerated() {
                    if let requirement = Self.requirement(expression, at: expressionsPath.appending(index: index),
                                                          errors: &errors)
                    {
                        requirements.append(requirement)
                    }
                }
            } else {
                errors.append(.invalid(expressionsPath, value: matchExpressions, "must be an array"))
            }
        }

        guard errors.isEmpty else { throw StructureError(diagnostics: errors) }
        self.init(requirements)
    }

    /// One `matchExpressions` entry, or nil (with errors added) when it is invalid.
    private static func requirement(_ expression: JSONValue, at path: FieldPath,
                                    errors: inout [Diagnostic]) -> LabelRequirement?
    {
        guard expression.objectValue != nil else {
            errors.append(.invalid(path, value: expression, "must be an object"))
            return nil
        }
        let before = errors.count
        let key = expression["key"]?.stringValue ?? ""
        if key.isEmpty {
            errors.append(.required(path.appending("key")))
        } else if let problem = LabelValidation.problem(withKey: key) {
            errors.append(.invalid(path.appending("key"), value: .string(key), problem))
        }

        var values: [String] = []
        if let list = expression["values"], !list.isNull {
            if let array = list.arrayValue {
                for (i, element) in array.enumerated() {
                    guard let string = element.stringValue else {
                        errors.append(.invalid(path.appending("values").appending(index: i), value: element, "must be a string"))
                        continue
                    }
                    if let problem = LabelValidation.problem(withValue: string) {
                        errors.append(.invalid(path.appending("values").appending(index: i), value: element, problem))
                    }
                    values.append(string)
                }
            } else {
                errors.append(.invalid(path.appending("values"), value: list, "must be an array"))
            }
        }

        let operatorValue = expression["operator"] ?? .null
        let op: LabelRequirement.Operator?
        switch operatorValue.stringValue {
        case "In": op = .in
        case "NotIn": op = .notIn
        case "Exists": op = .exists
        case "DoesNotExist": op = .doesNotExist
        case nil where operatorValue.isNull:
            errors.append(.required(path.appending("operator")))
            op = nil
        default:
            errors.append(.invalid(path.appending("operator"), value: operatorValue, "not a valid selector operator"))
            op = nil
        }
        switch op {
        case .in?, .notIn?:
            if values.isEmpty {
                errors.append(.required(path.appending("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
            }
        case .exists?, .doesNotExist?:
            if !values.isEmpty {
                errors.append(.forbidden(path.appending("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
            }
        default:
            break
        }
        guard let op, errors.count == before else { return nil }
        return LabelRequirement(key: key, operator: op, values: values)
    }
}
