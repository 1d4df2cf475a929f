import MeshModel

/// Which requests a webhook is called for, as the apiserver decides it
/// (k8s.io/apiserver pkg/admission/plugin/webhook: rules.Matcher, the
/// namespace and object matchers). Pure: the namespace's labels are given.
enum WebhookMatching {
    /// Whether any of `rules` covers the request.
    static func rulesMatch(_ rules: [WebhookRule], _ attributes: AdmissionAttributes) -> Bool {
        rules.contains { ruleMatches($0, attributes) }
    }

    static func ruleMatches(_ rule: WebhookRule, _ attributes: AdmissionAttributes) -> Bool {
        let operations = (rule.operations ?? []).map(\.rawValue)
        guard operations.contains("*") || operations.contains(attributes.operation.rawValue) else { return false }
        guard matches(rule.apiGroups ?? [], attributes.group), matches(rule.apiVersions ?? [], attributes.version) else {
            return false
        }
        switch rule.scope ?? .all {
        case .all: break
        case .cluster: if attributes.namespaced { return false }
        case .namespaced: if !attributes.namespaced { return false }
        }
        return (rule.resources ?? []).contains { resourceMatches($0, attributes) }
    }

    static func matches(_ values: [String], _ value: String) -> Bool { values.contains("*") || values.contains(value) }

    /// `pods`, `pods/status`, `*` (every resource, no subresource), `*/*`, `pods/*`, `*/status`.
    static func resourceMatches(_ pattern: String, _ attributes: AdmissionAttributes) -> Bool {
        let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let resource = parts[0]
        guard resource == "*" || resource == attributes.resource else { return false }
        if parts.count == 1 { return attributes.subresource == nil }
        return parts[1] == "*" || parts[1] == attributes.subresource
    }

    /// namespaceSelector: against the namespace's labels; a Namespace is
    /// matched by its own labels; other cluster-scoped objects always match.
    static func namespaceMatches(_ selector: LabelSelectorSpec?, _ attributes: AdmissionAttributes,
                                 namespaceLabels: [String: String]) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        if attributes.group.isEmpty && attributes.resource == "namespaces" {
            return selector.labelSelector.matches(labels: LabelSelector.labels(of: attributes.object))
        }
        if !attributes.namespaced { return true }
        return selector.labelSelector.matches(labels: namespaceLabels)
    }

    /// objectSelector: the new or the old object's labels.
    static func objectMatches(_ selector: LabelSelectorSpec?, _ attributes: AdmissionAttributes) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        let labelSelector = selector.labelSelector
        if labelSelector.matches(labels: LabelSelector.labels(of: attributes.object)) { return true }
        if let old = attributes.oldObject { return labelSelector.matches(labels: LabelSelector.labels(of: old)) }
        return false
    }
}
