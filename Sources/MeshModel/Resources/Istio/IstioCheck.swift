/// Namespace for the types the Istio kinds share (destinations, string
/// matches, selectors, TLS and connection-pool settings). Durations are the
/// model's `ProtoDuration`.
public enum Istio {}

/// What Istio reports about one object, kept apart by where a cluster checks it.
///
/// A real cluster checks an Istio object twice: the apiserver applies the
/// CRD's OpenAPI schema and its CEL rules (`x-kubernetes-validations`), and
/// only when those pass does istiod's validating webhook run the Go rules of
/// pkg/config/validation. Keeping the two apart lets a document report what a
/// user of real Istio would see: the apiserver's message when a schema or CEL
/// rule fails, the webhook's otherwise, and never both for one mistake.
struct IstioCheck {
    /// The namespace the object will live in (exportTo and sidecar hosts use it).
    let namespace: String?
    private(set) var schema: [Diagnostic] = []
    private(set) var webhook: [Diagnostic] = []

    init(namespace: String?) { self.namespace = namespace }

    /// Hands the findings to `validation`: the webhook's only when the schema passed.
    func report(into validation: inout Validation) {
        schema.forEach { validation.add($0) }
        guard !schema.contains(where: { $0.severity == .error }) else { return }
        webhook.forEach { validation.add($0) }
    }

    // MARK: The apiserver's schema and CEL rules, in its wording.

    mutating func crd(_ diagnostic: Diagnostic) { schema.append(diagnostic) }

    /// A failed CEL rule: the apiserver names the value's type, not the value.
    mutating func cel(_ path: FieldPath, type: String, _ message: String) {
        crd(.invalid(path, value: .string(type), message))
    }

    /// A CEL rule that could not be evaluated (e.g. `int("abc")`).
    mutating func celEvaluation(_ path: FieldPath, type: String, _ message: String, error: String) {
        crd(.invalid(path, value: .string(type), "\(message) evaluating rule: \(error)"))
    }

    mutating func minLength(_ path: FieldPath, _ value: String, _ minimum: Int = 1) {
        guard value.count < minimum else { return }
        crd(.invalid(path, value: .string(value), "\(path) in body should be at least \(minimum) chars long"))
    }

    mutating func maxLength(_ path: FieldPath, _ value: String, _ maximum: Int) {
        guard value.utf8.count > maximum else { return }
        crd(.tooLong(path, maxBytes: maximum))
    }

    /// `pattern` is the CRD's regular expression as text (for the message);
    /// `matches` is the hand-written equivalent's verdict.
    mutating func pattern(_ path: FieldPath, _ value: String, _ pattern: String, matches: Bool) {
        guard !matches else { return }
        crd(.invalid(path, value: .string(value), "\(path) in body should match '\(pattern)'"))
    }

    mutating func minimum(_ path: FieldPath, _ value: Double, _ minimum: Double) {
        guard value < minimum else { return }
        crd(.invalid(path, value: number(value), "\(path) in body should be greater than or equal to \(format(minimum))"))
    }

    mutating func maximum(_ path: FieldPath, _ value: Double, _ maximum: Double) {
        guard value > maximum else { return }
        crd(.invalid(path, value: number(value), "\(path) in body should be less than or equal to \(format(maximum))"))
    }

    mutating func minItems(_ path: FieldPath, count: Int, _ minimum: Int) {
        guard count < minimum else { return }
        crd(.invalid(path, value: .int(count), "\(path) in body should have at least \(minimum) items"))
    }

    mutating func maxItems(_ path: FieldPath, count: Int, _ maximum: Int) {
        guard count > maximum else { return }
        crd(Diagnostic(.error, at: path, "Too many: \(count): must have at most \(maximum) items"))
    }

    mutating func minProperties(_ path: FieldPath, count: Int, _ minimum: Int) {
        guard count < minimum else { return }
        crd(.invalid(path, value: .int(count), "\(path) in body should have at least \(minimum) properties"))
    }

    /// An OpenAPI `oneOf` over alternative fields: at most one may be set.
    mutating func oneOf(_ path: FieldPath, _ set: [String]) {
        guard set.count > 1 else { return }
        crd(.invalid(path, value: .string("object"),
            "\(path) in body must validate one and only one schema (oneOf); found \(set.joined(separator: ", "))"))
    }

    /// The values of a CRD `matchLabels` (type.v1beta1.WorkloadSelector).
    mutating func matchLabels(_ path: FieldPath, _ labels: [String: String]?) {
        guard let labels else { return }
        if labels.keys.contains(where: { $0.contains("*") }) {
            cel(path, type: "object", "wildcard not allowed in label key match")
        }
        if labels.keys.contains(where: \.isEmpty) { cel(path, type: "object", "key must not be empty") }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            maxLength(path.appending(key: key), value, 63)
            if value.contains("*") { cel(path.appending(key: key), type: "string", "wildcard not allowed in label value match") }
        }
    }

    // MARK: istiod's validating webhook, in Istio's own words.

    mutating func istio(_ path: FieldPath, _ message: String) { webhook.append(.error(path, message)) }

    mutating func istio(_ path: FieldPath, _ message: String?) {
        if let message { istio(path, message) }
    }

    mutating func istioWarning(_ path: FieldPath, _ message: String) {
        webhook.append(Diagnostic(.warning, at: path, message))
    }

    private func number(_ value: Double) -> JSONValue {
        value.rounded() == value && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
    }

    private func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// A part of an Istio object that checks itself against the CRD and istiod.
protocol IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck)
}

extension Optional where Wrapped: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        self?.check(at: path, &check)
    }
}

extension Array: IstioCheckable where Element: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        for (index, element) in enumerated() { element.check(at: path.appending(index: index), &check) }
    }
}

extension IstioCheck {
    /// Runs `body` over one object and reports what it found into `validation`.
    static func run(namespace: String?, into validation: inout Validation, _ body: (inout IstioCheck) -> Void) {
        var check = IstioCheck(namespace: validation.namespace ?? namespace)
        body(&check)
        check.report(into: &validation)
    }
}
