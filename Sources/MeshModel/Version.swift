/// meshlab's own version, and the Kubernetes API version it behaves like.
public enum MeshlabVersion {
    public static let version = "0.1.0"
    /// The Kubernetes release whose API shapes meshlab serves (for `/version`).
    public static let kubernetesMajor = "1"
    public static let kubernetesMinor = "31"
    /// The Istio release whose resources and behaviour meshlab follows.
    public static let istio = "1.31"

    public static var gitVersion: String { "v\(kubernetesMajor).\(kubernetesMinor).0-meshlab.\(version)" }
}
