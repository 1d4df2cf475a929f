import MeshModel
import MeshSystem

/// A container's stdout and stderr: `<pod log directory>/<container>.log`,
/// appended across restarts, each run opened by a marker line; over the size
/// limit the file is copied to `.log.1` and emptied (copytruncate: the
/// process keeps its descriptor, and O_APPEND writes go to the new end).
///
/// Logs live in the agent's directory, not the sandbox's (kubelet's
/// /var/log/pods layout): the sandbox of a pod that completed or failed is
/// removed at once, but its logs stay until the pod is deleted — which is
/// when `logs` of a failed init container matters most.
public enum ContainerLogs {
    /// A pod's log directory: `<agent directory>/pods/<namespace>_<name>_<uid>`.
    public static func podDirectory(agentDirectory: String, pod: PodIdentity) -> String {
        "\(agentDirectory)/pods/\(pod.namespace)_\(pod.name)_\(pod.uid)"
    }

    /// The log of `container` in the pod log directory `directory`.
    public static func path(directory: String, container: String) -> String { "\(directory)/\(container).log" }

    /// The uids of the pods that have log directories under the agent's directory.
    static func podDirectories(agentDirectory: String) -> [(uid: String, path: String)] {
        let root = "\(agentDirectory)/pods"
        let names = (try? Files.directoryEntries(root)) ?? []
        return names.compactMap { name in
            let parts = name.split(separator: "_")
            return parts.count == 3 ? (String(parts[2]), "\(root)/\(name)") : nil
        }
    }

    /// Where the log's older part goes when it is rotated.
    public static func rotatedPath(directory: String, container: String) -> String {
        path(directory: directory, container: container) + ".1"
    }

    /// Every marker line starts with this.
    public static let markerPrefix = "--- meshlab: "

    /// The line written before each run of a container.
    public static func marker(container: String, run: Int, at moment: Moment) -> String {
        "\(markerPrefix)container \(container) started (run \(run)) at \(moment.timestamp) ---\n"
    }

    /// Opens the log for a new run: rotates it if it is over `limit`, then appends the marker.
    static func open(directory: String, container: String, limit: Int, marker: String) throws -> FileDescriptor {
        try Files.makeDirectories(directory, mode: 0o755)
        let path = path(directory: directory, container: container)
        _ = try rotate(path, limit: limit)
        let fd = try Files.open(path, .append, mode: 0o644)
        do {
            try Files.write(fd, Array(marker.utf8))
        } catch {
            try? fd.close()
            throw error
        }
        return fd
    }

    /// Copy-truncate when `path` is larger than `limit`; says whether it did.
    @discardableResult
    static func rotate(_ path: String, limit: Int) throws -> Bool {
        guard (try? Files.kind(of: path)) == .regular, let fd = try? Files.open(path, .readWrite) else { return false }
        defer { try? fd.close() }
        guard try Files.size(fd) > limit else { return false }
        try Files.writeAtomically(path + ".1", try Files.readAll(fd), mode: 0o644)
        try Files.truncate(fd, size: 0)
        return true
    }

    /// The log as `meshlab logs` shows it: the rotated part, then the file.
    public static func read(directory: String, container: String) throws -> String {
        let older = (try? Files.read(rotatedPath(directory: directory, container: container))) ?? []
        let current = try Files.read(path(directory: directory, container: container))
        return String(decoding: older + current, as: UTF8.self)
    }

    /// The runs in a log's text, oldest first: each marker line and the output after it.
    /// Output before the first marker (the start of a rotated file) is a run without a marker.
    public static func runs(_ text: String) -> [(marker: String?, output: String)] {
        guard !text.isEmpty else { return [] }
        var runs: [(marker: String?, output: String)] = []
        var marker: String?
        var output = ""
        var started = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
            if line.hasPrefix(markerPrefix) {
                if started || !output.isEmpty { runs.append((marker, output)) }
                marker = String(line)
                output = ""
                started = true
            } else {
                output += line + "\n"
            }
        }
        if started || !output.isEmpty { runs.append((marker, output)) }
        return runs
    }

    /// What `kubectl logs` shows: the current run's output (`previous`: the run before).
    public static func output(_ text: String, previous: Bool = false) -> String {
        let runs = runs(text)
        let index = runs.count - (previous ? 2 : 1)
        return index >= 0 ? runs[index].output : ""
    }
}
