extension Istio {
    /// networking.ServerTLSSettings: how a Gateway server or a Sidecar ingress
    /// listener terminates (or passes through) TLS.
    public struct ServerTLSSettings: Codable, Sendable, Hashable {
        /// Answer plain HTTP with a 301 to HTTPS.
        public var httpsRedirect: Bool?
        /// Default PASSTHROUGH (the proto's zero value).
        public var mode: Mode?
        public var serverCertificate: String?
        public var privateKey: String?
        public var caCertificates: String?
        public var caCrl: String?
        public var credentialName: String?
        public var credentialNames: [String]?
        public var tlsCertificates: [TLSCertificate]?
        public var subjectAltNames: [String]?
        public var verifyCertificateSpki: [String]?
        public var verifyCertificateHash: [String]?
        public var minProtocolVersion: ProtocolVersion?
        public var maxProtocolVersion: ProtocolVersion?
        public var cipherSuites: [String]?

        public init(mode: Mode? = nil, credentialName: String? = nil) {
            self.mode = mode
            self.credentialName = credentialName
        }

        public enum Mode: String, SchemaEnum {
            case passthrough = "PASSTHROUGH"
            case simple = "SIMPLE"
            case mutual = "MUTUAL"
            case autoPassthrough = "AUTO_PASSTHROUGH"
            case istioMutual = "ISTIO_MUTUAL"
            case optionalMutual = "OPTIONAL_MUTUAL"
        }

        public enum ProtocolVersion: String, SchemaEnum {
            case auto = "TLS_AUTO"
            case v1_0 = "TLSV1_0"
            case v1_1 = "TLSV1_1"
            case v1_2 = "TLSV1_2"
            case v1_3 = "TLSV1_3"
        }

        public struct TLSCertificate: Codable, Sendable, Hashable {
            public var serverCertificate: String?
            public var privateKey: String?
            public var caCertificates: String?
        }

        /// The mode as Istio reads it (unset is PASSTHROUGH).
        public var effectiveMode: Mode { mode ?? .passthrough }

        var isPassthrough: Bool { effectiveMode == .passthrough || effectiveMode == .autoPassthrough }
    }
}

extension Istio.ServerTLSSettings: IstioCheckable {
    /// The CRD's rules, then validateTLSOptions.
    func check(at path: FieldPath, _ check: inout IstioCheck) {
        if let credentialNames {
            check.minItems(path.appending("credentialNames"), count: credentialNames.count, 1)
            check.maxItems(path.appending("credentialNames"), count: credentialNames.count, 2)
        }
        if let tlsCertificates {
            check.minItems(path.appending("tlsCertificates"), count: tlsCertificates.count, 1)
            check.maxItems(path.appending("tlsCertificates"), count: tlsCertificates.count, 2)
        }
        if tlsCertificates != nil && credentialNames != nil {
            check.cel(path, type: "object", "only one of credentialNames or tlsCertificates can be set")
        }
        if credentialName != nil && credentialNames != nil {
            check.cel(path, type: "object", "only one of credentialName or credentialNames can be set")
        }

        let empty: (String?) -> Bool = { ($0 ?? "").isEmpty }
        if [.v1_0, .v1_1].contains(minProtocolVersion) && (cipherSuites ?? []).isEmpty {
            check.istioWarning(path, "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.")
        }
        if effectiveMode == .istioMutual {
            if !empty(serverCertificate) { check.istio(path, "ISTIO_MUTUAL TLS cannot have associated server certificate") }
            if !empty(privateKey) { check.istio(path, "ISTIO_MUTUAL TLS cannot have associated private key") }
            if !empty(caCertificates) { check.istio(path, "ISTIO_MUTUAL TLS cannot have associated CA bundle") }
            if !empty(credentialName) { check.istio(path, "ISTIO_MUTUAL TLS cannot have associated credentialName") }
            return
        }
        if isPassthrough
            && [caCrl, serverCertificate, privateKey, caCertificates, credentialName].contains(where: { !empty($0) })
        {
            check.istioWarning(path, "\(effectiveMode.rawValue) mode does not use certificates, they will be ignored")
        }
        let fetchesRemotely = !empty(credentialName) || !(credentialNames ?? []).isEmpty || !(tlsCertificates ?? []).isEmpty
        if [.simple, .mutual, .optionalMutual].contains(effectiveMode) && fetchesRemotely { return }
        if effectiveMode == .simple {
            if empty(serverCertificate) { check.istio(path, "SIMPLE TLS requires a server certificate") }
            if empty(privateKey) { check.istio(path, "SIMPLE TLS requires a private key") }
        } else if effectiveMode == .mutual || effectiveMode == .optionalMutual {
            if empty(serverCertificate) { check.istio(path, "MUTUAL TLS requires a server certificate") }
            if empty(privateKey) { check.istio(path, "MUTUAL TLS requires a private key") }
            if empty(caCertificates) { check.istio(path, "MUTUAL TLS requires a client CA bundle") }
        }
        if !empty(caCrl) {
            if !empty(credentialName) {
                check.istio(path, "CRL is not supported with credentialName. CRL has to be specified in the credential")
            }
            if effectiveMode == .simple { check.istio(path, "CRL is not supported with SIMPLE TLS") }
        }
    }
}
