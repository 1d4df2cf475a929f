import MeshSystem

#if canImport(Glibc)
import Glibc
#endif

/// Removes everything a lab made on this machine, and nothing else:
/// `meshlab down`, a failed `up`, and `up` after a crash run it.
///
/// What is ours is found two ways, so neither a lost record nor a renamed
/// namespace hides anything: network namespaces in /run/netns whose names
/// carry the lab's prefix, and those the state directory's pod records
/// name. Then, in order: every process whose network namespace is one of
/// those (SIGTERM, SIGKILL after `grace`), every pod netns, the node netns
/// (its bridge and the node ends of veth pairs go with it), and the pod
/// folders. Safe to run twice; the second run finds nothing.
public enum LabSweep {
    public struct Report: Sendable, Equatable {
        public var stoppedProcesses: [pid_t] = []
        public var removedNamespaces: [String] = []
        public var removedPodFolders: [String] = []
        /// What could not be removed (the sweep goes on past it).
        public var errors: [String] = []

        public var isEmpty: Bool { stoppedProcesses.isEmpty && removedNamespaces.isEmpty && removedPodFolders.isEmpty }
    }

    public static func sweep(_ configuration: LabNetworkConfiguration, podsDirectory: String,
                             grace: Duration = .seconds(2)) async -> Report {
        var report = Report()
        var names = Set(NamedNetworkNamespaces.names(in: configuration.namespaceDirectory).filter(configuration.isLabNamespace))
        let folders = (try? Files.directoryEntries(podsDirectory)) ?? []
        for folder in folders {
            if let record = SandboxRecord.read(in: podsDirectory + "/" + folder) { names.insert(record.namespaceName) }
        }
        let paths = names.sorted().map { configuration.namespaceDirectory + "/" + $0 }
        do {
            report.stoppedProcesses = try await killProcesses(inNamespaces: paths, grace: grace)
        } catch {
            report.errors.append("stopping processes: \(error)")
        }
        for (name, path) in zip(names.sorted(), paths) {
            do {
                if try NamedNetworkNamespaces.remove(path) { report.removedNamespaces.append(name) }
            } catch {
                report.errors.append("\(error)")
            }
        }
        for folder in folders {
            do {
                try Files.removeTree(podsDirectory + "/" + folder)
                report.removedPodFolders.append(folder)
            } catch {
                report.errors.append("\(podsDirectory)/\(folder): \(error)")
            }
        }
        return report
    }

    /// Stops every process whose network namespace is one of the pinned
    /// namespaces at `paths`: SIGTERM, then SIGKILL to those still there
    /// after `grace` (at once for `.zero`), then waits (up to 2 s) until
    /// they are gone, so the namespaces can go too. Returns their pids.
    @discardableResult
    public static func killProcesses(inNamespaces paths: [String], grace: Duration) async throws -> [pid_t] {
        let ids = Set(paths.filter(NamedNetworkNamespaces.isPinned).compactMap { try? Namespaces.id(ofFile: $0) })
        let found = Namespaces.processes(inNetworkNamespaces: ids)
        guard !found.isEmpty else { return [] }
        if grace > .zero {
            for pid in found { try? Signals.send(.terminate, to: pid) }
            try await waitUntilGone(found, for: grace)
        }
        // Anything that slipped in since (a child a process started while stopping) is found again.
        let remaining = Namespaces.processes(inNetworkNamespaces: ids)
        for pid in remaining { try? Signals.send(.kill, to: pid) }
        try await waitUntilGone(remaining, for: .seconds(2))
        return Array(Set(found + remaining)).sorted()
    }

    private static func waitUntilGone(_ pids: [pid_t], for limit: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while pids.contains(where: ProcessTable.isAlive) && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
