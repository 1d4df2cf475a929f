import MeshModel

/// What the injector needs beyond the pod: Istio's values.yaml and mesh
/// config reduced to the knobs that shape the injected pod. The defaults are
/// those of Istio's own injection tests (pkg/kube/inject/testdata), with
/// Istio's public proxy image: another part of meshlab maps that image and
/// its `istio-iptables …` / `proxy sidecar …` arguments to `meshlab pod-init`
/// and `meshlab proxy`.
public struct InjectionSettings: Sendable, Equatable {
    /// Injection by default where the webhook is called (Istio's `policy: enabled`);
    /// `disabled` injects only pods that ask with `sidecar.istio.io/inject: "true"`.
    public enum Policy: String, Sendable { case enabled, disabled }

    public var policy: Policy
    /// The control plane revision the pod is bound to (`istio.io/rev`).
    public var revision: String
    /// The image of both `istio-init` and `istio-proxy`.
    public var proxyImage: String
    public var clusterID: String
    public var meshID: String
    public var trustDomain: String
    /// `$(POD_NAMESPACE).svc.<clusterDomain>` is the proxy's `--domain`.
    public var clusterDomain: String
    /// Where the sidecar gets certificates (the istiod Service on 15012).
    public var caAddress: String
    /// Namespaces that are never injected (Istio: kube-system, kube-public).
    public var ignoredNamespaces: [String]
    /// The mesh's default ProxyConfig, as JSON; `proxy.istio.io/config` is merged over it.
    public var defaultProxyConfig: JSONObject

    public static let defaultProxyImage = "docker.io/istio/proxyv2:\(MeshlabVersion.istio).0"

    public init(policy: Policy = .enabled, revision: String = "default", proxyImage: String = InjectionSettings.defaultProxyImage,
                clusterID: String = "Kubernetes", meshID: String = "cluster.local", trustDomain: String = "cluster.local",
                clusterDomain: String = "cluster.local", caAddress: String = "istiod.istio-system.svc:15012",
                ignoredNamespaces: [String] = ["kube-system", "kube-public"], defaultProxyConfig: JSONObject = JSONObject()) {
        self.policy = policy
        self.revision = revision
        self.proxyImage = proxyImage
        self.clusterID = clusterID
        self.meshID = meshID
        self.trustDomain = trustDomain
        self.clusterDomain = clusterDomain
        self.caAddress = caAddress
        self.ignoredNamespaces = ignoredNamespaces
        self.defaultProxyConfig = defaultProxyConfig
    }
}

/// Istio's fixed port and identity numbers (tools/istio-iptables constants).
public enum SidecarPorts {
    public static let outboundCapture = 15001
    public static let inboundCapture = 15006
    public static let status = 15020
    public static let health = 15021
    public static let prometheus = 15090
    /// The proxy's uid and gid: iptables lets its own traffic out uncaptured.
    public static let proxyUID = 1337
}
