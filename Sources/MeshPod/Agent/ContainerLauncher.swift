import MeshSystem

/// Starts a container's process (or an exec probe's) as an `EnterRequest`
/// says, with its environment, writing stdout and stderr to `output`.
public protocol ContainerLauncher: Sendable {
    func launch(_ request: EnterRequest, environment: [String: String], output: FileDescriptor) throws -> ChildProcess
}

/// The real launcher: `meshlab __enter ... -- PROGRAM ARGS` through
/// posix_spawn. The helper joins the pod's namespaces, drops to the
/// container's user and execs, so the process it returns becomes the
/// container's process (its pid stays; signals reach the program).
public struct EnterLauncher: ContainerLauncher {
    public let meshlabExecutable: String

    public init(meshlabExecutable: String) { self.meshlabExecutable = meshlabExecutable }

    public func launch(_ request: EnterRequest, environment: [String: String], output: FileDescriptor) throws -> ChildProcess {
        var configuration = Self.configuration(meshlabExecutable: meshlabExecutable, request: request,
                                               environment: environment)
        configuration.standardOutput = .descriptor(output)
        configuration.standardError = .descriptor(output)
        return try ChildProcess.spawn(configuration)
    }

    /// How to spawn `request` (also what `meshlab exec` runs, with its own
    /// standard streams). The child starts a session of its own: it leaves
    /// the daemon's terminal and process group, and its pid is its process
    /// group, which the agent signals as a whole.
    public static func configuration(meshlabExecutable: String, request: EnterRequest,
                                     environment: [String: String]) -> SpawnConfiguration {
        var configuration = SpawnConfiguration(executable: meshlabExecutable, arguments: request.commandLine,
                                               environment: environment)
        configuration.standardInput = .null
        configuration.newSession = true
        return configuration
    }
}
