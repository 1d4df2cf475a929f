/// Finds the subcommand a command line names, parses its arguments, and runs it.
///
/// Usage errors print one line and exit 64; errors a command throws while
/// running print `meshlab: <error>` and exit 1.
public enum CommandRunner {
    public static func run(
        _ root: any ParsableCommand.Type, arguments: [String], context: CommandContext
    ) async -> ExitCode {
        var command = root
        var path = [root.info.name]
        var remaining = arguments
        // Descend while the first bare word names a subcommand.
        while !command.info.subcommands.isEmpty, let (position, word) = firstBareWord(remaining) {
            if word == "help" {
                remaining.remove(at: position)
                if let target = firstBareWord(remaining),
                    let sub = command.info.subcommands.first(where: { $0.info.name == target.1 })
                {
                    path.append(sub.info.name)
                    command = sub
                }
                context.stdout.write(HelpText.render(command, path: path))
                return .success
            }
            guard let sub = command.info.subcommands.first(where: { $0.info.name == word }) else {
                if command.arguments.contains(where: { $0.kind == .positional }) { break }
                let name = path.joined(separator: " ")
                return usageFailure(UsageError("unknown command \"\(word)\""), command: name, context: context)
            }
            remaining.remove(at: position)
            path.append(sub.info.name)
            command = sub
        }
        let name = path.joined(separator: " ")
        let beforeDoubleDash = remaining.prefix { $0 != "--" }
        if beforeDoubleDash.contains("--help") || beforeDoubleDash.contains("-h") {
            context.stdout.write(HelpText.render(command, path: path))
            return .success
        }
        let specs = command.arguments + GlobalOptions.specs
        do throws(UsageError) {
            // A command whose one argument is a passthrough wraps another program's command line
            // (`pod-init` takes istio-iptables' flags): every word goes to it untouched, no `--` needed.
            let wrapsCommandLine = command.arguments.count == 1 && command.arguments[0].kind == .passthrough
            let parsed = wrapsCommandLine
                ? ParsedArguments(passthrough: remaining)
                : try ArgumentParser(specs: specs, environment: context.environment).parse(remaining)
            var context = context
            context.global = GlobalOptions(parsed)
            let instance = try command.init(parsed, context: context)
            do {
                return try await instance.run(context)
            } catch let error as UsageError {
                return usageFailure(error, command: name, context: context)
            } catch {
                context.printError("\(root.info.name): \(error)")
                return .failure
            }
        } catch {
            return usageFailure(error, command: name, context: context)
        }
    }

    static func usageFailure(_ error: UsageError, command: String, context: CommandContext) -> ExitCode {
        context.printError("\(command): \(error.message) (see '\(command) --help')")
        return .usage
    }

    /// The first word that is not an option or an option's value. Only the
    /// global options are known at this point, so an unknown `--x` is taken to be a
    /// flag without a value: subcommands come before their own options.
    static func firstBareWord(_ arguments: [String]) -> (Int, String)? {
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { return nil }
            if word.hasPrefix("-") && word.count > 1 {
                let takesValue = GlobalOptions.specs.contains { "--\($0.name)" == word && $0.valueName != nil }
                index += takesValue ? 2 : 1
                continue
            }
            return (index, word)
        }
        return nil
    }
}
