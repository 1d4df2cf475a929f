import MeshPod
import MeshSystem
import Testing

@Suite struct EnterRequestTests {
    @Test func roundTripsThroughItsCommandLine() throws {
        let sandbox = PodSandbox(
            pod: PodIdentity(namespace: "default", name: "web", uid: "u1"), networkNamespace: "/run/netns/meshlab-web",
            ip: "10.44.0.5", hostname: "web", resolvConf: "/s/resolv.conf", hosts: "/s/hosts", directory: "/s")
        let request = sandbox.enter(program: "/bin/sleep", arguments: ["--", "infinity"], userID: 65534, groupID: 65534,
                                    workingDirectory: "/tmp")
        let line = request.commandLine
        #expect(line.first == "__enter")
        #expect(try EnterRequest(arguments: Array(line.dropFirst())) == request)
    }

    @Test func refusesMalformedCommandLines() {
        #expect(throws: EnterRequest.ParseError(message: "no program: expected -- PROGRAM ARGS")) {
            try EnterRequest(arguments: ["--net", "/x"])
        }
        #expect(throws: EnterRequest.ParseError(message: "--uid wants a number, not \"root\"")) {
            try EnterRequest(arguments: ["--uid", "root", "--", "true"])
        }
    }
}
