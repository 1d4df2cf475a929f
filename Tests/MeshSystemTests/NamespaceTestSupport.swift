import Glibc
import MeshSystem
import Synchronization

/// What privileged namespace tests need, checked once: root, and a network
/// namespace that can really be made and pinned (a container without
/// CAP_SYS_ADMIN is root but cannot).
enum NamespaceTestSupport {
    static let unavailableReason: String? = {
        guard CurrentProcess.effectiveUserID == 0 else { return "needs root" }
        do {
            try NamedNetworkNamespaces.prepare()
            let path = NamedNetworkNamespaces.defaultDirectory + "/mltprobe\(getpid())"
            try NamespaceThread.shared.runBlocking { try NamedNetworkNamespaces.create(pinnedAt: path) }
            try NamedNetworkNamespaces.remove(path)
            return nil
        } catch {
            return "cannot make network namespaces here: \(error)"
        }
    }()

    static var available: Bool { unavailableReason == nil }

    private static let counter = Atomic<Int>(0)

    /// A name prefix unique to this test process and call (`mlt1234x7`), so
    /// parallel tests and a real lab never share a name.
    static func uniquePrefix() -> String {
        "mlt\(getpid())x\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    /// A fresh pinned network namespace; remove it with `NamedNetworkNamespaces.remove`.
    static func makeNamespace() throws -> String {
        let path = NamedNetworkNamespaces.defaultDirectory + "/" + uniquePrefix()
        try NamespaceThread.shared.runBlocking { try NamedNetworkNamespaces.create(pinnedAt: path) }
        return path
    }
}
