import Glibc
import MeshSystem
import MeshTestSupport
import Testing

@testable import MeshPod

/// Istio's files copied beside the repository (`<repo>/../shared/istio`).
enum IstioFiles {
    static let directory: String? = {
        let repository = Golden.directory(for: #filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        for candidate in ["/" + repository + "/../shared/istio", "/work/shared/istio"] where access(candidate, R_OK) == 0 {
            return candidate
        }
        return nil
    }()

    static var available: Bool { directory != nil }

    static func read(_ path: String) throws -> String {
        String(decoding: try Files.read(directory! + "/" + path), as: UTF8.self)
    }

    /// The iptables-restore part of one of istio-iptables' capture goldens:
    /// those files record every command the test stub ran (`iptables-save`
    /// before and after, `ip6tables-save`), and the restore input between.
    static func restoreSection(of golden: String) -> String {
        let lines = golden.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.hasPrefix("* ") }),
            let last = lines.lastIndex(where: { $0 == "COMMIT" })
        else { return "" }
        return lines[first...last].joined(separator: "\n") + "\n"
    }
}

/// The injected istio-init's arguments after `istio-iptables`, as in
/// pkg/kube/inject/testdata/inject/hello.yaml.injected.
let injectedDefaultArguments = ["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "",
                                "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"]

@Suite struct CaptureRulesTests {
    static func restore(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        IptablesScript.restore(try CaptureRules(CaptureConfiguration.parse(arguments, environment: environment)).rules)
    }

    /// Each of istio-iptables' capture goldens, with the flags that make
    /// the configuration its run_test.go case builds.
    @Test(.enabled(if: IstioFiles.available, "no Istio files at <repo>/../shared/istio"),
          arguments: [
              ("empty", [String]()),
              ("inbound-ports-wildcard", ["-b", "*"]),
              ("kube-virt-interfaces", ["-k", "eth1,eth2", "-i", "*"]),
          ])
    func matchesIstioIptablesGolden(name: String, arguments: [String]) throws {
        let golden = try IstioFiles.read("tools/istio-iptables/pkg/capture/testdata/\(name).golden")
        let expected = IstioFiles.restoreSection(of: golden)
        #expect(!expected.isEmpty)
        let actual = try Self.restore(arguments)
        #expect(actual == expected, "\(Golden.firstDifference(expected: expected, actual: actual))")
    }

    /// The CNI plugin's rules for a default pod: the flags are those its
    /// redirect settings come to (all inbound but 15020/15021/15090, sorted;
    /// all outbound; the agent's 15020 left alone outbound).
    @Test(.enabled(if: IstioFiles.available, "no Istio files at <repo>/../shared/istio"))
    func matchesIstioCNIGolden() throws {
        let expected = try IstioFiles.read("cni/pkg/plugin/testdata/basic.txt.golden")
        let actual = try Self.restore(["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
                                       "-b", "*", "-d", "15020,15021,15090", "-o", "15020"])
        #expect(actual == expected, "\(Golden.firstDifference(expected: expected, actual: actual))")
    }

    /// The injector's default arguments: the CNI golden's rules, less the
    /// CNI's 15020 outbound exclusion, with -d in the injector's order.
    @Test func injectedDefaultArgumentsGiveIstiosDefaultRules() throws {
        let configuration = try CaptureConfiguration.parse(injectedDefaultArguments)
        #expect(configuration.proxyPort == "15001" && configuration.inboundCapturePort == "15006")
        #expect(configuration.effectiveProxyUID == "1337" && configuration.effectiveProxyGID == "1337")
        #expect(configuration.outboundIPRangesInclude == "*" && configuration.outboundIPRangesExclude == "")
        #expect(configuration.inboundPortsExclude == "15090,15021,15020")
        #expect(configuration.logOptions == ["log_output_level": "default:info"])
        let rules = try CaptureRules(configuration)
        #expect(rules.notes.isEmpty)
        let forms = [
            ("restore", IptablesScript.restore(rules.rules)),
            ("check", Self.lines(IptablesScript.check(rules.rules))),
            ("cleanup", Self.lines(IptablesScript.cleanup(rules.rules))),
            ("lab-restore", IptablesScript.restore(IptablesScript.placedFirst(rules.rules))),
        ]
        for (form, text) in forms {
            do { try Golden.check(text, against: "capture/injected-default.\(form)") } catch { Issue.record(error) }
        }
    }

    /// traffic.sidecar.istio.io/* annotations as the injector passes them
    /// (traffic-annotations.yaml.injected).
    @Test func trafficAnnotationArguments() throws {
        let arguments = ["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                         "-i", "127.0.0.1/24,10.96.0.1/24", "-x", "10.96.0.2/24,10.96.0.3/24", "-b", "1,2,3",
                         "-d", "15090,15021,4,5,6,15020", "-o", "7,8,9", "--log_output_level=default:info"]
        let text = try Self.restore(arguments)
        try Golden.check(text, against: "capture/traffic-annotations.restore")
        // A loopback range is captured on purpose: the "app calls itself by address" RETURN goes.
        #expect(!text.contains("! --uid-owner"))
        #expect(text.contains("-A ISTIO_OUTPUT -d 127.0.0.1/24 -j ISTIO_REDIRECT"))
        #expect(text.contains("-A ISTIO_INBOUND -p tcp --dport 2 -j ISTIO_IN_REDIRECT"))
        #expect(!text.contains("--dport 4 "))  // -d only applies with -b '*'
    }

    static func lines(_ commands: [[String]]) -> String {
        commands.map { $0.joined(separator: " ") + "\n" }.joined()
    }

