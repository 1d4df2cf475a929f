import MeshModel

/// Keeps each Deployment's pods as its spec says (see `DeploymentReconciler`)
/// and writes its status. Pods are created and deleted through the API;
/// each step is told in Events on the Deployment, as the deployment and
/// ReplicaSet controllers tell it (`ScalingReplicaSet`, `SuccessfulCreate`,
/// `SuccessfulDelete`, `FailedCreate`).
struct DeploymentController: Controller {
    let api: LocalAPI
    let recorder: EventRecorder
    let now: @Sendable () -> Int
    let log: @Sendable (String) -> Void

    static let deployments = GroupResource(group: "apps", resource: "deployments")
    static let pods = GroupResource(resource: "pods")

    var name: String { "deployment" }
    var watches: [GroupResource] { [Self.deployments, Self.pods] }
    var store: ResourceStore { api.store }

    func keys(for event: WatchEvent, of resource: GroupResource) -> [ObjectKey] {
        let metadata = event.object["metadata"]
        let namespace = metadata?["namespace"]?.stringValue ?? ""
        if resource == Self.deployments {
            return [ObjectKey(resource, namespace: namespace, name: metadata?["name"]?.stringValue ?? "")]
        }
        guard let owner = Self.controllerOwner(event.object), owner.kind == "Deployment", owner.apiVersion == "apps/v1"
        else { return [] }
        return [ObjectKey(Self.deployments, namespace: namespace, name: owner.name)]
    }

    /// The owner reference marked `controller: true`.
    static func controllerOwner(_ object: JSONValue) -> OwnerReference? {
        GarbageCollection.owners(of: object).first { $0.controller == true }
    }

    func sync(_ key: ObjectKey) async throws -> Int? {
        guard let object = try? store.get(key) else { return nil }
        let deployment: Deployment
        do {
            deployment = try ResourceCodec.decode(Deployment.self, from: object)
        } catch {
            log("deployment \(key): cannot read it: \(error)")
            return nil
        }
        let uid = deployment.metadata.uid ?? ""
        var pods: [Pod] = store.list(Self.pods, namespace: key.namespace).items.compactMap { pod in
            guard Self.controllerOwner(pod)?.uid == uid else { return nil }
            return try? ResourceCodec.decode(Pod.self, from: pod)
        }
        let time = now()
        let plan = DeploymentReconciler.plan(deployment, pods: pods, now: time)
        for scaling in plan.scalings {
            await recorder.record(object, reason: "ScalingReplicaSet", message: scaling.message)
        }

        var firstError: StatusObject?
        for pod in plan.deletes {
            let podName = pod.metadata.name ?? ""
            do throws(StatusObject) {
                try await api.delete(Pod.descriptor, namespace: key.namespace, name: podName, uid: pod.metadata.uid)
                pods.removeAll { $0.metadata.name == podName }
                await recorder.record(object, reason: "SuccessfulDelete", message: "Deleted pod: \(podName)")
            } catch {
                await recorder.record(object, type: Event.warning, reason: "FailedDelete", message: "Error deleting: \(error.message)")
                firstError = firstError ?? error
            }
        }
        var failure: DeploymentReconciler.CreateFailure?
        var created = 0
        for (index, pod) in plan.creates.enumerated() {
            do throws(StatusObject) {
                let stored = try await api.create(Pod.descriptor, ResourceCodec.encode(pod))
                pods.append((try? ResourceCodec.decode(Pod.self, from: stored)) ?? pod)
                created += 1
                let name = stored["metadata"]?["name"]?.stringValue ?? ""
                await recorder.record(object, reason: "SuccessfulCreate", message: "Created pod: \(name)")
            } catch {
                // As the ReplicaSet controller does, stop at the first failure: the rest would fail alike.
                await recorder.record(object, type: Event.warning, reason: "FailedCreate", message: "Error creating: \(error.message)")
                failure = .init(count: plan.creates.count - index, message: error.message)
                firstError = firstError ?? error
                break
            }
        }

        let (status, again) = DeploymentReconciler.status(
            deployment, pods: pods, startsNewPodSet: plan.startsNewPodSet && created > 0, failure: failure, now: time)
        if status != deployment.status {
            var updated = object
            updated["status"] = ValueCodec.encode(status)
            try await api.updateStatus(Deployment.descriptor, updated)
        }
        if let firstError { throw firstError }
        return again
    }
}
