#if canImport(Glibc)
import Glibc
#endif

import MeshModel

/// `meshlab validate -f FILE...`: checks manifests offline, as `istioctl
/// validate` does, with the same checks the API server runs on apply.
struct ValidateCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "validate",
        abstract: "Check manifests without a running lab.",
        discussion: "Reads every object in the files and checks it as the API server would on apply: known kind, schema, and Kubernetes' and Istio's validation rules. Prints each problem as FILE:LINE: Kind/name: field: message. Exits 1 when any object is invalid.",
        examples: ["meshlab validate -f samples/bookinfo/networking/", "meshlab validate --strict -f vs.yaml"]
    )
    static let arguments: [ArgumentSpec] = [
        .option("filename", short: "f", valueName: "file", help: "A manifest file, a directory of them, or - for standard input. Repeatable.", repeating: true),
        .flag("recursive", short: "R", help: "Descend into subdirectories of a directory given with -f."),
        .flag("strict", help: "Treat unknown and duplicate fields as errors (kubectl's --validate=strict)."),
        .flag("quiet", short: "q", help: "Print only problems."),
    ]

    var files: [String]
    var recursive: Bool
    var strict: Bool
    var quiet: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        files = arguments.options("filename")
        guard !files.isEmpty else { throw UsageError("must specify one of -f and -k") }
        recursive = arguments.flag("recursive")
        strict = arguments.flag("strict")
        quiet = arguments.flag("quiet")
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let inputs = try ManifestFiles.gather(files, recursive: recursive, readStandardInput: readStandardInput)
        var objects = 0
        var invalid = 0
        var warnings = 0
        for input in inputs {
            let read = ManifestReader.read(utf8: input.bytes, file: input.name)
            for error in read.errors {
                context.printError(error.description)
                invalid += 1
            }
            var fileInvalid = read.errors.count
            for manifest in read.manifests {
                objects += 1
                let result = manifest.check(options: CheckOptions(strict: strict))
                for diagnostic in result.diagnostics {
                    context.printError(manifest.render(diagnostic))
                    if diagnostic.severity == .warning { warnings += 1 }
                }
                if !result.isValid {
                    invalid += 1
                    fileInvalid += 1
                }
            }
            if !quiet && fileInvalid == 0 {
                let count = read.manifests.count
                context.print("\(input.name): \(count) object\(count == 1 ? "" : "s") valid")
            }
        }
        if invalid > 0 {
            context.printError("\(invalid) of \(objects) object\(objects == 1 ? "" : "s") invalid"
                + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
            return .failure
        }
        return .success
    }
}

/// All of standard input, for `-f -`.
func readStandardInput() throws -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw UsageError("cannot read standard input (errno \(errno))")
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}
