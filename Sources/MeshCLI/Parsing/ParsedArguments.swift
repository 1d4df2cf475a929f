/// What the parser found, by argument name.
public struct ParsedArguments: Sendable {
    var flags: Set<String> = []
    var options: [String: [String]] = [:]
    var positionals: [String: [String]] = [:]
    /// After `--`.
    public internal(set) var passthrough: [String] = []

    public init() {}

    init(passthrough: [String]) { self.passthrough = passthrough }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The last value given for `name` (kubectl's rule for repeated single options).
    public func option(_ name: String) -> String? { options[name]?.last }

    public func options(_ name: String) -> [String] { options[name] ?? [] }

    public func positional(_ name: String) -> String? { positionals[name]?.first }

    public func positionals(_ name: String) -> [String] { positionals[name] ?? [] }

    /// Parses an integer option, with a usage error naming the option.
    public func integer(_ name: String, range: ClosedRange<Int>? = nil) throws(UsageError) -> Int? {
        guard let text = option(name) else { return nil }
        guard let value = Int(text) else { throw UsageError("--\(name): \"\(text)\" is not a whole number") }
        if let range, !range.contains(value) {
            throw UsageError("--\(name): \(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
