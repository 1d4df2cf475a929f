/// A ConfigMap (core/v1): configuration a pod reads as environment or files.
public struct ConfigMap: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], hasStatus: false)

    /// The apiserver's limit on all data of one ConfigMap (core.MaxSecretSize).
    public static let sizeLimit = 1024 * 1024

    public var metadata: ObjectMeta
    public var data: [String: String]?
    /// Base64 text, as JSON carries Go's `[]byte`.
    public var binaryData: [String: String]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }

    public func validate(at path: FieldPath, _ validation: inout Validation) {
        var total = 0
        let data = self.data ?? [:]
        let binaryData = self.binaryData ?? [:]
        for key in data.keys.sorted() {
            let keyPath = path.appending("data").appending(key: key)
            validation.invalid(keyPath, key, KubernetesNames.configMapKeyErrors(key))
            if binaryData[key] != nil {
                validation.add(.invalid(keyPath, value: .string(key), "duplicate of key present in binaryData"))
            }
            total += data[key]!.utf8.count
        }
        for key in binaryData.keys.sorted() {
            let keyPath = path.appending("binaryData").appending(key: key)
            validation.invalid(keyPath, key, KubernetesNames.configMapKeyErrors(key))
            if data[key] != nil {
                validation.add(.invalid(keyPath, value: .string(key), "duplicate of key present in data"))
            }
            if let length = Base64.decodedLength(binaryData[key]!) {
                total += length
            } else {
                validation.add(.invalid(keyPath, value: .string(key), "illegal base64 data"))
            }
        }
        if total > Self.sizeLimit { validation.add(.tooLong(path, maxBytes: Self.sizeLimit)) }
    }
}

/// Just enough of base64 to check `binaryData` and `caBundle` without Foundation.
enum Base64 {
    /// The decoded size of standard, padded base64 `text`; nil when it is not base64.
    static func decodedLength(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var padding = 0
        for (i, b) in bytes.enumerated() {
            let isAlphabet = KubernetesNames.isAlnum(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/")
            if b == UInt8(ascii: "=") {
                guard i >= bytes.count - 2 else { return nil }
                padding += 1
            } else if !isAlphabet || padding > 0 {
                return nil
            }
        }
        return bytes.count / 4 * 3 - padding
    }
}
