import Foundation
import MeshTestSupport

/// Runs a program with a deadline; a process still running then is killed, so a
/// hung peer fails the test instead of hanging it.
struct ProcessOutput {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

func runProcess(_ arguments: [String], stdin: [UInt8]? = nil, timeout: Duration = .seconds(20)) async throws -> ProcessOutput {
    try await offloaded { try runProcessBlocking(arguments, stdin: stdin, timeout: timeout) }
}

func runProcessBlocking(_ arguments: [String], stdin: [UInt8]?, timeout: Duration) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin))
        try? input.fileHandleForWriting.close()
    }
    // Read both pipes on their own threads so a chatty child cannot block on a full pipe.
    let stdoutData = Locked(Data()), stderrData = Locked(Data())
    let group = DispatchGroup()
    for (pipe, sink) in [(out, stdoutData), (err, stderrData)] {
        group.enter()
        DispatchQueue.global().async {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            sink.withLock { $0 = data }
            group.leave()
        }
    }
    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    var timedOut = false
    if group.wait(timeout: .now() + seconds) == .timedOut {
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        group.wait()
    }
    // Both pipes are at end of file: the child is gone or going; wait for its status.
    for _ in 0..<500 where process.isRunning { usleep(10_000) }
    guard !process.isRunning else { return ProcessOutput(status: -1, stdout: "", stderr: "did not exit", timedOut: true) }
    return ProcessOutput(status: process.terminationStatus,
                         stdout: String(decoding: stdoutData.withLock { $0 }, as: UTF8.self),
                         stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self),
                         timedOut: timedOut)
}

/// A long-running child (a python server) that is killed when the test ends, even on failure.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()

    init(_ arguments: [String], directory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Reads output lines until one satisfies `match` (at most 10 s), returning it.
    func waitForLine(matching match: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(10)
        var pending: [UInt8] = []
        while Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { return nil }
            pending += data
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if match(line) { return line }
            }
        }
        return nil
    }

    /// SIGKILL: children spawned from this test process inherit its blocked signal
    /// mask (SIGTERM included) from the runtime's threads, so only SIGKILL is sure.
    /// Polls rather than `waitUntilExit`, which can wait forever here.
    func stop() {
        let pid = process.processIdentifier
        guard pid > 0, process.isRunning else { return }
        kill(pid, SIGKILL)
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }

    deinit { stop() }
}

/// Whether a program is on PATH (the real-peer tests skip with a reason when it is not).
func hasProgram(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}
