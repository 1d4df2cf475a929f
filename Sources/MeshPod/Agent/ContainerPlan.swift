import MeshModel
import MeshSystem

/// Everything needed to start one container as a process: what to run, with
/// which environment, as whom, where. Made by a pure function from the pod
/// and what it refers to; the same plan serves the container, its exec
/// probes and `meshlab exec`.
public struct ContainerPlan: Sendable, Hashable {
    public var container: String
    /// A path, or a name looked up in the container's PATH.
    public var program: String
    public var arguments: [String]
    /// The process's whole environment: a base (PATH, HOME, HOSTNAME) under the container's own variables.
    public var environment: [String: String]
    public var user: ContainerUser
    public var workingDirectory: String
    /// The built-in app the image runs (nil when `command` runs a local program).
    public var builtIn: BuiltInImage?
    /// Things to tell the user that did not stop the container (Warning events).
    public var warnings: [PodEventRecord]

    /// PATH of a container whose spec sets none: a Debian image's.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Plans `container` of `pod`.
    /// - Parameters:
    ///   - meshlabExecutable: the binary that runs built-in images (`meshlab app NAME`).
    ///   - fallbackUser: who runs a container whose spec names no user.
    public static func make(_ container: Container, pod: Pod, sources: PodEnvironmentSources,
                            meshlabExecutable: String, fallbackUser: ContainerUser = .nobody)
        throws(ContainerStartFailure) -> ContainerPlan
    {
        let user = try ContainerUser.resolve(container, pod: pod.spec, fallback: fallbackUser)
        let own = try ContainerEnvironment.resolve(container, pod: pod, sources: sources)
        let variables = own.dictionary
        let (program, arguments, builtIn) = try command(for: container, environment: variables,
                                                        meshlabExecutable: meshlabExecutable)
        var environment = [
            "PATH": defaultPath,
            // Kubernetes leaves HOME to the image (root: /root). A lab user has
            // no home; /tmp is one that programs can write to.
            "HOME": user.isRoot ? "/root" : "/tmp",
            "HOSTNAME": hostname(of: pod),
        ]
        environment.merge(variables) { _, own in own }
        let workingDirectory = container.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        return ContainerPlan(container: container.name, program: program, arguments: arguments,
                             environment: environment, user: user, workingDirectory: workingDirectory,
                             builtIn: builtIn, warnings: own.warnings)
    }

    /// What runs, as the issue says: `command` (+ `args`) runs a local
    /// program; otherwise a built-in image runs `meshlab app NAME <image
    /// arguments> <args>` (Istio's proxy image: `meshlab pod-init ...` or
    /// `meshlab proxy ...`, `BuiltInImage.meshlabArguments`); otherwise the
    /// container cannot run here. `$(VAR)`
    /// in `command` and `args` expands against the container's variables.
    public static func command(for container: Container, environment: [String: String], meshlabExecutable: String)
        throws(ContainerStartFailure) -> (program: String, arguments: [String], builtIn: BuiltInImage?)
    {
        let args = (container.args ?? []).map { VariableExpansion.expand($0, in: environment) }
        if let command = container.command, let first = command.first {
            let rest = command.dropFirst().map { VariableExpansion.expand($0, in: environment) }
            return (VariableExpansion.expand(first, in: environment), rest + args, nil)
        }
        if let image = container.image, let app = BuiltInImage.resolve(image: image) {
            guard let arguments = app.meshlabArguments(containerArguments: args) else {
                let known = BuiltInImage.pilotAgentCommands.keys.sorted().joined(separator: ", ")
                throw ContainerStartFailure(.image, "image \(image) runs pilot-agent; meshlab has its subcommands \(known), "
                    + "not \(args.first.map { "\"\($0)\"" } ?? "none (the container has no args)")")
            }
            return (meshlabExecutable, arguments, app)
        }
        throw ContainerStartFailure(.image, cannotRunMessage(image: container.image, container: container.name))
    }

    /// The "cannot run" message of a pod event and the container's waiting state.
    public static func cannotRunMessage(image: String?, container: String) -> String {
        let choices = "give command: or use one of the built-in images: \(BuiltInImage.knownImages.joined(separator: ", "))"
        guard let image, !image.isEmpty else { return "container \(container) has no image and no command: \(choices)" }
        return "image \(image) cannot run in meshlab: \(choices)"
    }

    /// The pod's hostname: `spec.hostname`, else its name (as Kubernetes sets it).
    public static func hostname(of pod: Pod) -> String {
        pod.spec.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? pod.metadata.name ?? "pod"
    }

    /// How `meshlab __enter` runs this plan in `sandbox`.
    /// - Parameter switchUser: false where the lab is not root and cannot
    ///   change user (the process then runs as the daemon's user).
    public func enterRequest(in sandbox: PodSandbox, switchUser: Bool = true) -> EnterRequest {
        sandbox.enter(program: program, arguments: arguments, userID: switchUser ? user.uid : nil,
                      groupID: switchUser ? user.gid : nil, workingDirectory: workingDirectory)
    }

    /// The same context running another command: an exec probe (whose
    /// `$(VAR)`s kubelet expands) or `meshlab exec` (whose arguments go as typed).
    public func running(_ command: [String], expand: Bool = true) -> ContainerPlan {
        var plan = self
        let words = expand ? command.map { VariableExpansion.expand($0, in: environment) } : command
        plan.program = words.first ?? ""
        plan.arguments = Array(words.dropFirst())
        plan.builtIn = nil
        return plan
    }
}
