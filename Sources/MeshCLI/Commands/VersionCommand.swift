import MeshModel

struct VersionCommand: ParsableCommand {
    static let info = CommandInfo(name: "version", abstract: "Print meshlab's version.")
    static let arguments: [ArgumentSpec] = [
        .option("output", short: "o", valueName: "format", help: "Print as JSON.", choices: ["json"]),
    ]

    var json: Bool

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        json = arguments.option("output") == "json"
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        if json {
            let value: JSONValue = [
                "meshlab": .string(MeshlabVersion.version),
                "kubernetesAPI": .string("\(MeshlabVersion.kubernetesMajor).\(MeshlabVersion.kubernetesMinor)"),
                "istio": .string(MeshlabVersion.istio),
            ]
            context.print(value.serialized(.kubectl))
        } else {
            context.print("meshlab \(MeshlabVersion.version) (Kubernetes API \(MeshlabVersion.kubernetesMajor).\(MeshlabVersion.kubernetesMinor), Istio \(MeshlabVersion.istio))")
        }
        return .success
    }
}
