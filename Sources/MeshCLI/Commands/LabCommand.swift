import MeshApps
import MeshModel
import MeshSystem

/// `meshlab lab`: the experiments under Lab/.
struct LabCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "lab",
        abstract: "List and run the experiments under Lab/.",
        discussion: "An experiment applies manifests, waits for the lab to settle, sends load from a pod and asserts on what it measured: split per version, success rate, status codes, latency percentiles, access-log flags. Lab/README.md describes the file format.",
        examples: ["meshlab lab list", "meshlab lab run canary", "meshlab lab run ./my-experiment --json report.json"],
        subcommands: [LabListCommand.self, LabRunCommand.self]
    )

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {}

    func run(_ context: CommandContext) async throws -> ExitCode {
        context.stdout.write(HelpText.render(Self.self, path: ["meshlab", Self.info.name]))
        return .success
    }
}

/// `meshlab lab list`
struct LabListCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "list",
        abstract: "List the experiments of the Lab folder.",
        discussion: "The Lab folder is $MESHLAB_LAB, else the Lab/ folder of the repository meshlab was built in, else ./Lab. A broken experiment file is listed with its first problem.",
        examples: ["meshlab lab list"]
    )

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {}

    func run(_ context: CommandContext) async throws -> ExitCode {
        guard let lab = ExperimentCatalog.labDirectory(environment: context.environment) else {
            throw UsageError("cannot find the Lab folder: set MESHLAB_LAB to it")
        }
        var rows: [[String]] = []
        for name in ExperimentCatalog.names(in: lab) {
            switch ExperimentCatalog.load(lab + "/" + name + "/" + ExperimentParser.fileName, environment: context.environment) {
            case .success(let experiment):
                rows.append([name, String(experiment.steps.count), String(experiment.assertionCount), experiment.description ?? ""])
            case .failure(let errors):
                rows.append([name, "-", "-", "broken: \(errors.errors.first?.description ?? "")"])
            }
        }
        guard !rows.isEmpty else {
            context.printError("no experiments in \(lab)")
            return .success
        }
        context.stdout.write(ResourceTable(columns: ["NAME", "STEPS", "ASSERTIONS", "DESCRIPTION"], rows: rows).rendered())
        return .success
    }
}

/// `meshlab lab run NAME|DIR [--json FILE]`
struct LabRunCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "run",
        abstract: "Run an experiment against the running lab.",
        discussion: "Prints each step with its timing, then a table of assertions (expected, measured, PASS/FAIL). Exits 0 when every assertion passes, 1 when one fails or a step cannot be carried out, 2 when the experiment file is broken (each problem printed as FILE:LINE: message).",
        examples: ["meshlab lab run canary", "meshlab lab run Lab/retries --json retries.json"]
    )
    static let arguments: [ArgumentSpec] = [
        .positional("experiment", help: "A name under the Lab folder, a folder with an experiment.yaml, or the file."),
        .option("json", valueName: "file", help: "Also write the report as JSON to FILE."),
    ]

    static let brokenFile = ExitCode(2)

    var reference: String
    var jsonFile: String?

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        reference = arguments.positional("experiment") ?? ""
        jsonFile = arguments.option("json")
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let file: String
        do {
            file = try ExperimentCatalog.file(for: reference, environment: context.environment)
        } catch {
            context.printError("meshlab lab run: \(error)")
            return Self.brokenFile
        }
        let experiment: Experiment
        switch ExperimentCatalog.load(file, environment: context.environment) {
        case .success(let parsed): experiment = parsed
        case .failure(let errors):
            for error in errors.errors { context.printError(error.description) }
            context.printError("meshlab lab run: \(file) has \(errors.errors.count) problem(s); nothing was run")
            return Self.brokenFile
        }
        _ = try context.client()
        let stdout = context.stdout
        let runner = ExperimentRunner(driver: LiveLab(context: context), output: { stdout.write($0 + "\n") })
        let result = await runner.run(experiment)
        return Self.finish(result, context: context, jsonFile: jsonFile)
    }

    /// Prints the table and the verdict, writes the JSON report; the exit status.
    static func finish(_ result: ExperimentResult, context: CommandContext, jsonFile: String?) -> ExitCode {
        context.print()
        if !result.assertions.isEmpty { context.stdout.write(result.table) }
        let passed = result.assertions.filter(\.passed).count
        if let error = result.error { context.printError("lab \(result.experiment): stopped at \(error)") }
        context.print("lab \(result.experiment): \(result.passed ? "PASSED" : "FAILED"): \(passed) of \(result.assertions.count) assertions passed in \(LoadReport.fixed(result.seconds, 1))s")
        if let jsonFile {
            do {
                try Files.writeAtomically(jsonFile, Array((result.json.serialized(JSONFormat(indent: 2, sortedKeys: true)) + "\n").utf8))
            } catch {
                context.printError("meshlab lab run: cannot write \(jsonFile): \(error)")
                return .failure
            }
        }
        return result.passed ? .success : .failure
    }
}
