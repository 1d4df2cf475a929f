import MeshCLI
import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

// `meshlab __enter ...` enters namespaces and execs: it must run while the
// process still has one thread, so it is handed off before anything else.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == EnterRequest.command {
    Enter.main(arguments: Array(CommandLine.arguments.dropFirst(2)))
}

var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let pair = String(cString: pointer)
    if let eq = pair.firstIndex(of: "=") {
        environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    entry += 1
}
let status = await MeshlabCommand.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
exit(status.rawValue)
