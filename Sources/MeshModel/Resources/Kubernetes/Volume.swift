/// A pod volume (core/v1 Volume): a name and exactly one source. The
/// sources meshlab can realise are typed; the rest are accepted and kept
/// whole, so manifests written for a cluster still apply.
public struct Volume: Codable, Sendable, Hashable {
    public var name: String
    public var hostPath: HostPathVolumeSource?
    public var emptyDir: EmptyDirVolumeSource?
    public var secret: SecretVolumeSource?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var downwardAPI: DownwardAPIVolumeSource?
    public var configMap: ConfigMapVolumeSource?
    public var projected: ProjectedVolumeSource?
    // Kept whole: sources that need a cloud or a storage system.
    public var gcePersistentDisk: JSONValue?
    public var awsElasticBlockStore: JSONValue?
    public var gitRepo: JSONValue?
    public var nfs: JSONValue?
    public var iscsi: JSONValue?
    public var glusterfs: JSONValue?
    public var rbd: JSONValue?
    public var flexVolume: JSONValue?
    public var cinder: JSONValue?
    public var cephfs: JSONValue?
    public var flocker: JSONValue?
    public var fc: JSONValue?
    public var azureFile: JSONValue?
    public var vsphereVolume: JSONValue?
    public var quobyte: JSONValue?
    public var azureDisk: JSONValue?
    public var photonPersistentDisk: JSONValue?
    public var portworxVolume: JSONValue?
    public var scaleIO: JSONValue?
    public var storageos: JSONValue?
    public var csi: JSONValue?
    public var ephemeral: JSONValue?
    public var image: JSONValue?

    public init(name: String, emptyDir: EmptyDirVolumeSource? = nil) {
        self.name = name
        self.emptyDir = emptyDir
    }

    /// The names of the sources that are set, in field order.
    public var sourceNames: [String] {
        let all: [(String, Bool)] = [
            ("hostPath", hostPath != nil), ("emptyDir", emptyDir != nil), ("gcePersistentDisk", gcePersistentDisk != nil),
            ("awsElasticBlockStore", awsElasticBlockStore != nil), ("gitRepo", gitRepo != nil), ("secret", secret != nil),
            ("nfs", nfs != nil), ("iscsi", iscsi != nil), ("glusterfs", glusterfs != nil),
            ("persistentVolumeClaim", persistentVolumeClaim != nil), ("rbd", rbd != nil), ("flexVolume", flexVolume != nil),
            ("cinder", cinder != nil), ("cephfs", cephfs != nil), ("flocker", flocker != nil),
            ("downwardAPI", downwardAPI != nil), ("fc", fc != nil), ("azureFile", azureFile != nil),
            ("configMap", configMap != nil), ("vsphereVolume", vsphereVolume != nil), ("quobyte", quobyte != nil),
            ("azureDisk", azureDisk != nil), ("photonPersistentDisk", photonPersistentDisk != nil),
            ("projected", projected != nil), ("portworxVolume", portworxVolume != nil), ("scaleIO", scaleIO != nil),
            ("storageos", storageos != nil), ("csi", csi != nil), ("ephemeral", ephemeral != nil), ("image", image != nil),
        ]
        return all.filter(\.1).map(\.0)
    }
}

public struct HostPathVolumeSource: Codable, Sendable, Hashable {
    public var path: String
    public var type: String?
}

public struct EmptyDirVolumeSource: Codable, Sendable, Hashable {
    public var medium: String?
    public var sizeLimit: Quantity?
    public init(medium: String? = nil) { self.medium = medium }
}

public struct SecretVolumeSource: Codable, Sendable, Hashable {
    public var secretName: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?
}

public struct ConfigMapVolumeSource: Codable, Sendable, Hashable {
    public var name: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?
}

public struct KeyToPath: Codable, Sendable, Hashable {
    public var key: String
    public var path: String
    public var mode: Int32?
}

public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Hashable {
    public var claimName: String
    public var readOnly: Bool?
}

public struct DownwardAPIVolumeSource: Codable, Sendable, Hashable {
    public var items: [DownwardAPIVolumeFile]?
    public var defaultMode: Int32?
}

public struct DownwardAPIVolumeFile: Codable, Sendable, Hashable {
    public var path: String
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var mode: Int32?
}

public struct ProjectedVolumeSource: Codable, Sendable, Hashable {
    public var sources: [VolumeProjection]?
    public var defaultMode: Int32?
}

public struct VolumeProjection: Codable, Sendable, Hashable {
    public var secret: ProjectedKeys?
    public var downwardAPI: DownwardAPIProjection?
    public var configMap: ProjectedKeys?
    public var serviceAccountToken: ServiceAccountTokenProjection?
    public var clusterTrustBundle: JSONValue?
    public var podCertificate: JSONValue?
}

/// A ConfigMap or Secret projected into a volume.
public struct ProjectedKeys: Codable, Sendable, Hashable {
    public var name: String?
    public var items: [KeyToPath]?
    public var optional: Bool?
}

public struct DownwardAPIProjection: Codable, Sendable, Hashable {
    public var items: [DownwardAPIVolumeFile]?
}

/// A service account token for an audience (Istio's `istio-token`, audience `istio-ca`).
public struct ServiceAccountTokenProjection: Codable, Sendable, Hashable {
    public var audience: String?
    public var expirationSeconds: Int64?
    public var path: String
}
