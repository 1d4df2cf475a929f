/// security.istio.io PeerAuthentication: whether workloads accept plaintext,
/// mTLS or both (proto security/v1beta1/peer_authentication.proto). With no
/// selector it covers the namespace, in the root namespace the mesh.
public struct PeerAuthentication: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "security.istio.io", versions: ["v1", "v1beta1"], kind: "PeerAuthentication",
        plural: "peerauthentications", shortNames: ["pa"])

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: Spec = Spec()) {
        self.metadata = metadata
        self.spec = spec
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(JSONValue.self, forKey: .status)
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        IstioCheck.run(namespace: metadata.namespace, into: &validation) { spec.check(at: path.appending("spec"), &$0) }
    }

    public struct Spec: Codable, Sendable, Hashable {
        public var selector: Istio.WorkloadSelector?
        /// Absent: inherited from the namespace, then the mesh, else PERMISSIVE.
        public var mtls: MutualTLS?
        /// Workload port (as text, a JSON map key) to its mode; needs a selector.
        public var portLevelMtls: [String: MutualTLS]?

        public init(selector: Istio.WorkloadSelector? = nil, mtls: MutualTLS? = nil, portLevelMtls: [String: MutualTLS]? = nil) {
            self.selector = selector
            self.mtls = mtls
            self.portLevelMtls = portLevelMtls
        }

        /// The per-port modes keyed by number (on a valid object every key is a port).
        public var portModes: [Int: MutualTLS.Mode] {
            var modes: [Int: MutualTLS.Mode] = [:]
            for (key, value) in portLevelMtls ?? [:] {
                if let port = Int(key) { modes[port] = value.mode ?? .unset }
            }
            return modes
        }
    }

    public struct MutualTLS: Codable, Sendable, Hashable {
        public var mode: Mode?

        public init(mode: Mode? = nil) { self.mode = mode }

        public enum Mode: String, SchemaEnum {
            /// Inherit from the parent scope (PERMISSIVE when there is none).
            case unset = "UNSET"
            /// Plaintext only.
            case disable = "DISABLE"
            /// Plaintext or mTLS.
            case permissive = "PERMISSIVE"
            /// mTLS with a client certificate only.
            case strict = "STRICT"
        }
    }
}

// MARK: - Checks (ValidatePeerAuthentication and the CRD)

extension PeerAuthentication.Spec: IstioCheckable {
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        let portsPath = path.appending("portLevelMtls")
        let hasSelectorLabels = !(selector?.matchLabels ?? [:]).isEmpty
        if let portLevelMtls {
            check.minProperties(portsPath, count: portLevelMtls.count, 1)
            // CEL: self.all(key, 0 < int(key) && int(key) <= 65535); int() of a non-number fails the rule.
            let message = "port must be between 1-65535"
            if portLevelMtls.keys.contains(where: { Self.celInt($0) == nil }) {
                check.celEvaluation(portsPath, type: "object", message, error: "type conversion error from 'string' to 'int'")
            } else if portLevelMtls.keys.contains(where: { !(1...65535).contains(Self.celInt($0)!) }) {
                check.cel(portsPath, type: "object", message)
            }
            if !hasSelectorLabels { check.cel(path, type: "object", "portLevelMtls requires selector") }
        }

        if !hasSelectorLabels && !(portLevelMtls ?? [:]).isEmpty {
            check.istio(portsPath, "mesh/namespace peer authentication cannot have port level mTLS")
        }
        if let portLevelMtls, portLevelMtls.isEmpty {
            check.istio(portsPath, "port level mTLS, if defined, must have at least one element")
        }
        for key in (portLevelMtls ?? [:]).keys.sorted() {
            if let port = Int(key), (1...65535).contains(port) { continue }
            check.istio(portsPath.appending(key: key), "port must be in range 1..65535")
        }
        selector.check(at: path.appending("selector"), &check)
    }

    /// CEL's int(string): base 10, optional sign, 64-bit.
    static func celInt(_ text: String) -> Int? {
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int(text.hasPrefix("+") ? String(digits) : text)
    }
}
