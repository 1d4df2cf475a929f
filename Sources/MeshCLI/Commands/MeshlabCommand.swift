/// `meshlab`: the root of the command tree.
public struct MeshlabCommand: ParsableCommand {
    public static let info = CommandInfo(
        name: "meshlab",
        abstract: "A service-mesh lab in one binary.",
        discussion: "Brings up a mini control plane with a Kubernetes-style API that takes Kubernetes and Istio YAML.",
        examples: [
            "meshlab up",
            "meshlab apply -f samples/bookinfo/networking/destination-rule-all.yaml",
            "meshlab get virtualservices -A",
            "meshlab down",
        ],
        subcommands: [
            UpCommand.self, DownCommand.self, StatusCommand.self, ApplyCommand.self, GetCommand.self, DeleteCommand.self,
            ScaleCommand.self, LogsCommand.self, ExecCommand.self, DescribeCommand.self, ValidateCommand.self,
            InjectCommand.self, ProxyStatusCommand.self, ProxyConfigCommand.self, LoadCommand.self, LabCommand.self,
            VersionCommand.self, DaemonCommand.self, AppCommand.self, PodInitCommand.self, ProxyCommand.self,
        ]
    )

    public init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {}

    public func run(_ context: CommandContext) async throws -> ExitCode {
        context.stdout.write(HelpText.render(Self.self, path: [Self.info.name]))
        return .success
    }

    /// Runs the command line of this process and returns its exit status.
    public static func main(arguments: [String], environment: [String: String]) async -> ExitCode {
        let context = CommandContext(
            stdout: FileDescriptorOutput(fd: 1), stderr: FileDescriptorOutput(fd: 2), environment: environment)
        return await CommandRunner.run(MeshlabCommand.self, arguments: arguments, context: context)
    }
}
