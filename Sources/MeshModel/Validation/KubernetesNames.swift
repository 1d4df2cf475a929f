/// Which syntax a kind's object names must follow (Kubernetes'
/// `ValidateNameFunc`s): most kinds take DNS-1123 subdomains, Namespaces
/// DNS-1123 labels, Services DNS-1035 labels.
public enum NameRule: Sendable, Hashable {
    case dns1123Subdomain
    case dns1123Label
    case dns1035Label

    /// What is wrong with `name`, in Kubernetes' words; `prefix` is for a
    /// `generateName`, whose trailing `-` is allowed.
    public func errors(_ name: String, prefix: Bool = false) -> [String] {
        var name = name
        if prefix, name.count > 1, name.hasSuffix("-") { name = String(name.dropLast()) + "a" }
        switch self {
        case .dns1123Subdomain: return KubernetesNames.dns1123SubdomainErrors(name)
        case .dns1123Label: return KubernetesNames.dns1123LabelErrors(name)
        case .dns1035Label: return KubernetesNames.dns1035LabelErrors(name)
        }
    }
}

/// Kubernetes' syntax checks (k8s.io/apimachinery/pkg/util/validation), each
/// returning its messages word for word, empty when the value is fine.
public enum KubernetesNames {
    static let dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    static let dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
    static let dns1123SubdomainFormat = dns1123LabelFormat + "(\\." + dns1123LabelFormat + ")*"
    static let dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
    static let dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let qualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

    /// `must be no more than N characters`.
    public static func maxLengthError(_ length: Int) -> String { "must be no more than \(length) characters" }

    /// Kubernetes' `RegexError`, including its doubled space before `or`.
    public static func regexError(_ message: String, format: String, examples: [String]) -> String {
        guard !examples.isEmpty else { return message + " (regex used for validation is '\(format)')" }
        var text = message + " (e.g. "
        for (i, example) in examples.enumerated() {
            if i > 0 { text += " or " }
            text += "'\(example)', "
        }
        return text + "regex used for validation is '\(format)')"
    }

    public static func dns1123LabelErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        if !isDNS1123Label(value) {
            if isDNS1123Subdomain(value) {
                errors.append("must not contain dots")
            } else {
                errors.append(regexError(dns1123LabelMessage, format: dns1123LabelFormat, examples: ["my-name", "123-abc"]))
            }
        }
        return errors
    }

    public static func dns1123SubdomainErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 { errors.append(maxLengthError(253)) }
        if !isDNS1123Subdomain(value) {
            errors.append(regexError(dns1123SubdomainMessage, format: dns1123SubdomainFormat, examples: ["example.com"]))
        }
        return errors
    }

    public static func dns1035LabelErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        let bytes = Array(value.utf8)
        if !(isDNS1123Label(value) && bytes.first.map(isLowerLetter) == true) {
            errors.append(regexError(dns1035LabelMessage, format: dns1035LabelFormat, examples: ["my-name", "abc-123"]))
        }
        return errors
    }

    /// Label and annotation keys: `[prefix/]name`.
    public static func qualifiedNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += dns1123SubdomainErrors(parts[0]).map { "prefix part " + $0 }
            }
        default:
            return [
                "a qualified name "
                    + regexError(qualifiedNameMessage, format: qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"])
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errors.append("name part " + maxLengthError(63))
        }
        if !isQualifiedNamePart(name) {
            errors.append(
                "name part " + regexError(qualifiedNameMessage, format: qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"]))
        }
        return errors
    }

    public static func labelValueErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        if !value.isEmpty && !isQualifiedNamePart(value) {
            errors.append(
                regexError(labelValueMessage, format: "(" + qualifiedNameFormat + ")?", examples: ["MyValue", "my_value", "12345"]))
        }
        return errors
    }

    /// A named port (IANA_SVC_NAME): `http`, `grpc-web`.
    public static func portNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 15 { errors.append(maxLengthError(15)) }
        if bytes.isEmpty || !bytes.allSatisfy({ isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) {
            errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: isLowerLetter) { errors.append("must contain at least one letter (a-z)") }
        if value.contains("--") { errors.append("must not contain consecutive hyphens") }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// `must be between 1 and 65535, inclusive` for ports out of range.
    public static func portNumberErrors(_ port: Int) -> [String] {
        (1...65535).contains(port) ? [] : ["must be between 1 and 65535, inclusive"]
    }

    public static func envVarNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(value.utf8)
        let valid =
            !bytes.isEmpty && !isDigit(bytes[0])
            && bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }
        if !valid {
            errors.append(
                regexError(
                    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
                    format: "[-._a-zA-Z][-._a-zA-Z0-9]*", examples: ["my.env-name", "MY_ENV.NAME", "MyEnvName1"]))
        }
        errors += relativePathPrefixErrors(value)
        return errors
    }

    /// ConfigMap and Secret keys.
    public static func configMapKeyErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 253 { errors.append(maxLengthError(253)) }
        let valid =
            !bytes.isEmpty
            && bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }
        if !valid {
            errors.append(
                regexError(
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                    format: "[-._a-zA-Z0-9]+", examples: ["key.name", "KEY_NAME", "key-name"]))
        }
        errors += relativePathPrefixErrors(value)
        return errors
    }

    private static func relativePathPrefixErrors(_ value: String) -> [String] {
        if value == "." { return ["must not be '.'"] }
        if value == ".." { return ["must not be '..'"] }
        if value.hasPrefix("..") { return ["must not start with '..'"] }
        return []
    }

    /// `IsValidIP`'s message.
    public static let ipAddressError = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

    public static func isIPv4(_ value: String) -> Bool {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy(isDigit), let n = Int(part), n <= 255 else {
                return false
            }
            return part.count == 1 || part.first != "0"
        }
    }

    public static func isIPv6(_ value: String) -> Bool {
        guard value.contains(":") else { return false }
        var text = Substring(value)
        var groupsNeeded = 8
        // An embedded IPv4 tail (::ffff:1.2.3.4) stands for two groups.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(text[text.index(after: lastColon)...])) else { return false }
            text = text[...lastColon]
            if text.hasSuffix("::") == false { text = text.dropLast() }
            groupsNeeded = 6
        }
        let halves = text.components(separatedByString: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ s: Substring) -> Int? {
            if s.isEmpty { return 0 }
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for part in parts where part.isEmpty || part.count > 4 || !part.utf8.allSatisfy(isHexDigit) { return nil }
            return parts.count
        }
        if halves.count == 2 {
            guard let a = groups(halves[0]), let b = groups(halves[1]) else { return false }
            return a + b < groupsNeeded
        }
        return groups(halves[0]) == groupsNeeded
    }

    public static func isIP(_ value: String) -> Bool { isIPv4(value) || isIPv6(value) }

    // MARK: Character classes

    static func isDNS1123Label(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlnum(first) && isLowerAlnum(last)
            && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func isDNS1123Subdomain(_ value: String) -> Bool {
        value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNS1123Label(String($0)) }
    }

    static func isQualifiedNamePart(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlnum(first) && isAlnum(last)
            && bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isLowerLetter(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    static func isLetter(_ b: UInt8) -> Bool { isLowerLetter(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) }
    static func isLowerAlnum(_ b: UInt8) -> Bool { isLowerLetter(b) || isDigit(b) }
    static func isAlnum(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) }
    static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }
}

extension Substring {
    /// Splits on a multi-character separator (FoundationEssentials-free).
    fileprivate func components(separatedByString separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