    @Test func pflagSpellingsAreAllRead() throws {
        for arguments in [["-p", "16001"], ["-p16001"], ["-p=16001"], ["--envoy-port", "16001"], ["--envoy-port=16001"]] {
            #expect(try CaptureConfiguration.parse(arguments).proxyPort == "16001", "\(arguments)")
        }
        let booleans = try CaptureConfiguration.parse(["--run-validation", "--skip-rule-apply=true", "-n", "--drop-invalid=false"])
        #expect(booleans.runValidation && booleans.skipRuleApply && booleans.dryRun && !booleans.dropInvalid)
        // An empty value is a value (`-x ""`), not a missing one.
        #expect(try CaptureConfiguration.parse(["-x", "", "-i", "*"]).outboundIPRangesInclude == "*")
    }

    @Test func environmentIsReadUnderTheCommandLine() throws {
        let environment = ["INBOUND_CAPTURE_PORT": "16006", "ENVOY_PORT": "9", "PROXY_UID": "1000",
                           "INVALID_DROP": "true", "ISTIO_OUTBOUND_OWNER_GROUPS": "java,202"]
        let configuration = try CaptureConfiguration.parse(["-u", "1337"], environment: environment)
        #expect(configuration.inboundCapturePort == "16006")
        #expect(configuration.proxyPort == "15001")  // -p is bound to no variable in istio-iptables
        #expect(configuration.proxyUID == "1337")
        #expect(configuration.dropInvalid)
        let rules = try CaptureRules(configuration).rules.map(\.description)
        #expect(rules.contains("-A ISTIO_OUTPUT -m owner ! --gid-owner java -m owner ! --gid-owner 202 -j RETURN"))
        #expect(rules.contains("-A PREROUTING -m conntrack --ctstate INVALID -j ISTIO_DROP"))
        #expect(rules.contains("-A ISTIO_DROP -j DROP"))
        let excluded = try CaptureRules(CaptureConfiguration.parse([], environment: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "888,ftp"]))
        #expect(excluded.rules.map(\.description).suffix(3).prefix(2)
            == ["-A ISTIO_OUTPUT -m owner --gid-owner 888 -j RETURN", "-A ISTIO_OUTPUT -m owner --gid-owner ftp -j RETURN"])
    }

    @Test(arguments: [
        (["--bogus"], "unknown flag: --bogus"),
        (["-y", "1"], "unknown shorthand flag: 'y' in -y"),
        (["-p"], "flag needs an argument: -p"),
        (["--dry-run=maybe"], "invalid argument \"maybe\" for \"--dry-run\" flag: not a boolean"),
        (["--probe-timeout", "soon"], "invalid argument \"soon\" for \"--probe-timeout\" flag: not a duration such as 5s or 500ms"),
        (["istio-iptables", "-p", "15001"], "unexpected argument \"istio-iptables\": istio-iptables takes flags only"),
        (["-i", "bad"], "-i/--istio-service-cidr: \"bad\" is not a CIDR such as 10.96.0.0/16"),
        (["-x", "*"], "-x/--istio-service-exclude-cidr: \"*\" is not allowed (invalid value for OUTBOUND_IP_RANGES_EXCLUDE)"),
        (["-b", "*", "-d", "15090,http"], "-d/--istio-local-exclude-ports: \"http\" is not a port (1-65535)"),
        (["-u", "istio-proxy"], "-u/--proxy-uid: \"istio-proxy\" is not a numeric id"),
        (["-m", "DIVERT"], "-m/--istio-inbound-interception-mode: \"DIVERT\" is neither REDIRECT nor TPROXY"),
    ])
    func badCommandLinesAreRefusedWithTheReason(arguments: [String], message: String) {
        #expect(throws: CaptureError(message)) { try CaptureConfiguration.parse(arguments) }
    }

    @Test func whatTheLabCannotDoIsRefusedOrReported() throws {
        #expect(throws: CaptureError.self) { try CaptureRules(CaptureConfiguration.parse(["-m", "TPROXY", "-b", "*"])) }
        #expect(throws: CaptureError.self) { try CaptureRules(CaptureConfiguration.parse(["--native-nftables"])) }
        let dns = try CaptureRules(CaptureConfiguration.parse(["-i", "*"], environment: ["ISTIO_META_DNS_CAPTURE": "true"]))
        #expect(dns.notes.count == 1)
        #expect(!dns.rules.contains { $0.description.contains("53") })
    }

    /// Rules in built-in chains go to the top in their order (before the
    /// lab's MESHLAB-SERVICES jump); Istio's own inserts stay inserts at 1.
    @Test func labPlacementPutsOurBuiltInChainRulesFirstInOrder() throws {
        let rules = try CaptureRules(CaptureConfiguration.parse(["-c", "eth9", "-k", "eth1", "-b", "*", "-i", "*"])).rules
        let builtIn = IptablesScript.placedFirst(rules).filter(\.isInBuiltInChain).map(\.description)
        #expect(builtIn == [
            "-I PREROUTING 1 -i eth9 -j RETURN",
            "-I OUTPUT 1 -o eth9 -j RETURN",
            "-I PREROUTING 1 -i eth1 -j RETURN",
            "-I PREROUTING 3 -p tcp -j ISTIO_INBOUND",
            "-I OUTPUT 2 -j ISTIO_OUTPUT",
            "-I PREROUTING 1 -i eth1 -j ISTIO_REDIRECT",
        ])
        // Not in built-in chains: untouched.
        #expect(IptablesScript.placedFirst(rules).filter { !$0.isInBuiltInChain } == rules.filter { !$0.isInBuiltInChain })
    }
}
