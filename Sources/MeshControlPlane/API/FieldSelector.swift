import MeshModel

/// A `fieldSelector` query (`metadata.name=web,status.phase!=Running`):
/// what `kubectl get pod web -w` sends to watch one object.
struct FieldSelector: Sendable {
    struct Requirement: Sendable {
        var field: FieldPath
        var value: String
        var equal: Bool
    }

    var requirements: [Requirement]

    /// Fields any kind can be selected by; Pods add a few, as in Kubernetes.
    static let commonFields: Set<String> = ["metadata.name", "metadata.namespace"]
    static let podFields: Set<String> = ["status.phase", "status.podIP", "spec.nodeName", "spec.serviceAccountName"]
    /// What `kubectl describe` selects events by; `source` is `source.component`.
    static let eventFields: Set<String> = [
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type",
    ]

    static func supports(_ field: String, kind: String) -> Bool {
        commonFields.contains(field) || (kind == "Pod" && podFields.contains(field))
            || (kind == "Event" && eventFields.contains(field))
    }

    init(parsing text: String, kind: String) throws(StatusObject) {
        var requirements: [Requirement] = []
        for term in text.split(separator: ",") where !term.isEmpty {
            let (field, value, equal): (Substring, Substring, Bool)
            if let range = term.firstRange(of: "!=") {
                (field, value, equal) = (term[..<range.lowerBound], term[range.upperBound...], false)
            } else if let range = term.firstRange(of: "==") {
                (field, value, equal) = (term[..<range.lowerBound], term[range.upperBound...], true)
            } else if let eq = term.firstIndex(of: "=") {
                (field, value, equal) = (term[..<eq], term[term.index(after: eq)...], true)
            } else {
                throw .badRequest("invalid field selector \"\(term)\": expected field=value or field!=value")
            }
            let name = String(field)
            guard Self.supports(name, kind: kind) else {
                throw .badRequest("field label not supported: \(name)")
            }
            let path = kind == "Event" && name == "source" ? "source.component" : name
            requirements.append(Requirement(field: FieldPath(parsing: path), value: String(value), equal: equal))
        }
        self.requirements = requirements
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = object[path: requirement.field]?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }

    /// The single name the selector pins, if any (lets a watch skip other objects cheaply).
    var name: String? {
        requirements.first { $0.equal && $0.field == "metadata.name" }?.value
    }
}
