/// What an update may change, per kind: the apiserver's `ValidateUpdate`
/// rules for the kinds where they matter to a lab (a Deployment's selector,
/// a Service's ClusterIPs, a Pod's spec). Each takes the defaulted new and
/// old objects and returns the errors in the apiserver's words.

extension Deployment {
    /// apps/v1: the selector is immutable (DeploymentStrategy.ValidateUpdate).
    public func validateUpdate(from old: Deployment) -> [Diagnostic] {
        guard !spec.selector.semanticallyEqual(old.spec.selector) else { return [] }
        return [.invalid("spec.selector", rendered: spec.selector.goSyntax, "field is immutable")]
    }
}

extension LabelSelectorSpec {
    /// apimachinery's semantic equality: a nil map or list equals an empty one.
    func semanticallyEqual(_ other: LabelSelectorSpec) -> Bool {
        (matchLabels ?? [:]) == (other.matchLabels ?? [:])
            && (matchExpressions ?? []).map(\.normalized) == (other.matchExpressions ?? []).map(\.normalized)
    }

    /// Go's `%#v` of a `metav1.LabelSelector`, as `field.Invalid` prints it:
    /// `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
    var goSyntax: String {
        let labels = matchLabels.map(GoLiteral.stringMap) ?? "map[string]string(nil)"
        let expressions: String
        if let matchExpressions {
            let items = matchExpressions.map { requirement in
                let values = requirement.values.map(GoLiteral.stringSlice) ?? "[]string(nil)"
                return "v1.LabelSelectorRequirement{Key:\(Diagnostic.quoted(.string(requirement.key))), "
                    + "Operator:\(Diagnostic.quoted(.string(requirement.operator.rawValue))), Values:\(values)}"
            }
            expressions = "[]v1.LabelSelectorRequirement{" + items.joined(separator: ", ") + "}"
        } else {
            expressions = "[]v1.LabelSelectorRequirement(nil)"
        }
        return "v1.LabelSelector{MatchLabels:\(labels), MatchExpressions:\(expressions)}"
    }
}

extension LabelSelectorSpec.Requirement {
    fileprivate var normalized: LabelSelectorSpec.Requirement {
        LabelSelectorSpec.Requirement(key: key, operator: self.operator, values: (values ?? []).isEmpty ? nil : values)
    }
}

extension Service {
    /// Every type but ExternalName has a ClusterIP (or is headless).
    public var needsClusterIP: Bool { (spec.type ?? .clusterIP) != .externalName }

    /// The allocated addresses can be neither changed nor dropped
    /// (validateUpgradeDowngradeClusterIPs, single-stack part). The caller has
    /// already filled in what the update left out, as the apiserver's
    /// `patchAllocatedValues` does.
    public func validateUpdate(from old: Service) -> [Diagnostic] {
        guard needsClusterIP && old.needsClusterIP else { return [] }
        if isHeadless && old.isHeadless { return [] }
        let new = spec.clusterIPs ?? []
        let previous = old.spec.clusterIPs ?? []
        let rendered = spec.clusterIPs.map(GoLiteral.stringSlice) ?? "[]string(nil)"
        var errors: [Diagnostic] = []
        if new.count == previous.count {
            for (i, ip) in previous.enumerated() where ip != new[i] {
                errors.append(.invalid(FieldPath("spec.clusterIPs").appending(index: i), rendered: rendered, "may not change once set"))
            }
        } else if new.isEmpty {
            errors.append(.invalid(FieldPath("spec.clusterIPs").appending(index: 0), rendered: rendered,
                                   "primary clusterIP can not be unset"))
        } else if !previous.isEmpty && new[0] != previous[0] {
            errors.append(.invalid(FieldPath("spec.clusterIPs").appending(index: 0), rendered: rendered, "may not change once set"))
        }
        return errors
    }
}

