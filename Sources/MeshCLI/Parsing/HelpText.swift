/// Renders `--help` for a command from its info and argument specs.
public enum HelpText {
    static let width = 80
    static let helpSpec = ArgumentSpec.flag("help", short: "h", help: "Show this help.")

    public static func render(_ command: any ParsableCommand.Type, path: [String]) -> String {
        let info = command.info
        let specs = command.arguments + GlobalOptions.specs + [helpSpec]
        var out = "\(path.joined(separator: " ")) — \(info.abstract)\n\n"
        out += "USAGE: \(usage(command, path: path))\n"
        if let discussion = info.discussion {
            out += "\n" + wrap(discussion, indent: 0) + "\n"
        }
        let positionals = specs.filter { !$0.isNamed && !$0.hidden }
        if !positionals.isEmpty {
            out += "\nARGUMENTS:\n"
            for spec in positionals { out += row(label: argumentLabel(spec), help: spec.help) }
        }
        let named = specs.filter { $0.isNamed && !$0.hidden }
        out += "\nOPTIONS:\n"
        for spec in named {
            var help = spec.help
            if let choices = spec.choices { help += " One of: \(choices.joined(separator: ", "))." }
            if let value = spec.defaultValue { help += " (default: \(value))" }
            out += row(label: optionLabel(spec), help: help)
        }
        let visible = info.subcommands.filter { !$0.info.hidden }
        if !visible.isEmpty {
            out += "\nSUBCOMMANDS:\n"
            for sub in visible { out += row(label: sub.info.name, help: sub.info.abstract) }
            out += "\n  See '\(path.joined(separator: " ")) COMMAND --help' for more about a command.\n"
        }
        if !info.examples.isEmpty {
            out += "\nEXAMPLES:\n"
            for example in info.examples { out += "  \(example)\n" }
        }
        return out
    }

    /// `meshlab get KIND [NAME...] [options]`
    public static func usage(_ command: any ParsableCommand.Type, path: [String]) -> String {
        var parts = path
        if !command.info.subcommands.isEmpty { parts.append("COMMAND") }
        for spec in command.arguments where !spec.hidden {
            switch spec.kind {
            case .positional:
                var word = spec.name.uppercased() + (spec.repeating ? "..." : "")
                if spec.optional { word = "[\(word)]" }
                parts.append(word)
            case .passthrough:
                parts.append("[-- \(spec.name.uppercased())...]")
            case .flag, .option:
                continue
            }
        }
        parts.append("[options]")
        return parts.joined(separator: " ")
    }

    static func argumentLabel(_ spec: ArgumentSpec) -> String {
        spec.name.uppercased() + (spec.repeating ? "..." : "")
    }

    static func optionLabel(_ spec: ArgumentSpec) -> String {
        var label = spec.short.map { "-\($0), " } ?? "    "
        label += "--\(spec.name)"
        if let value = spec.valueName { label += " <\(value)>" }
        return label
    }

    static func row(label: String, help: String) -> String {
        let column = 28
        let prefix = "  " + label
        let text = wrap(help, indent: column)
        if prefix.count + 2 <= column {
            let body = text.dropFirst(column)
            return prefix + String(repeating: " ", count: column - prefix.count) + body + "\n"
        }
        return prefix + "\n" + text + "\n"
    }

    /// Word-wraps `text` to the help width, every line indented by `indent`.
    static func wrap(_ text: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = pad
            for word in paragraph.split(separator: " ") {
                if line.count > indent && line.count + 1 + word.count > width {
                    lines.append(line)
                    line = pad
                }
                line += (line.count > indent ? " " : "") + word
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
