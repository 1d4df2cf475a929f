/// A Deployment (apps/v1): keeps `replicas` pods from `template` running,
/// replacing them per `strategy` when the template changes.
public struct Deployment: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "apps", versions: ["v1"], kind: "Deployment", plural: "deployments", shortNames: ["deploy"])

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public var selector: LabelSelectorSpec
        public var template: PodTemplateSpec
        public var strategy: Strategy?
        public var minReadySeconds: Int32?
        public var revisionHistoryLimit: Int32?
        public var paused: Bool?
        public var progressDeadlineSeconds: Int32?

        public init(replicas: Int32? = nil, selector: LabelSelectorSpec, template: PodTemplateSpec) {
            self.replicas = replicas
            self.selector = selector
            self.template = template
        }
    }

    public struct Strategy: Codable, Sendable, Hashable {
        public var type: StrategyType?
        public var rollingUpdate: RollingUpdate?

        public init(type: StrategyType? = nil, rollingUpdate: RollingUpdate? = nil) {
            self.type = type
            self.rollingUpdate = rollingUpdate
        }
    }

    public enum StrategyType: String, SchemaEnum {
        case recreate = "Recreate"
        case rollingUpdate = "RollingUpdate"
    }

    public struct RollingUpdate: Codable, Sendable, Hashable {
        public var maxUnavailable: IntOrString?
        public var maxSurge: IntOrString?

        public init(maxUnavailable: IntOrString? = nil, maxSurge: IntOrString? = nil) {
            self.maxUnavailable = maxUnavailable
            self.maxSurge = maxSurge
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var replicas: Int32?
        public var updatedReplicas: Int32?
        public var readyReplicas: Int32?
        public var availableReplicas: Int32?
        public var unavailableReplicas: Int32?
        public var terminatingReplicas: Int32?
        public var conditions: [Condition]?
        public var collisionCount: Int32?

        public init() {}
    }

    public struct Condition: Codable, Sendable, Hashable {
        /// `Available`, `Progressing`, `ReplicaFailure`.
        public var type: String
        public var status: ConditionStatus
        public var lastUpdateTime: String?
        public var lastTransitionTime: String?
        public var reason: String?
        public var message: String?

        public init(type: String, status: ConditionStatus, reason: String? = nil, message: String? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
        }
    }

    /// apps/v1 SetDefaults_Deployment, then the pod template's own defaults.
    public mutating func applyDefaults() {
        if spec.replicas == nil { spec.replicas = 1 }
        var strategy = spec.strategy ?? Strategy()
        if strategy.type == nil { strategy.type = .rollingUpdate }
        if strategy.type == .rollingUpdate {
            var rolling = strategy.rollingUpdate ?? RollingUpdate()
            if rolling.maxUnavailable == nil { rolling.maxUnavailable = "25%" }
            if rolling.maxSurge == nil { rolling.maxSurge = "25%" }
            strategy.rollingUpdate = rolling
        }
        spec.strategy = strategy
        if spec.revisionHistoryLimit == nil { spec.revisionHistoryLimit = 10 }
        if spec.progressDeadlineSeconds == nil { spec.progressDeadlineSeconds = 600 }
        spec.template.spec.applyDefaults()
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        let specPath = path.appending("spec")
        validation.nonNegative(spec.replicas, at: specPath.appending("replicas"))
        let selectorPath = specPath.appending("selector")
        if spec.selector.isEmpty {
            validation.add(.invalid(selectorPath, rendered: ValueCodec.encode(spec.selector).serialized(),
                                    "empty selector is invalid for deployment"))
        }
        spec.selector.validate(at: selectorPath, &validation)
        let templatePath = specPath.appending("template")
        let labels = spec.template.metadata?.labels ?? [:]
        ObjectMeta.validateLabels(labels, at: templatePath.appending("metadata").appending("labels"), &validation)
        if !spec.selector.isEmpty && !spec.selector.matches(labels) {
            validation.add(.invalid(templatePath.appending("metadata").appending("labels"),
                                    rendered: GoLiteral.stringMap(labels), "`selector` does not match template `labels`"))
        }
        spec.template.spec.validate(at: templatePath.appending("spec"), &validation)
        if let policy = spec.template.spec.restartPolicy, policy != .always {
            validation.add(.unsupported(templatePath.appending("spec").appending("restartPolicy"),
                                        value: .string(policy.rawValue), supported: ["Always"]))
        }
        if spec.template.spec.activeDeadlineSeconds != nil {
            validation.add(.forbidden(templatePath.appending("spec").appending("activeDeadlineSeconds"),
                                      "activeDeadlineSeconds in ReplicaSet is not Supported"))
        }
        validateStrategy(at: specPath.appending("strategy"), &validation)
        validation.nonNegative(spec.minReadySeconds, at: specPath.appending("minReadySeconds"))
        validation.nonNegative(spec.revisionHistoryLimit, at: specPath.appending("revisionHistoryLimit"))
        if let deadline = spec.progressDeadlineSeconds {
            validation.nonNegative(deadline, at: specPath.appending("progressDeadlineSeconds"))
            if deadline <= spec.minReadySeconds ?? 0 {
                validation.add(.invalid(specPath.appending("progressDeadlineSeconds"), value: .int(Int(deadline)),
                                        "must be greater than minReadySeconds"))
            }
        }
    }

    private func validateStrategy(at path: FieldPath, _ validation: inout Validation) {
        guard let strategy = spec.strategy else { return }
        if strategy.type == .recreate {
            if strategy.rollingUpdate != nil {
                validation.add(.forbidden(path.appending("rollingUpdate"),
                                          "may not be specified when strategy `type` is 'Recreate'"))
            }
            return
        }
        guard let rolling = strategy.rollingUpdate else { return }
        let rollingPath = path.appending("rollingUpdate")
        let unavailablePath = rollingPath.appending("maxUnavailable")
        let surgePath = rollingPath.appending("maxSurge")
        if let value = rolling.maxUnavailable { Self.validatePositiveIntOrPercent(value, at: unavailablePath, &validation) }
        if let value = rolling.maxSurge { Self.validatePositiveIntOrPercent(value, at: surgePath, &validation) }
        if let value = rolling.maxUnavailable, let percent = value.percent, percent > 100 {
            validation.add(.invalid(unavailablePath, value: value.jsonValue, "must not be greater than 100%"))
        }
        let surgeIsZero = rolling.maxSurge.map { $0.intValue == 0 || $0.percent == 0 } ?? false
        let unavailableIsZero = rolling.maxUnavailable.map { $0.intValue == 0 || $0.percent == 0 } ?? false
        if surgeIsZero && unavailableIsZero {
            validation.add(.invalid(unavailablePath, value: rolling.maxUnavailable!.jsonValue,
                                    "may not be 0 when `maxSurge` is 0"))
        }
    }

    static func validatePositiveIntOrPercent(_ value: IntOrString, at path: FieldPath, _ validation: inout Validation) {
        switch value {
        case .int(let i): validation.nonNegative(i, at: path)
        case .string(let s):
            if value.percent == nil { validation.add(.invalid(path, value: .string(s), IntOrString.percentError)) }
        }
    }
}
