// `make bench`: meshlab's HTTP server against nginx, same machine, same run.
//
// Both servers answer every request with the same fixed 1 KiB body over keep-alive
// connections; wrk drives each in turn at several connection counts. Fairness:
// meshlab's server runs one event loop thread and nginx one worker process, both
// pinned with taskset to CPU 0, wrk pinned to CPU 1 (when the machine has two or
// more CPUs). The same binary re-executes itself as the meshlab server
// (`meshlab-bench serve`), so the server process holds nothing but the server.
import Foundation
import MeshHTTP
import MeshIO
import MeshSystem

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "serve" {
    BenchServer.run(arguments: Array(arguments.dropFirst()))
} else if arguments.first == "coldstart" {
    do {
        try await ColdStartBench(arguments: Array(arguments.dropFirst())).run()
    } catch {
        FileHandle.standardError.write(Data("meshlab-bench coldstart: \(error)\n".utf8))
        exit(1)
    }
} else {
    do {
        try Bench(arguments: arguments).run()
    } catch {
        FileHandle.standardError.write(Data("meshlab-bench: \(error)\n".utf8))
        exit(1)
    }
}
