import MeshCLI

#if canImport(Glibc)
import Glibc
#endif

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
