import MeshHTTP
import MeshModel

/// The `/scale` subresource (autoscaling/v1 `Scale`): a Deployment's
/// replica count as an object of its own, what `kubectl scale` reads and
/// writes (`PATCH .../deployments/web/scale` with `{"spec":{"replicas":3}}`).
enum ScaleSubresource {
    static func serves(_ descriptor: ResourceDescriptor) -> Bool {
        descriptor.group == "apps" && descriptor.kind == "Deployment"
    }

    /// The Scale of a stored Deployment: its identity, `spec.replicas`, and
    /// in status the replicas it has and its selector in string form.
    static func scale(of deployment: JSONValue) -> JSONValue {
        var metadata = JSONObject()
        for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = deployment["metadata"]?[field] { metadata[field] = value }
        }
        let selector = deployment[path: "spec.selector"]
            .flatMap { ValueCodec.decode(LabelSelectorSpec.self, from: $0).value }?.labelSelector.description ?? ""
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": .int(deployment[path: "spec.replicas"]?.intValue ?? 0)],
            "status": [
                "replicas": .int(deployment[path: "status.replicas"]?.intValue ?? 0), "selector": .string(selector),
            ],
        ]
    }

    /// Checks a Scale a client sent for object `name`; returns its replicas
    /// and the resourceVersion and uid it expects, if it names them.
    static func check(_ body: JSONValue, name: String) throws(StatusObject) -> (replicas: Int, resourceVersion: String?, uid: String?) {
        if let version = body["apiVersion"]?.stringValue, !version.isEmpty, version != "autoscaling/v1" {
            throw StatusObject.badRequest(
                "the API version in the data (\(version)) does not match the expected API version (autoscaling/v1)")
        }
        if let kind = body["kind"]?.stringValue, !kind.isEmpty, kind != "Scale" {
            throw StatusObject.badRequest("the kind in the data (\(kind)) does not match the expected kind (Scale)")
        }
        let bodyName = body["metadata"]?["name"]?.stringValue ?? ""
        guard bodyName == name else {
            throw StatusObject.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let result = ResourceCodec.check(Scale.self, body, options: CheckOptions())
        guard result.errors.isEmpty, let checked = result.object else {
            throw StatusObject.invalid(Scale.descriptor, name: name, errors: result.errors)
        }
        let metadata = checked["metadata"]
        return (checked[path: "spec.replicas"]?.intValue ?? 0,
                metadata?["resourceVersion"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                metadata?["uid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }
}

extension ResourceRequest {
    /// GET, PUT and PATCH on `.../deployments/{name}/scale`.
    func scale(_ registered: RegisteredResource, name: String) async throws(StatusObject) -> HTTPResponse {
        switch request.method {
        case .get:
            return APIServer.reply(json: ScaleSubresource.scale(of: try current(registered.descriptor, name: name)))
        case .put:
            let body = try RequestBody.object(request)
            return try await updateScale(registered, name: name) { _ in body }
        case .patch:
            return try await updateScale(registered, name: name, change: try patchFunction())
        default:
            throw StatusObject.methodNotAllowed(request.method.rawValue)
        }
    }

    /// Applies `change` to the current Scale and writes the replicas it asks
    /// for to the Deployment (pinned to the Scale's resourceVersion when it
    /// names one, as the apiserver copies it over).
    private func updateScale(_ registered: RegisteredResource, name: String,
                             change: (JSONValue) throws(StatusObject) -> JSONValue) async throws(StatusObject) -> HTTPResponse
    {
        let descriptor = registered.descriptor
        let (stored, warnings) = try await writeObject(registered, name: name) { (deployment) throws(StatusObject) in
            let wanted = try ScaleSubresource.check(change(ScaleSubresource.scale(of: deployment)), name: name)
            let uid = deployment["metadata"]?["uid"]?.stringValue ?? ""
            if let expected = wanted.uid, expected != uid {
                throw StatusObject(StoreError.conflict(
                    GroupResource(group: descriptor.group, resource: descriptor.plural), name: name,
                    currentResourceVersion: deployment["metadata"]?["resourceVersion"]?.stringValue ?? "",
                    reason: "Precondition failed: UID in precondition: \(expected), UID in object meta: \(uid)"),
                                   descriptor: descriptor)
            }
            var updated = deployment
            updated[path: "spec.replicas"] = .int(wanted.replicas)
            updated[path: "metadata.resourceVersion"] = wanted.resourceVersion.map(JSONValue.string)
            return updated
        }
        return APIServer.reply(json: ScaleSubresource.scale(of: stored), warnings: warnings)
    }
}
