/// The three forms istio-iptables renders its rules in (its builder's
/// BuildV4Restore, BuildCheckV4 and BuildCleanupV4), and the placement the
/// lab needs in front of its own service rules. Pure.
public enum IptablesScript {
    /// iptables-restore input (for `--noflush`): per table, in name order,
    /// `-N` for every chain of ours (the chains rules sit in, then the ones
    /// they only jump to), then the rules in the order they were made.
    public static func restore(_ rules: [IptablesRule]) -> String {
        var lines: [IptablesRule.Table: [String]] = [:]
        var declared: Set<String> = []
        func declare(_ chain: String, in table: IptablesRule.Table) {
            guard !IptablesRule.builtInChains.contains(chain), declared.insert("\(chain):\(table)").inserted else { return }
            lines[table, default: []].append("-N \(chain)")
        }
        for rule in rules { declare(rule.chain, in: rule.table) }
        for rule in rules { if let target = rule.jumpTarget { declare(target, in: rule.table) } }
        for rule in rules { lines[rule.table, default: []].append(rule.description) }
        var text = ""
        for table in lines.keys.sorted() {
            text += "* \(table.rawValue)\n" + lines[table]!.joined(separator: "\n") + "\nCOMMIT\n"
        }
        return text
    }

    /// `iptables` arguments that check each rule is in place (`-t nat -C CHAIN ...`).
    public static func check(_ rules: [IptablesRule]) -> [[String]] {
        rules.map { ["-t", $0.table.rawValue, "-C", $0.chain] + $0.parameters }
    }

    /// `iptables` arguments that undo the rules, last first: `-D` for the
    /// rules in built-in chains and for jumps between our chains (rules
    /// inside our chains go with the flush), then `-F` and `-X` of each of
    /// our chains. Each is run on its own and may fail (a rule already gone).
    public static func cleanup(_ rules: [IptablesRule]) -> [[String]] {
        var commands: [[String]] = []
        let reversed = rules.reversed()
        for rule in reversed {
            let ours = rule.chain.hasPrefix("ISTIO_")
            let jumpsToOurs = rule.parameters.count >= 2 && rule.parameters[rule.parameters.count - 2] == "-j"
                && rule.parameters.last!.hasPrefix("ISTIO_")
            if ours && !jumpsToOurs { continue }
            commands.append(["-t", rule.table.rawValue, "-D", rule.chain] + rule.parameters)
        }
        var seen: Set<String> = []
        for rule in reversed where !rule.isInBuiltInChain && seen.insert("\(rule.chain):\(rule.table)").inserted {
            commands.append(["-t", rule.table.rawValue, "-F", rule.chain])
            commands.append(["-t", rule.table.rawValue, "-X", rule.chain])
        }
        return commands
    }

    /// The rules with those in built-in chains moved to the top, keeping
    /// their order among themselves: each append becomes an insert just
    /// below the previous rule of ours in that chain.
    ///
    /// Why: a pod's netns already holds the kube-proxy role's jump
    /// (`-A OUTPUT -j MESHLAB-SERVICES`, `ServiceRules`). A NAT target ends
    /// the walk, so whichever jump comes first decides: ISTIO_OUTPUT must
    /// see the app's ClusterIP traffic first (REDIRECT to the sidecar, the
    /// original destination kept for SO_ORIGINAL_DST), and the proxy's own
    /// traffic, which ISTIO_OUTPUT RETURNs, then still meets the DNAT.
    /// On an empty chain the result is the same as istio-iptables'.
    public static func placedFirst(_ rules: [IptablesRule]) -> [IptablesRule] {
        var count: [String: Int] = [:]
        return rules.map { rule in
            guard rule.isInBuiltInChain else { return rule }
            var rule = rule
            let key = "\(rule.table):\(rule.chain)"
            count[key, default: 0] += 1
            if case .append = rule.placement { rule.placement = .insert(position: count[key]!) }
            return rule
        }
    }
}
