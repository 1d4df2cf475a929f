import Glibc
import MeshSystem
import MeshTestSupport
import Testing

@Suite struct EnterPlanTests {
    @Test func commandLineRoundTrips() throws {
        let request = EnterRequest(networkNamespace: "/run/netns/p", resolvConf: "/s/resolv.conf", hosts: "/s/hosts",
                                   hostname: "web-1", userID: 1000, groupID: 1001, workingDirectory: "/srv",
                                   program: "python3", arguments: ["-m", "http.server", "--", "8080"])
        let line = request.commandLine
        #expect(line.first == EnterRequest.command)
        #expect(try EnterRequest(arguments: Array(line.dropFirst())) == request)
    }

    @Test(arguments: [
        (["--net"], "--net needs a value"),
        (["--uid", "x", "--", "id"], "--uid wants a number, not \"x\""),
        (["--what", "--", "id"], "unknown option --what"),
        (["--net", "/run/netns/p"], "no program: expected -- PROGRAM ARGS"),
        (["--"], "no program after --"),
    ])
    func badArgumentsSayWhy(arguments: [String], message: String) {
        #expect(throws: EnterRequest.ParseError(message: message)) { try EnterRequest(arguments: arguments) }
    }

    @Test func fullPlanInOrder() {
        let request = EnterRequest(networkNamespace: "/run/netns/p", resolvConf: "/s/r", hosts: "/s/h", hostname: "web",
                                   userID: 1000, groupID: 1001, workingDirectory: "/srv", program: "sh", arguments: ["-c", "x"])
        #expect(Enter.plan(request).map(\.description) == [
            "single-thread check",
            "setns(/run/netns/p)",
            "unshare(CLONE_NEWNS|CLONE_NEWUTS)",
            "mount(/, MS_REC|MS_SLAVE)",
            "mount(/s/r -> /etc/resolv.conf, MS_BIND)",
            "mount(/s/h -> /etc/hosts, MS_BIND)",
            "sethostname(web)",
            "setgroups(0)",
            "setgid(1001)",
            "setuid(1000)",
            "chdir(/srv)",
            "execvp(sh -c x)",
        ])
    }

    @Test func daemonPlanKeepsTheHostMountNamespace() {
        // The daemon enters the node netns only: no mount or UTS namespace, same user.
        let request = EnterRequest(networkNamespace: "/run/netns/meshlab-node", program: "/usr/bin/meshlab", arguments: ["daemon"])
        #expect(Enter.plan(request) == [
            .requireSingleThread, .joinNetworkNamespace("/run/netns/meshlab-node"),
            .exec(program: "/usr/bin/meshlab", arguments: ["daemon"]),
        ])
    }

    @Test func groupAloneStillDropsSupplementaryGroups() {
        let plan = Enter.plan(EnterRequest(groupID: 5, program: "id"))
        #expect(plan == [.requireSingleThread, .dropSupplementaryGroups, .setGroupID(5), .exec(program: "id", arguments: [])])
    }
}

