import MeshModel

/// Where the push client hands what meshd sent: all resources of one type
/// (state of the world). The data plane decodes and checks them and swaps
/// them in atomically, or throws to refuse them: the push client then NACKs
/// with the error's description and the previous config stays in force.
public protocol ProxyConfigSink: Sendable {
    func apply(_ type: ProxyResourceType, resources: [JSONValue], version: String) async throws
}
