/// Matches a command line against a command's `ArgumentSpec`s.
///
/// kubectl's conventions: `--name value` and `--name=value`, `-n value`,
/// `-nvalue` and `-n=value`, flags anywhere among positionals, `--` ends
/// options. Repeating a single-valued option keeps the last value.
public struct ArgumentParser: Sendable {
    public let specs: [ArgumentSpec]
    public let environment: [String: String]

    public init(specs: [ArgumentSpec], environment: [String: String] = [:]) {
        self.specs = specs
        self.environment = environment
    }

    public func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var bareWords: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                guard specs.contains(where: { $0.kind == .passthrough }) else {
                    bareWords.append(contentsOf: arguments[index...])
                    break
                }
                parsed.passthrough = Array(arguments[index...])
                break
            }
            if argument.hasPrefix("--") && argument.count > 2 {
                let body = argument.dropFirst(2)
                let (name, inline) = split(body)
                guard let spec = specs.first(where: { $0.isNamed && $0.name == name }) else {
                    throw UsageError("unknown flag: --\(name)")
                }
                try take(spec, spelled: "--\(name)", inline: inline, arguments: arguments, index: &index, into: &parsed)
            } else if argument.hasPrefix("-") && argument.count > 1 && !isNegativeNumber(argument) {
                try parseShortCluster(argument, arguments: arguments, index: &index, into: &parsed)
            } else {
                bareWords.append(argument)
            }
        }
        try assignPositionals(bareWords, into: &parsed)
        try applyDefaults(into: &parsed)
        return parsed
    }

    private func split(_ body: Substring) -> (String, String?) {
        guard let eq = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<eq]), String(body[body.index(after: eq)...]))
    }

    private func isNegativeNumber(_ s: String) -> Bool { Double(s) != nil }

    /// `-A`, `-n NS`, `-nNS`, `-n=NS`, and clusters of flags such as `-fA`? No:
    /// kubectl takes the rest of the word as the value once an option letter
    /// is seen, and each flag letter otherwise.
    private func parseShortCluster(
        _ argument: String, arguments: [String], index: inout Int, into parsed: inout ParsedArguments
    ) throws(UsageError) {
        var rest = Substring(argument.dropFirst())
        while let letter = rest.first {
            rest = rest.dropFirst()
            guard let spec = specs.first(where: { $0.isNamed && $0.short == letter }) else {
                throw UsageError("unknown shorthand flag: '\(letter)' in \(argument)")
            }
            if case .flag = spec.kind {
                if rest.hasPrefix("=") { throw UsageError("-\(letter) is a flag and takes no value") }
                parsed.flags.insert(spec.name)
                continue
            }
            let inline: String? = rest.isEmpty ? nil : String(rest.hasPrefix("=") ? rest.dropFirst() : rest)
            try take(spec, spelled: "-\(letter)", inline: inline, arguments: arguments, index: &index, into: &parsed)
            return
        }
    }

    private func take(
        _ spec: ArgumentSpec, spelled: String, inline: String?, arguments: [String], index: inout Int,
        into parsed: inout ParsedArguments
    ) throws(UsageError) {
        switch spec.kind {
        case .flag:
            if let inline {
                switch inline {
                case "true": parsed.flags.insert(spec.name)
                case "false": parsed.flags.remove(spec.name)
                default: throw UsageError("\(spelled): invalid value \"\(inline)\": want true or false")
                }
            } else {
                parsed.flags.insert(spec.name)
            }
        case .option:
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < arguments.count else { throw UsageError("flag needs an argument: \(spelled)") }
                value = arguments[index]
                index += 1
            }
            if let choices = spec.choices, !choices.contains(value) {
                throw UsageError("\(spelled): invalid value \"\(value)\": want one of \(choices.joined(separator: ", "))")
            }
            if spec.repeating {
                parsed.options[spec.name, default: []].append(value)
            } else {
                parsed.options[spec.name] = [value]
            }
        case .positional, .passthrough:
            preconditionFailure("named lookup returned a positional")
        }
    }

    private func assignPositionals(_ words: [String], into parsed: inout ParsedArguments) throws(UsageError) {
        let positionals = specs.filter { $0.kind == .positional }
        var remaining = words[...]
        for (i, spec) in positionals.enumerated() {
            let later = positionals[(i + 1)...].filter { !$0.optional }.count
            if spec.repeating {
                let count = max(0, remaining.count - later)
                if count == 0 && !spec.optional { throw UsageError("missing \(spec.name.uppercased())") }
                parsed.positionals[spec.name] = Array(remaining.prefix(count))
                remaining = remaining.dropFirst(count)
            } else if remaining.count > later {
                parsed.positionals[spec.name] = [remaining.removeFirst()]
            } else if !spec.optional {
                throw UsageError("missing \(spec.name.uppercased())")
            }
        }
        if let extra = remaining.first {
            throw UsageError("unexpected argument \"\(extra)\"")
        }
    }

    private func applyDefaults(into parsed: inout ParsedArguments) throws(UsageError) {
        for spec in specs {
            guard case .option = spec.kind, parsed.options[spec.name] == nil else { continue }
            if let variable = spec.environment, let value = environment[variable], !value.isEmpty {
                parsed.options[spec.name] = [value]
            } else if let value = spec.defaultValue {
                parsed.options[spec.name] = [value]
            }
        }
    }
}
