import MeshSystem

/// What an app reads from its container's environment, with the image's defaults.
///
/// The real images set some variables in their Dockerfiles (`SERVICE_VERSION`,
/// `ENABLE_RATINGS`, `STAR_COLOR`); meshlab's catalog passes those as arguments
/// instead (`--version v2`), and a variable set on the container still wins,
/// as it does over an image's `ENV`.
public struct AppEnvironment: Sendable {
    public var variables: [String: String]
    /// The kernel's host name: the pod name inside a pod's UTS namespace.
    public var kernelHostname: @Sendable () -> String?

    public init(_ variables: [String: String],
                kernelHostname: @escaping @Sendable () -> String? = AppEnvironment.readKernelHostname) {
        self.variables = variables
        self.kernelHostname = kernelHostname
    }

    public subscript(name: String) -> String? {
        guard let value = variables[name], !value.isEmpty else { return nil }
        return value
    }

    /// The pod's name as the apps report it: `HOSTNAME` (what Kubernetes sets in every
    /// container), else `POD_NAME`, else the kernel's host name.
    public var podName: String {
        self["HOSTNAME"] ?? self["POD_NAME"] ?? kernelHostname() ?? "unknown"
    }

    @Sendable public static func readKernelHostname() -> String? {
        guard let bytes = try? Files.read("/proc/sys/kernel/hostname") else { return nil }
        let name = String(decoding: bytes, as: UTF8.self).trimmed(of: " \n\t")
        return name.isEmpty ? nil : name
    }
}

extension String {
    func trimmed(of set: String) -> String {
        let characters = Set(set)
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
