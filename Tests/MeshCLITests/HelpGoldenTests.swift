@testable import MeshCLI
import MeshTestSupport
import Testing

/// Every command's `--help`, kept as golden files: a change to a command's
/// arguments or words shows up in review as a change to its help.
@Suite struct HelpGoldenTests {
    static func commands(_ root: any ParsableCommand.Type, path: [String] = []) -> [([String], any ParsableCommand.Type)] {
        let here = path + [root.info.name]
        return [(here, root)] + root.info.subcommands.flatMap { commands($0, path: here) }
    }

    @Test func everyCommandsHelpMatchesItsGoldenFile() {
        let all = Self.commands(MeshlabCommand.self)
        #expect(all.count >= 10)
        for (path, command) in all {
            let name = path.joined(separator: "-")
            do {
                try Golden.check(HelpText.render(command, path: path), against: "help/\(name).txt")
            } catch {
                Issue.record(error)
            }
        }
    }

    @Test func helpLinesFitEightyColumns() {
        for (path, command) in Self.commands(MeshlabCommand.self) {
            for line in HelpText.render(command, path: path).split(separator: "\n") where !line.hasPrefix("  meshlab ") {
                #expect(line.count <= 80, "\(path.joined(separator: " ")): \(line)")
            }
        }
    }
}
