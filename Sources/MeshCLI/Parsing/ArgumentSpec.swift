/// One thing a command accepts on its command line.
///
/// Commands declare these as data; the parser, the help text and the shell
/// usage errors are all derived from the same list.
public struct ArgumentSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `--dry-run`: present or absent.
        case flag
        /// `--namespace NS`, `-n NS`, `--namespace=NS`, `-nNS`; may repeat when `repeating`.
        case option(valueName: String)
        /// A bare word in order; `optional` and `repeating` as declared.
        case positional
        /// Everything after `--`, untouched (`meshlab exec POD -- CMD ARGS`).
        case passthrough
    }

    public var kind: Kind
    /// The long name without dashes (`namespace`), or the positional's name.
    public var name: String
    public var short: Character?
    public var help: String
    public var optional: Bool
    public var repeating: Bool
    /// Shown in help, and returned when the option is absent.
    public var defaultValue: String?
    /// An environment variable consulted when the option is absent.
    public var environment: String?
    /// Allowed values, checked by the parser (`-o json|yaml|wide|name`).
    public var choices: [String]?
    public var hidden: Bool

    public static func flag(_ name: String, short: Character? = nil, help: String, hidden: Bool = false) -> ArgumentSpec {
        ArgumentSpec(kind: .flag, name: name, short: short, help: help, optional: true, repeating: false,
                     defaultValue: nil, environment: nil, choices: nil, hidden: hidden)
    }

    public static func option(
        _ name: String, short: Character? = nil, valueName: String, help: String, repeating: Bool = false,
        default defaultValue: String? = nil, environment: String? = nil, choices: [String]? = nil, hidden: Bool = false
    ) -> ArgumentSpec {
        ArgumentSpec(kind: .option(valueName: valueName), name: name, short: short, help: help, optional: true,
                     repeating: repeating, defaultValue: defaultValue, environment: environment, choices: choices,
                     hidden: hidden)
    }

    public static func positional(_ name: String, help: String, optional: Bool = false, repeating: Bool = false)
        -> ArgumentSpec
    {
        ArgumentSpec(kind: .positional, name: name, short: nil, help: help, optional: optional, repeating: repeating,
                     defaultValue: nil, environment: nil, choices: nil, hidden: false)
    }

    public static func passthrough(_ name: String, help: String) -> ArgumentSpec {
        ArgumentSpec(kind: .passthrough, name: name, short: nil, help: help, optional: true, repeating: true,
                     defaultValue: nil, environment: nil, choices: nil, hidden: false)
    }

    var isNamed: Bool {
        switch kind {
        case .flag, .option: true
        case .positional, .passthrough: false
        }
    }

    var valueName: String? { if case .option(let v) = kind { v } else { nil } }
}

/// A command line that does not fit the command: one clear line, exit 64.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
