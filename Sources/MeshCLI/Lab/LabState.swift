import MeshControlPlane
import MeshSystem

/// Whether a lab runs on a state directory, found the way that cannot lie:
/// the running daemon holds an flock on `daemon.lock` (the kernel drops it
/// when the process dies, however it dies).
enum LabState {
    /// A daemon holds the lock; its pid, and what it published (nil while it starts).
    case running(pid: Int32?, info: DaemonInfo?)
    /// Nothing runs, but a daemon that died without `meshlab down` left files behind.
    case crashed(leftovers: [String])
    case down

    static func probe(_ state: StateDirectory) -> LabState {
        guard (try? Files.kind(of: state.daemonLock)) != nil,
            let lock = try? Files.open(state.daemonLock, .read)
        else { return leftovers(state) }
        // A shared lock succeeds only when no daemon holds its exclusive one.
        if (try? Files.lock(lock, .shared, wait: false)) == true {
            try? Files.unlock(lock)
            return leftovers(state)
        }
        let pid = (try? Files.readAll(lock)).flatMap { Int32(String(decoding: $0, as: UTF8.self)) }
        return .running(pid: pid, info: DaemonInfo.read(from: state.daemonInfo))
    }

    private static func leftovers(_ state: StateDirectory) -> LabState {
        let files = [state.daemonInfo, state.apiSocket].filter { (try? Files.kind(of: $0)) != nil }
        return files.isEmpty ? .down : .crashed(leftovers: files)
    }

    /// Removes what a crashed daemon left (never the store: that is the lab's state).
    static func removeLeftovers(_ state: StateDirectory) {
        for file in [state.daemonInfo, state.apiSocket] { _ = try? Files.remove(file) }
    }
}
