/// The files a pod sees at /etc/resolv.conf and /etc/hosts, as the kubelet
/// writes them (pure: golden-tested).
public enum PodFiles {
    /// Kubernetes' ClusterFirst resolv.conf: the lab's DNS, the pod's
    /// namespace's search domains first, ndots:5 so `reviews` and
    /// `reviews.default` go through the search list.
    public static func resolvConf(podNamespace: String, nameserver: String, clusterDomain: String = "cluster.local") -> String {
        """
        nameserver \(nameserver)
        search \(podNamespace).svc.\(clusterDomain) svc.\(clusterDomain) \(clusterDomain)
        options ndots:5

        """
    }

    /// The kubelet's managed hosts file: localhost lines, then the pod itself.
    public static func hosts(podIP: String, hostname: String) -> String {
        """
        # meshlab-managed hosts file.
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        fe00::0\tip6-localnet
        fe00::0\tip6-mcastprefix
        fe00::1\tip6-allnodes
        fe00::2\tip6-allrouters
        \(podIP)\t\(hostname)

        """
    }
}
