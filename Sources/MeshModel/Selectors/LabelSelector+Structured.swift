extension LabelSelector {
    /// A structured selector that breaks the rules, with one diagnostic per problem.
    public struct StructureError: Error, Sendable, Hashable, CustomStringConvertible {
        public var diagnostics: [Diagnostic]

        public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

        public var description: String { diagnostics.map(\.description).joined(separator: ", ") }
    }

    /// The selector a manifest's `matchLabels` + `matchExpressions` mean. An
    /// empty spec selects everything. `spec` should have passed its
    /// validation; if not, an `In` without values simply matches nothing.
    public init(_ spec: LabelSelectorSpec) {
        var requirements = (spec.matchLabels ?? [:]).map {
            LabelRequirement(key: $0.key, operator: .equals, values: [$0.value])
        }
        for expression in spec.matchExpressions ?? [] {
            let op: LabelRequirement.Operator =
                switch expression.operator {
                case .in: .in
                case .notIn: .notIn
                case .exists: .exists
                case .doesNotExist: .doesNotExist
                }
            requirements.append(LabelRequirement(key: expression.key, operator: op, values: expression.values ?? []))
        }
        self.init(requirements)
    }

    /// Reads the manifest form from plain JSON (what controllers and the store
    /// hold), found at `path`:
    /// ```yaml
    /// matchLabels: {app: web}
    /// matchExpressions:
    /// - {key: tier, operator: In, values: [frontend, cache]}
    /// - {key: canary, operator: DoesNotExist}
    /// ```
    /// Decoded as `LabelSelectorSpec` and checked with its validation, so the
    /// errors are the same as for the typed field, e.g.
    /// `spec.selector.matchExpressions[0].values: Required value: must be
    /// specified when `operator` is 'In' or 'NotIn'`. What an absent (null)
    /// selector means depends on the field (a Service without one selects
    /// nothing), so callers decide that before calling.
    public init(structured value: JSONValue, at path: FieldPath = .root) throws(StructureError) {
        let decoded = ValueCodec.decode(LabelSelectorSpec.self, from: value, at: path)
        var errors = decoded.diagnostics.filter { $0.severity == .error }
        if let spec = decoded.value {
            var validation = Validation(namespace: nil)
            spec.validate(at: path, &validation)
            errors += validation.errors
            if errors.isEmpty {
                self.init(spec)
                return
            }
        }
        throw StructureError(diagnostics: errors)
    }
}
