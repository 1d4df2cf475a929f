import Glibc
import MeshSystem
import Testing

/// A scratch directory removed afterwards, even when the test fails.
private func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = try Files.makeTemporaryDirectory()
    defer { try? Files.removeTree(directory) }
    return try await body(directory)
}

private func text(_ path: String) throws -> String {
    String(decoding: try Files.read(path), as: UTF8.self)
}

@Suite struct SpawnTests {
    @Test func echoWithStdoutToAFileExitsZero() async throws {
        try await withTemporaryDirectory { directory in
            var configuration = SpawnConfiguration(executable: "/bin/echo", arguments: ["hello", "mesh"])
            configuration.standardOutput = .file(directory + "/out.txt")
            let child = try ChildProcess.spawn(configuration)
            #expect(try child.wait() == .exited(code: 0))
            #expect(try text(directory + "/out.txt") == "hello mesh\n")
        }
    }

    @Test func exitCodesSignalsAndNonBlockingWait() throws {
        let failing = try ChildProcess.spawn(SpawnConfiguration(executable: "/bin/sh", arguments: ["-c", "exit 3"]))
        #expect(try failing.wait() == .exited(code: 3))

        var sleeping = SpawnConfiguration(executable: "sleep", arguments: ["30"])  // found through PATH
        sleeping.newSession = true
        let sleeper = try ChildProcess.spawn(sleeping)
        #expect(try sleeper.tryWait() == nil)
        #expect(getsid(sleeper.pid) == sleeper.pid)  // its own session
        try sleeper.send(.terminate)
        #expect(try sleeper.wait() == .signaled(.terminate))

        var grouped = SpawnConfiguration(executable: "/bin/sleep", arguments: ["30"])
        grouped.processGroup = 0  // a new group led by the child
        let leader = try ChildProcess.spawn(grouped)
        #expect(getpgid(leader.pid) == leader.pid)
        try Signals.send(.kill, to: -leader.pid)  // the whole group
        #expect(try leader.wait() == .signaled(.kill))
        #expect(ExitStatus.signaled(.terminate).description == "killed by SIGTERM")
    }

    @Test func environmentWorkingDirectoryAndStdin() async throws {
        try await withTemporaryDirectory { directory in
            let input = directory + "/in.txt"
            try Files.writeAtomically(input, Array("from stdin\n".utf8))
            var configuration = SpawnConfiguration(
                executable: "/bin/sh", arguments: ["-c", "pwd; echo \"$GREETING\"; cat"], environment: ["GREETING": "hi"])
            configuration.workingDirectory = directory
            configuration.standardInput = .descriptor(try Files.open(input, .read))
            configuration.standardOutput = .file(directory + "/out.txt")
            configuration.standardError = .null
            #expect(try ChildProcess.spawn(configuration).wait() == .exited(code: 0))
            #expect(try text(directory + "/out.txt") == "\(directory)\nhi\nfrom stdin\n")
        }
    }

    @Test func inheritsOnlyTheListedDescriptors() async throws {
        try await withTemporaryDirectory { directory in
            let pipe = try Posix.pipe()
            let secret = try Posix.pipe()  // not listed: must stay closed in the child
            // Without close-on-exec, as a descriptor left open by whoever started meshlab.
            try Posix.setCloseOnExec(secret.write, false)
            var configuration = SpawnConfiguration(
                executable: "/bin/sh",
                arguments: ["-c", "echo activated >&3; if [ -e /proc/self/fd/\(secret.write.rawValue) ]; then echo leaked >&3; fi"])
            configuration.inheritedDescriptors = [3: pipe.write]
            let child = try ChildProcess.spawn(configuration)
            #expect(try child.wait() == .exited(code: 0))
            try pipe.write.close()
            #expect(String(decoding: try Files.readAll(pipe.read), as: UTF8.self) == "activated\n")
            _ = secret
        }
    }

    @Test func missingExecutableIsAnErrorNamingIt() {
        #expect(throws: SystemError(errno: ENOENT, function: "posix_spawn(/nonexistent/tool)")) {
            _ = try ChildProcess.spawn(SpawnConfiguration(executable: "/nonexistent/tool"))
        }
    }

    @Test func currentProcessFacts() throws {
        #expect(CurrentProcess.id == getpid())
        #expect(CurrentProcess.userID == getuid())
        let path = try CurrentProcess.executablePath()
        #expect(path.hasPrefix("/"))
        #expect(try Files.kind(of: path) == .regular)
    }

    @Test func waitStatusDecoding() {
        #expect(ExitStatus(waitStatus: 0) == .exited(code: 0))
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(code: 3))
        #expect(ExitStatus(waitStatus: 9) == .signaled(.kill))
    }
}

@Suite struct SignalTests {
    @Test func signalSentToSelfArrivesOnTheStreamAndTheDefaultComesBack() async throws {
        do {
            let signals = try Signals.stream([.user1])
            #expect(currentHandler(SIGUSR1) != nil)  // meshlab's handler is installed
            try Signals.send(.user1, to: CurrentProcess.id)
            var iterator = signals.makeAsyncIterator()
            #expect(await iterator.next() == .user1)
        }
        // The stream is gone: SIGUSR1 has its default disposition again.
        try await Task.sleep(for: .milliseconds(5))
        #expect(currentHandler(SIGUSR1) == nil)
    }

    /// The installed handler's address, nil for SIG_DFL.
    private func currentHandler(_ number: CInt) -> UnsafeRawPointer? {
        var action = sigaction()
        sigaction(number, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: UnsafeRawPointer?.self)
    }

    @Test func signalNames() {
        #expect(Signal.terminate.description == "SIGTERM")
        #expect(Signal(rawValue: 42).description == "signal 42")
    }
}
