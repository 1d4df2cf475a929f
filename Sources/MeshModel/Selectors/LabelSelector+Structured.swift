extension LabelSelector {
    /// A structured selector that breaks the rules, with one diagnostic per problem.
    public struct StructureError: Error, Sendable, Hashable, CustomStringConvertible {
        public var diagnostics: [Diagnostic]

        public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

        public var description: String { diagnostics.map(\.description).joined(separator: ", ") }
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
                self = spec.labelSelector
                return
            }
        }
        throw StructureError(diagnostics: errors)
    }
}