extension Pod {
    /// The fields a pod update may change, as the apiserver lists them.
    static let updatablePodSpecFields = [
        "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]

    /// ValidatePodUpdate's spec rules: the spec is immutable but for
    /// container images, a shorter activeDeadlineSeconds and added
    /// tolerations. Where Kubernetes appends a Go `cmp.Diff` of the specs,
    /// this appends the changed fields as `- path: old` / `+ path: new` lines.
    public func validateUpdate(from old: Pod) -> [Diagnostic] {
        let specPath: FieldPath = "spec"
        if spec.containers.count != old.spec.containers.count {
            return [.forbidden(specPath.appending("containers"), "pod updates may not add or remove containers")]
        }
        if (spec.initContainers ?? []).count != (old.spec.initContainers ?? []).count {
            return [.forbidden(specPath.appending("initContainers"), "pod updates may not add or remove containers")]
        }
        var errors: [Diagnostic] = []
        let deadlinePath = specPath.appending("activeDeadlineSeconds")
        if let deadline = spec.activeDeadlineSeconds {
            if deadline < 0 || deadline > Int64(Int32.max) {
                return [.invalid(deadlinePath, value: .int(Int(deadline)), "must be between 0 and 2147483647, inclusive")]
            }
            if let previous = old.spec.activeDeadlineSeconds, previous < deadline {
                return [.invalid(deadlinePath, value: .int(Int(deadline)), "must be less than or equal to previous value")]
            }
        } else if old.spec.activeDeadlineSeconds != nil {
            errors.append(.invalid(deadlinePath, value: .null, "must not update from a positive integer to nil value"))
        }
        let newTolerations = (spec.tolerations ?? []).map(Self.withoutTolerationSeconds)
        for toleration in (old.spec.tolerations ?? []).map(Self.withoutTolerationSeconds)
        where !newTolerations.contains(toleration) {
            errors.append(.forbidden(specPath.appending("tolerations"),
                                     "existing toleration can not be modified except its tolerationSeconds"))
            return errors
        }

        var munged = spec
        for i in munged.containers.indices { munged.containers[i].image = old.spec.containers[i].image }
        if munged.initContainers != nil {
            for i in munged.initContainers!.indices { munged.initContainers![i].image = old.spec.initContainers![i].image }
        }
        munged.activeDeadlineSeconds = old.spec.activeDeadlineSeconds
        munged.tolerations = old.spec.tolerations
        munged.schedulingGates = old.spec.schedulingGates
        if let previous = old.spec.terminationGracePeriodSeconds, previous < 0, munged.terminationGracePeriodSeconds == 1 {
            munged.terminationGracePeriodSeconds = previous
        }
        if munged != old.spec {
            let changes = JSONDifference.lines(from: ValueCodec.encode(old.spec), to: ValueCodec.encode(munged), at: specPath)
            errors.append(.forbidden(specPath, "pod updates may not change fields other than "
                + Self.updatablePodSpecFields.joined(separator: ",") + "\n" + changes.joined(separator: "\n")))
        }
        return errors
    }

    private static func withoutTolerationSeconds(_ toleration: JSONValue) -> JSONValue {
        var copy = toleration
        copy["tolerationSeconds"] = nil
        return copy
    }
}

/// The leaves that differ between two JSON values, for messages.
enum JSONDifference {
    /// `- path: old` and `+ path: new` lines for every changed leaf; lists
    /// of different length and values of different type count as one leaf.
    static func lines(from old: JSONValue, to new: JSONValue, at path: FieldPath) -> [String] {
        switch (old, new) {
        case (.object(let a), .object(let b)):
            var keys = a.keys
            for key in b.keys where !a.contains(key) { keys.append(key) }
            return keys.flatMap { key in
                lines(from: a[key] ?? .null, to: b[key] ?? .null, at: path.appending(key))
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            return a.indices.flatMap { lines(from: a[$0], to: b[$0], at: path.appending(index: $0)) }
        default:
            guard old != new else { return [] }
            var out: [String] = []
            if !old.isNull { out.append("- \(path): \(old.serialized())") }
            if !new.isNull { out.append("+ \(path): \(new.serialized())") }
            return out
        }
    }
}
