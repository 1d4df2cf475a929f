import MeshModel

/// The user and group a container's process runs as.
public struct ContainerUser: Sendable, Hashable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// nobody:nogroup, what a container runs as when its spec asks for no user:
    /// the lab runs as root, and a pod's program must not.
    public static let nobody = ContainerUser(uid: 65534, gid: 65534)

    public var isRoot: Bool { uid == 0 }

    public var description: String { "\(uid):\(gid)" }

    /// The user for `container`: `securityContext.runAsUser/runAsGroup` of the
    /// container, else of the pod, else `fallback`. Root only when the spec
    /// says `runAsUser: 0`. A user given without a group gets the fallback's
    /// group (root's group only for root), where Kubernetes would take the
    /// image's passwd entry or group 0.
    public static func resolve(_ container: Container, pod: PodSpec, fallback: ContainerUser = .nobody)
        throws(ContainerStartFailure) -> ContainerUser
    {
        func id(_ value: Int64?, _ field: String) throws(ContainerStartFailure) -> UInt32? {
            guard let value else { return nil }
            guard let id = UInt32(exactly: value), id != UInt32.max else {
                throw ContainerStartFailure(.configuration, "securityContext.\(field): \(value) is not a valid id")
            }
            return id
        }
        let uid = try id(container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, "runAsUser")
        let gid = try id(container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup, "runAsGroup")
        let user = ContainerUser(uid: uid ?? fallback.uid, gid: gid ?? (uid == 0 ? 0 : fallback.gid))
        let nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot ?? false
        if nonRoot && user.isRoot {
            throw ContainerStartFailure(.configuration, "container has runAsNonRoot and image will run as root (container: \(container.name))")
        }
        return user
    }
}
