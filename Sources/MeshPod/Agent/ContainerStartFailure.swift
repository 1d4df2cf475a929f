/// Why a container could not be started, as kubelet reports it: the reason
/// goes into the container's `waiting` state, the message into its status
/// and a `Failed` event.
public struct ContainerStartFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The image cannot run here: permanent until the spec changes (`ErrImagePull`).
        case image
        /// The container's configuration cannot be made (a missing ConfigMap
        /// key, a bad `fieldRef`): retried with back-off, since what is
        /// missing may yet be created (`CreateContainerConfigError`).
        case configuration
        /// The process could not be started (`RunContainerError`): retried with back-off.
        case launch
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The container's waiting reason.
    public var reason: String {
        switch kind {
        case .image: "ErrImagePull"
        case .configuration: "CreateContainerConfigError"
        case .launch: "RunContainerError"
        }
    }

    public var description: String { message }
}
