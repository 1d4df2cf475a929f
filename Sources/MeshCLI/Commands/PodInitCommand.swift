import MeshPod

/// `meshlab pod-init ARGS`: the istio-init role. Istio's injected
/// `istio-init` container runs `istio-iptables ARGS`; the node agent runs
/// it as `meshlab pod-init ARGS` inside the pod's network namespace, as
/// root. It takes istio-iptables' own flags (`meshlab pod-init --help`
/// lists meshlab's part; istio-iptables' flags are read as pflag reads
/// them) and writes the same nat rules, placed ahead of the lab's service
/// rules (`IptablesScript.placedFirst`).
struct PodInitCommand: ParsableCommand {
    static let info = CommandInfo(
        name: "pod-init", abstract: "Write Istio's capture rules here (the istio-init role).",
        discussion: "Takes istio-iptables' flags as Istio's injector passes them to the istio-init container, and "
            + "writes the same iptables nat rules: outbound TCP to 15001, inbound to 15006, the proxy's uid and gid "
            + "left alone. -n/--dry-run prints the iptables-restore input instead. --run-validation checks every "
            + "rule is in place (exit 126 if not). TPROXY and native nftables are refused; DNS capture is left out "
            + "with a note.",
        examples: [
            "meshlab pod-init -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x \"\" -b '*' -d 15090,15021,15020",
            "meshlab pod-init -n -b '*' -i '*'",
        ],
        hidden: true)
    static let arguments: [ArgumentSpec] = [
        .passthrough("flags", help: "istio-iptables' flags, e.g. -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*'."),
    ]

    let flags: [String]

    init(_ arguments: ParsedArguments, context: CommandContext) throws(UsageError) {
        flags = arguments.passthrough
    }

    func run(_ context: CommandContext) async throws -> ExitCode {
        let configuration: CaptureConfiguration
        let capture: CaptureRules
        do {
            configuration = try CaptureConfiguration.parse(flags, environment: context.environment)
            capture = try CaptureRules(configuration)
        } catch {
            throw UsageError(error.message)
        }
        if !configuration.networkNamespace.isEmpty {
            throw UsageError("--network-namespace: meshlab runs pod-init inside the pod's network namespace; leave it out")
        }
        for note in capture.notes { context.printError("pod-init: note: \(note)") }
        let rules = IptablesScript.placedFirst(capture.rules)
        if configuration.dryRun {
            context.stdout.write(IptablesScript.restore(rules))
            return .success
        }
        let applier: CaptureApplier
        do {
            applier = try CaptureApplier(binary: configuration.forceIptablesBinary)
        } catch {
            throw UsageError(error.message)
        }
        if !configuration.skipRuleApply {
            let outcome = try applier.apply(rules, cleanupOnly: configuration.cleanupOnly, force: configuration.forceApply)
            switch outcome {
            case .applied: context.stdout.write("pod-init: applied \(rules.count) rules\n")
            case .replaced: context.stdout.write("pod-init: replaced earlier rules with \(rules.count) rules\n")
            case .alreadyInPlace: context.stdout.write("pod-init: the \(rules.count) rules are in place already\n")
            case .cleanedUp:
                context.stdout.write("pod-init: removed the rules\n")
                return .success
            }
            context.stdout.write(IptablesScript.restore(rules))
        }
        if configuration.runValidation {
            let missing = applier.checkFailures(rules)
            guard missing.isEmpty else {
                context.printError("pod-init: iptables validation failed; workload is not ready for Istio. Missing rules:")
                for rule in missing { context.printError("  -t \(rule.table.rawValue) \(rule)") }
                return ExitCode(126)
            }
            context.stdout.write("pod-init: validation passed: all \(rules.count) rules are in place\n")
        }
        return .success
    }
}