/// `meshlab __enter` through the real binary.
@Suite struct EnterExecutionTests {
    static func run(_ arguments: [String]) throws -> MeshlabProcess.Result {
        try MeshlabProcess.runBlocking(arguments, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"])
    }

    @Test func programNotFoundIs127AndOtherFailures126() throws {
        let missing = try Self.run(["__enter", "--", "meshlab-no-such-program"])
        #expect(missing.code == 127)
        #expect(missing.stderr == "meshlab __enter: execvp(meshlab-no-such-program): No such file or directory (errno 2)\n")

        let badOption = try Self.run(["__enter", "--bogus", "--", "true"])
        #expect(badOption.code == 126)
        #expect(badOption.stderr == "meshlab __enter: unknown option --bogus\n")

        let badDirectory = try Self.run(["__enter", "--cwd", "/no/such/dir", "--", "true"])
        #expect(badDirectory.code == 126)
        #expect(badDirectory.stderr.hasPrefix("meshlab __enter: chdir(/no/such/dir): No such file or directory"))

        let ok = try Self.run(["__enter", "--", "sh", "-c", "echo \"$0 $1\"", "a", "b"])
        #expect(ok.code == 0)
        #expect(ok.stdout == "a b\n")
    }

    @Test(.enabled(if: NamespaceTestSupport.available, "\(NamespaceTestSupport.unavailableReason ?? "")"))
    func missingNamespaceNamesTheStep() throws {
        let result = try Self.run(["__enter", "--net", "/run/netns/mlt-no-such-netns", "--", "true"])
        #expect(result.code == 126)
        #expect(result.stderr == "meshlab __enter: setns(/run/netns/mlt-no-such-netns): open: No such file or directory (errno 2)\n")
        // A file that is not a namespace.
        let plain = try Self.run(["__enter", "--net", "/etc/hostname", "--", "true"])
        #expect(plain.code == 126)
        #expect(plain.stderr.hasPrefix("meshlab __enter: setns(/etc/hostname): Invalid argument (errno 22)"))
    }

    @Test(.enabled(if: NamespaceTestSupport.available, "\(NamespaceTestSupport.unavailableReason ?? "")"))
    func runsInsideThePodsNamespacesAsItsUser() throws {
        let netns = try NamespaceTestSupport.makeNamespace()
        defer { _ = try? NamedNetworkNamespaces.remove(netns) }
        let scratch = try Files.makeTemporaryDirectory(prefix: "mlt-enter")
        defer { try? Files.removeTree(scratch) }
        try Files.setMode(scratch, 0o755)
        let resolv = "nameserver 10.44.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        let hosts = "127.0.0.1 localhost\n10.44.0.7 web-1\n"
        try Files.writeAtomically(scratch + "/resolv.conf", Array(resolv.utf8))
        try Files.writeAtomically(scratch + "/hosts", Array(hosts.utf8))
        let hostResolv = try Files.read("/etc/resolv.conf")
        var hostName = [CChar](repeating: 0, count: 256)
        gethostname(&hostName, 255)

        let result = try Self.run([
            "__enter", "--net", netns, "--resolv-conf", scratch + "/resolv.conf", "--hosts", scratch + "/hosts",
            "--hostname", "web-1", "--uid", "65534", "--gid", "65534", "--cwd", scratch, "--",
            "sh", "-c", "id -u; id -g; id -G; hostname; pwd; readlink /proc/self/ns/net; cat /etc/resolv.conf /etc/hosts",
        ])
        #expect(result.code == 0, "\(result.stderr)")
        let inode = try Namespaces.id(ofFile: netns).inode
        #expect(result.stdout == "65534\n65534\n65534\nweb-1\n\(scratch)\nnet:[\(inode)]\n" + resolv + hosts)
        // Nothing leaked to the host.
        #expect(try Files.read("/etc/resolv.conf") == hostResolv)
        var after = [CChar](repeating: 0, count: 256)
        gethostname(&after, 255)
        #expect(after == hostName)
    }

    /// /etc/resolv.conf as a symlink (systemd-resolved's stub), to a file and to nothing.
    @Test(.enabled(if: NamespaceTestSupport.available, "\(NamespaceTestSupport.unavailableReason ?? "")"),
          arguments: [true, false])
    func resolvConfSymlinkIsFollowed(targetExists: Bool) throws {
        let scratch = try Files.makeTemporaryDirectory(prefix: "mlt-enter")
        defer { try? Files.removeTree(scratch) }
        try Files.setMode(scratch, 0o755)
        try Files.writeAtomically(scratch + "/pod-resolv.conf", Array("nameserver 10.44.0.1\n".utf8))
        // A copy of /etc whose resolv.conf leads into SCRATCH/run/stub/ (which exists; the file may not).
        try Files.makeDirectories(scratch + "/etc")
        try Files.makeDirectories(scratch + "/run/stub")
        if targetExists { try Files.writeAtomically(scratch + "/run/stub/resolv.conf", Array("nameserver 1.1.1.1\n".utf8)) }
        #expect(symlink(scratch + "/run/stub/resolv.conf", scratch + "/etc/resolv.conf") == 0)
        let binary = try MeshlabProcess.binary()
        // In a private mount namespace of its own, put the copy over /etc and run __enter there.
        var spawn = SpawnConfiguration(executable: "unshare", arguments: [
            "-m", "--propagation", "private", "sh", "-c",
            "mount --bind \"$1/etc\" /etc && \"$2\" __enter --resolv-conf \"$1/pod-resolv.conf\" -- cat /etc/resolv.conf",
            "sh", scratch, binary,
        ])
        spawn.standardOutput = .file(scratch + "/out")
        spawn.standardError = .file(scratch + "/err")
        let status = try ChildProcess.spawn(spawn).wait()
        let stderr = String(decoding: try Files.read(scratch + "/err"), as: UTF8.self)
        #expect(status == .exited(code: 0), "\(stderr)")
        #expect(String(decoding: try Files.read(scratch + "/out"), as: UTF8.self) == "nameserver 10.44.0.1\n")
        // The file the link leads to is untouched (or still absent).
        #expect((try? Files.kind(of: scratch + "/run/stub/resolv.conf")) == (targetExists ? .regular : nil))
    }
}
