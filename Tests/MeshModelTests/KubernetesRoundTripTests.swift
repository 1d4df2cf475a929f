import MeshModel
import Testing

@Suite struct KubernetesRoundTripTests {
    /// A pod as `kubectl get -o json` shows it from a cluster: server-set
    /// metadata, a status with container states. It must read without a
    /// diagnostic and write back the same.
    static let livePod = """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "reviews-v1-5b6f9d7c4-x2x8q", "generateName": "reviews-v1-5b6f9d7c4-", "namespace": "default",
           "uid": "0d9e4c64-5f1b-4f6e-9d1c-2a3b4c5d6e7f", "resourceVersion": "123456", "creationTimestamp": "2024-05-01T10:00:00Z",
           "labels": {"app": "reviews", "pod-template-hash": "5b6f9d7c4", "version": "v1"},
           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-v1-5b6f9d7c4",
             "uid": "11111111-2222-3333-4444-555555555555", "controller": true, "blockOwnerDeletion": true}],
           "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
             "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]},
         "spec": {"containers": [{"name": "reviews", "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2",
             "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 9080, "protocol": "TCP"}],
             "env": [{"name": "LOG_DIR", "value": "/tmp/logs"}],
             "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
             "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
               {"name": "kube-api-access-abcde", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}],
           "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "nodeName": "kind-control-plane",
           "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": "Always",
           "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": "bookinfo-reviews",
           "serviceAccountName": "bookinfo-reviews", "terminationGracePeriodSeconds": 30,
           "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}],
           "volumes": [{"name": "tmp", "emptyDir": {}},
             {"name": "kube-api-access-abcde", "projected": {"defaultMode": 420, "sources": [
               {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
               {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
               {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]},
         "status": {"phase": "Running",
           "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:05Z"}],
           "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}], "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
           "startTime": "2024-05-01T10:00:00Z", "qosClass": "BestEffort",
           "containerStatuses": [{"name": "reviews", "ready": true, "started": true, "restartCount": 1,
             "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2", "imageID": "docker.io/istio/examples-bookinfo-reviews-v1@sha256:abc",
             "containerID": "containerd://deadbeef",
             "state": {"running": {"startedAt": "2024-05-01T10:00:04Z"}},
             "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": "2024-05-01T10:00:01Z",
               "finishedAt": "2024-05-01T10:00:03Z", "containerID": "containerd://cafe"}}}]}}
        """

    @Test func readsALivePodWithItsStatus() throws {
        let object = try JSONValue(parsing: Self.livePod)
        let result = ResourceCodec.check(Pod.self, object, options: CheckOptions(strict: true))
        #expect(result.diagnostics.map(\.description) == [])
        let pod = try ResourceCodec.decode(Pod.self, from: object)
        let status = try #require(pod.status?.containerStatuses?.first)
        #expect(status.state?.running?.startedAt == "2024-05-01T10:00:04Z")
        #expect(status.lastState?.terminated?.exitCode == 137)
        #expect(status.restartCount == 1)
        #expect(pod.status?.conditions?.first?.status == .true)
        #expect(pod.metadata.ownerReferences?.first?.controller == true)
        // Everything in it is modelled, so writing it back gives the same object (nulls read as absent).
        #expect(ResourceCodec.encode(pod) == Self.withoutNulls(object))
    }

    /// Checking a checked object changes nothing: defaulting is idempotent and
    /// the encoder writes back everything the decoder read.
    @Test(.enabled(if: KubernetesManifests.available, "needs ../shared/istio beside the repository"),
          arguments: KubernetesSampleTests.samples)
    func checkIsIdempotent(file: String) throws {
        for document in try KubernetesManifests.documents(file) {
            guard let once = KubernetesManifests.check(document)?.object else { continue }
            let twice = KubernetesManifests.check(once)
            #expect(twice?.diagnostics.map(\.description) == [])
            #expect(twice?.object == once)
            #expect(twice?.object?.serialized() == once.serialized())
        }
    }

    /// Without defaulting, decode then encode returns the manifest itself
    /// (same members, same values), for every sample.
    @Test(.enabled(if: KubernetesManifests.available, "needs ../shared/istio beside the repository"),
          arguments: KubernetesSampleTests.samples)
    func decodeEncodeReturnsTheManifest(file: String) throws {
        for document in try KubernetesManifests.documents(file) {
            guard let kind = document["kind"]?.stringValue else { continue }
            let back: JSONValue? =
                switch kind {
                case "Deployment": ResourceCodec.encode(try ResourceCodec.decode(Deployment.self, from: document))
                case "Service": ResourceCodec.encode(try ResourceCodec.decode(Service.self, from: document))
                case "ServiceAccount": ResourceCodec.encode(try ResourceCodec.decode(ServiceAccount.self, from: document))
                default: nil
                }
            guard let back else { continue }
            #expect(back == Self.withoutNulls(document), "\(file): \(kind)")
        }
    }

    /// The manifest as the codec reads it: `null` members are absent.
    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(object.pairs.filter { !$0.value.isNull }.map { ($0.key, withoutNulls($0.value)) }))
        case .array(let elements): return .array(elements.map(withoutNulls))
        default: return value
        }
    }
}
