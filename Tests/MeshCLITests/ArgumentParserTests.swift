@testable import MeshCLI
import Testing

@Suite struct ArgumentParserTests {
    let specs: [ArgumentSpec] = [
        .option("namespace", short: "n", valueName: "ns", help: "", default: "default"),
        .flag("all-namespaces", short: "A", help: ""),
        .option("output", short: "o", valueName: "format", help: "", choices: ["json", "yaml", "wide", "name"]),
        .option("filename", short: "f", valueName: "file", help: "", repeating: true),
        .flag("dry-run", help: ""),
        .positional("kind", help: ""),
        .positional("names", help: "", optional: true, repeating: true),
    ]

    func parse(_ args: [String], environment: [String: String] = [:]) throws(UsageError) -> ParsedArguments {
        try ArgumentParser(specs: specs, environment: environment).parse(args)
    }

    @Test func acceptsEveryOptionSpelling() throws {
        for args in [["-n", "x"], ["-nx"], ["-n=x"], ["--namespace", "x"], ["--namespace=x"]] {
            let parsed = try parse(["pods"] + args)
            #expect(parsed.option("namespace") == "x", "\(args)")
        }
    }

    @Test func flagsAndOptionsMixWithPositionals() throws {
        let parsed = try parse(["-A", "pods", "web", "-o", "json", "db", "--dry-run"])
        #expect(parsed.flag("all-namespaces"))
        #expect(parsed.flag("dry-run"))
        #expect(parsed.positional("kind") == "pods")
        #expect(parsed.positionals("names") == ["web", "db"])
        #expect(parsed.option("output") == "json")
    }

    @Test func repeatingOptionsCollectAndSingleOnesKeepTheLast() throws {
        let parsed = try parse(["pods", "-f", "a.yaml", "-f", "b.yaml", "-n", "one", "-n", "two"])
        #expect(parsed.options("filename") == ["a.yaml", "b.yaml"])
        #expect(parsed.option("namespace") == "two")
    }

    @Test func defaultsAndEnvironment() throws {
        #expect(try parse(["pods"]).option("namespace") == "default")
        let env = ArgumentParser(
            specs: [.option("state-dir", valueName: "dir", help: "", environment: "MESHLAB_STATE_DIR")],
            environment: ["MESHLAB_STATE_DIR": "/tmp/x"])
        #expect(try env.parse([]).option("state-dir") == "/tmp/x")
        #expect(try env.parse(["--state-dir", "/y"]).option("state-dir") == "/y")
    }

    @Test func flagAcceptsExplicitBooleans() throws {
        #expect(try parse(["pods", "--dry-run=true"]).flag("dry-run"))
        #expect(try !parse(["pods", "--dry-run", "--dry-run=false"]).flag("dry-run"))
    }

    @Test(arguments: [
        (["pods", "--bogus"], "unknown flag: --bogus"),
        (["pods", "-z"], "unknown shorthand flag: 'z' in -z"),
        (["pods", "-n"], "flag needs an argument: -n"),
        (["pods", "-o", "xml"], "-o: invalid value \"xml\": want one of json, yaml, wide, name"),
        ([], "missing KIND"),
        (["pods", "--dry-run=maybe"], "--dry-run: invalid value \"maybe\": want true or false"),
    ])
    func usageErrorsSayWhatIsWrong(args: [String], message: String) {
        #expect(throws: UsageError(message)) { try parse(args) }
    }

    @Test func passthroughTakesEverythingAfterDoubleDash() throws {
        let parser = ArgumentParser(specs: [
            .positional("pod", help: ""), .option("container", short: "c", valueName: "c", help: ""),
            .passthrough("command", help: ""),
        ])
        let parsed = try parser.parse(["sleep-1", "-c", "app", "--", "curl", "-s", "--", "-n"])
        #expect(parsed.positional("pod") == "sleep-1")
        #expect(parsed.passthrough == ["curl", "-s", "--", "-n"])
    }

    @Test func negativeNumbersArePositionals() throws {
        let parser = ArgumentParser(specs: [.positional("n", help: "")])
        #expect(try parser.parse(["-5"]).positional("n") == "-5")
    }

    @Test func integerOptionsAreChecked() throws {
        let parser = ArgumentParser(specs: [.option("api-port", valueName: "port", help: "")])
        #expect(try parser.parse(["--api-port", "8080"]).integer("api-port", range: 1...65535) == 8080)
        #expect(throws: UsageError("--api-port: \"http\" is not a whole number")) {
            try parser.parse(["--api-port", "http"]).integer("api-port")
        }
        #expect(throws: UsageError("--api-port: 70000 is out of range 1...65535")) {
            try parser.parse(["--api-port", "70000"]).integer("api-port", range: 1...65535)
        }
    }
}

@Suite struct CommandRunnerTests {
    func run(_ args: [String]) async -> (ExitCode, String, String) {
        let out = CapturedOutput()
        let err = CapturedOutput()
        let context = CommandContext(stdout: out, stderr: err, environment: [:])
        let code = await CommandRunner.run(MeshlabCommand.self, arguments: args, context: context)
        return (code, out.text, err.text)
    }

    @Test func dispatchesToSubcommands() async {
        let (code, out, _) = await run(["version"])
        #expect(code == .success)
        #expect(out.hasPrefix("meshlab 0.1.0"))
    }

    @Test func globalOptionsMayComeBeforeTheSubcommand() async {
        let (code, out, _) = await run(["--state-dir", "/tmp/somewhere", "version", "-o", "json"])
        #expect(code == .success)
        #expect(out.contains("\"meshlab\": \"0.1.0\""))
    }

    @Test func usageErrorsAreOneLineAndExit64() async {
        let (code, out, err) = await run(["version", "--nope"])
        #expect(code == .usage)
        #expect(out.isEmpty)
        #expect(err == "meshlab version: unknown flag: --nope (see 'meshlab version --help')\n")
        let (code2, _, err2) = await run(["frobnicate"])
        #expect(code2 == .usage)
        #expect(err2 == "meshlab: unknown command \"frobnicate\" (see 'meshlab --help')\n")
    }

    @Test func helpWorksEverywhere() async {
        let (_, viaFlag, _) = await run(["version", "--help"])
        let (_, viaHelp, _) = await run(["help", "version"])
        let (_, viaShort, _) = await run(["version", "-h"])
        #expect(viaFlag.hasPrefix("meshlab version — Print meshlab's version."))
        #expect(viaFlag == viaHelp)
        #expect(viaFlag == viaShort)
    }
}
