import MeshSystem
import Testing

@testable import MeshPod

@Suite struct AgentLogsTests {
    @Test func runsSplitAtMarkers() {
        let first = ContainerLogs.marker(container: "app", run: 1, at: moment(.zero))
        let second = ContainerLogs.marker(container: "app", run: 2, at: moment(.seconds(5)))
        #expect(first == "--- meshlab: container app started (run 1) at 2026-01-01T00:00:00Z ---\n")
        let text = "tail of an older run\n" + first + "one\ntwo\n" + second + "three\n"
        let runs = ContainerLogs.runs(text)
        #expect(runs.map(\.output) == ["tail of an older run\n", "one\ntwo\n", "three\n"])
        #expect(runs.map(\.marker) == [nil, String(first.dropLast()), String(second.dropLast())])
        #expect(ContainerLogs.output(text) == "three\n")
        #expect(ContainerLogs.output(text, previous: true) == "one\ntwo\n")
        #expect(ContainerLogs.runs("").isEmpty)
        #expect(ContainerLogs.output("") == "")
        #expect(ContainerLogs.output(first) == "")
        // A last line without its newline yet.
        #expect(ContainerLogs.output(first + "partial") == "partial\n")
    }

    @Test func aLogOverItsLimitIsCopiedAsideAndEmptied() throws {
        let directory = try Files.makeTemporaryDirectory(prefix: "meshlab-agent-logs")
        defer { try? Files.removeTree(directory) }
        let path = ContainerLogs.path(directory: directory, container: "app")
        #expect(path == directory + "/app.log")
        let log = try ContainerLogs.open(directory: directory, container: "app", limit: 64, marker: "--- meshlab: run 1 ---\n")
        // The writer (a container) keeps its descriptor across the rotation.
        try Files.write(log, Array(String(repeating: "x", count: 100).utf8) + [0x0A])
        #expect(try ContainerLogs.rotate(path, limit: 64))
        #expect(try !ContainerLogs.rotate(path, limit: 64))
        try Files.write(log, Array("after\n".utf8))
        try log.close()
        #expect(String(decoding: try Files.read(path), as: UTF8.self) == "after\n")
        let rotated = String(decoding: try Files.read(ContainerLogs.rotatedPath(directory: directory, container: "app")), as: UTF8.self)
        #expect(rotated.hasPrefix("--- meshlab: run 1 ---\nxxx"))
        #expect(try ContainerLogs.read(directory: directory, container: "app") == rotated + "after\n")
        // Opening for the next run rotates first if needed, then writes the marker.
        let next = try ContainerLogs.open(directory: directory, container: "app", limit: 64, marker: "--- meshlab: run 2 ---\n")
        try next.close()
        #expect(ContainerLogs.output(try ContainerLogs.read(directory: directory, container: "app")) == "")
    }

    @Test func processRecordsSurviveTheRecorderAndOnlyNameTheirProcess() async throws {
        let directory = try Files.makeTemporaryDirectory(prefix: "meshlab-agent-records")
        defer { try? Files.removeTree(directory) }
        var spawn = SpawnConfiguration(executable: "/bin/sleep", arguments: ["60"])
        spawn.newSession = true
        let child = try ChildProcess.spawn(spawn)
        defer {
            try? child.send(.kill)
            _ = try? child.wait()
        }
        let records = try ProcessRecords(directory: directory)
        records.add("uid_app", processID: child.pid)
        #expect(records.count == 1)
        // A record whose start time does not match is someone else's process now.
        try Files.writeAtomically(directory + "/uid_other.pid", Array("\(CurrentProcess.id) 1\n".utf8))
        #expect(try ProcessRecords(directory: directory).sweep() == 1)
        // Reaped without blocking a thread: the sweep's SIGKILL is what ends it.
        var status: MeshSystem.ExitStatus?
        for _ in 0..<1000 where status == nil {
            status = try child.tryWait()
            if status == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(status == .signaled(.kill))
        #expect(try Files.directoryEntries(directory).isEmpty)
        #expect(ProcessTable.isAlive(CurrentProcess.id))
    }
}
