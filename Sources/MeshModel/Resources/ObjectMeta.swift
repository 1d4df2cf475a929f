/// Kubernetes object metadata (metav1.ObjectMeta), the part every resource shares.
///
/// The store owns `uid`, `resourceVersion`, `generation` and
/// `creationTimestamp`; clients set the rest.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Kept whole: server-side apply bookkeeping that meshlab does not use
    /// but must accept in objects copied from a cluster.
    public var managedFields: [JSONValue]?
    public var selfLink: String?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil,
                annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// A pointer from an object to the one that owns it (a Pod to its ReplicaSet
/// or Deployment), used for cascading deletes and `describe`.
public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

extension ObjectMeta {
    /// The apiserver's metadata checks (ValidateObjectMetaAccessor), except
    /// namespace presence, which is the API's to judge: name (or
    /// generateName) syntax per kind, namespace syntax, label and annotation
    /// keys and values, annotation total size.
    public func validate(at path: FieldPath, nameRule: NameRule, _ validation: inout Validation) {
        if let generateName, !generateName.isEmpty {
            for message in nameRule.errors(generateName, prefix: true) {
                validation.add(.invalid(path.appending("generateName"), value: .string(generateName), message))
            }
        }
        if let name, !name.isEmpty {
            for message in nameRule.errors(name) {
                validation.add(.invalid(path.appending("name"), value: .string(name), message))
            }
        } else if generateName?.isEmpty ?? true {
            validation.add(.required(path.appending("name"), "name or generateName is required"))
        }
        if let namespace, !namespace.isEmpty {
            for message in NameRule.dns1123Label.errors(namespace) {
                validation.add(.invalid(path.appending("namespace"), value: .string(namespace), message))
            }
        }
        if let generation, generation < 0 {
            validation.add(.invalid(path.appending("generation"), value: .int(generation), "must be greater than or equal to 0"))
        }
        Self.validateLabels(labels ?? [:], at: path.appending("labels"), &validation)
        validateAnnotations(at: path.appending("annotations"), &validation)
    }

    /// Label keys are qualified names, values label values; errors sit at the
    /// map itself, as Kubernetes reports them. Also used for selectors.
    public static func validateLabels(_ labels: [String: String], at path: FieldPath, _ validation: inout Validation) {
        for key in labels.keys.sorted() {
            for message in KubernetesNames.qualifiedNameErrors(key) {
                validation.add(.invalid(path, value: .string(key), message))
            }
            for message in KubernetesNames.labelValueErrors(labels[key]!) {
                validation.add(.invalid(path, value: .string(labels[key]!), message))
            }
        }
    }

    /// The apiserver's limit on all annotations of one object together.
    public static let annotationsSizeLimit = 256 * 1024

    private func validateAnnotations(at path: FieldPath, _ validation: inout Validation) {
        guard let annotations else { return }
        var total = 0
        for key in annotations.keys.sorted() {
            total += key.utf8.count + annotations[key]!.utf8.count
            for message in KubernetesNames.qualifiedNameErrors(key.lowercased()) {
                validation.add(.invalid(path, value: .string(key), message))
            }
        }
        if total > Self.annotationsSizeLimit {
            validation.add(.tooLong(path, maxBytes: Self.annotationsSizeLimit))
        }
    }
}
