import MeshHTTP
import MeshModel

/// One request on a resource path: the verbs of the apiserver.
struct ResourceRequest {
    let server: APIServer
    let path: APIPath.ResourcePath
    let request: HTTPRequest

    var store: ResourceStore { server.store }

    /// Writes retry this often when another writer got there first between
    /// reading the current object and storing the new one.
    static let maxConflictRetries = 5

    func respond() async throws(StatusObject) -> HTTPResponse {
        let registered = try server.resource(for: path)
        if path.subresource == "scale", let name = path.name { return try await scale(registered, name: name) }
        switch (request.method, path.name) {
        case (.get, nil): return try list(registered)
        case (.get, let name?): return try get(registered, name: name)
        case (.post, nil): return try await create(registered)
        case (.put, let name?): return try await update(registered, name: name)
        case (.patch, let name?): return try await patch(registered, name: name)
        case (.delete, let name?): return try delete(registered, name: name)
        case (.delete, nil): return try deleteCollection(registered)
        default: throw StatusObject.methodNotAllowed(request.method.rawValue)
        }
    }

    // MARK: Reads

    func list(_ registered: RegisteredResource) throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        let selectors = try Selectors(request.head, kind: descriptor.kind)
        let result = store.list(groupResource(descriptor), namespace: path.namespace, selector: selectors.labels)
        let items = result.items.filter { selectors.fields?.matches($0) ?? true }.map { present($0, descriptor) }
        if wantsTable {
            return APIServer.reply(json: TableFormat.table(
                kind: descriptor.kind, objects: items, resourceVersion: result.resourceVersion, now: server.options.now(),
                includeObject: request.head.queryValue("includeObject")))
        }
        return APIServer.reply(json: [
            "kind": .string(descriptor.listKind), "apiVersion": .string(descriptor.apiVersion(path.version)),
            "metadata": ["resourceVersion": .string(result.resourceVersion)], "items": .array(items),
        ])
    }

    func get(_ registered: RegisteredResource, name: String) throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        let object = present(try current(descriptor, name: name), descriptor)
        if wantsTable {
            return APIServer.reply(json: TableFormat.table(
                kind: descriptor.kind, objects: [object], resourceVersion: nil, now: server.options.now(),
                includeObject: request.head.queryValue("includeObject")))
        }
        return APIServer.reply(json: object)
    }

    // MARK: Writes

    func create(_ registered: RegisteredResource) async throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        if descriptor.namespaced && path.namespace == nil { throw StatusObject.methodNotAllowed("POST") }
        var object = try prepare(RequestBody.object(request), descriptor)
        if descriptor.hasStatus { object["status"] = Self.initialStatus(descriptor) }
        var (admitted, warnings) = try admit(object, registered)
        let (mutated, mutationWarnings) = try await mutateThroughWebhooks(admitted, old: nil, registered)
        admitted = mutated
        warnings += mutationWarnings
        let strategy = server.strategies[descriptor]
        try strategy.beforeCreate(&admitted)
        // As in the apiserver, a generated name is made after admission
        // (whose messages name the object by its generateName).
        if admitted["metadata"]?["name"]?.stringValue?.isEmpty ?? true,
            let prefix = admitted["metadata"]?["generateName"]?.stringValue, !prefix.isEmpty
        {
            admitted[path: "metadata.name"] = .string(prefix + NameGenerator.suffix())
        }
        var stored: JSONValue?
        defer { strategy.afterCreate(stored ?? admitted, stored: stored != nil) }
        warnings += try await validateThroughWebhooks(admitted, old: nil, registered)
        if isDryRun { return APIServer.reply(json: present(admitted, descriptor), status: .created, warnings: warnings) }
        do {
            stored = try store.create(groupResource(descriptor), admitted, namespaceMustExist: descriptor.namespaced)
            return APIServer.reply(json: present(stored!, descriptor), status: .created, warnings: warnings)
        } catch {
            throw StatusObject(error, descriptor: descriptor)
        }
    }

    func update(_ registered: RegisteredResource, name: String) async throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        let incoming = try prepare(RequestBody.object(request), descriptor)
        let bodyName = incoming["metadata"]?["name"]?.stringValue ?? ""
        guard bodyName == name else {
            throw StatusObject.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        // The apiserver lets built-in kinds be replaced unconditionally, but
        // not custom resources (Istio's): those must say which version they replace.
        if descriptor.isCustomResource, incoming["metadata"]?["resourceVersion"]?.stringValue?.isEmpty ?? true {
            throw StatusObject.invalid(descriptor, name: name, errors: [
                Diagnostic(.error, at: "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update"),
            ])
        }
        return try await write(registered, name: name) { _ in incoming }
    }

    func patch(_ registered: RegisteredResource, name: String) async throws(StatusObject) -> HTTPResponse {
        try await write(registered, name: name, change: try patchFunction())
    }

    /// The request's patch as a function from the current object to the
    /// patched one. Unless the patch itself names a resourceVersion, the
    /// result carries none, so that a write racing another is retried
    /// rather than refused.
    func patchFunction() throws(StatusObject) -> (JSONValue) throws(StatusObject) -> JSONValue {
        let type = try RequestBody.patchType(request)
        let document = try RequestBody.json(request.body)
        let patch: JSONPatch?
        let pins: Bool
        switch type {
        case .merge:
            patch = nil
            pins = document["metadata"]?["resourceVersion"] != nil
        case .json:
            do throws(JSONPatch.Failure) {
                patch = try JSONPatch(json: document)
            } catch {
                throw StatusObject.badRequest(error.description)
            }
            pins = (document.arrayValue ?? []).contains { $0["path"]?.stringValue == "/metadata/resourceVersion" }
        }
        return { (current) throws(StatusObject) in
            var patched: JSONValue
            if let patch {
                do throws(JSONPatch.Failure) {
                    patched = try patch.apply(to: current)
                } catch {
                    throw StatusObject(code: 422, reason: .invalid, message: error.description)
                }
            } else {
                patched = applyMergePatch(document, to: current)
            }
            if !pins && patched["metadata"]?["resourceVersion"] == current["metadata"]?["resourceVersion"] {
                patched[path: "metadata.resourceVersion"] = nil
            }
            return patched
        }
    }

    func write(_ registered: RegisteredResource, name: String,
               change: (JSONValue) throws(StatusObject) -> JSONValue) async throws(StatusObject) -> HTTPResponse
    {
        let (stored, warnings) = try await writeObject(registered, name: name, change: change)
        return APIServer.reply(json: present(stored, registered.descriptor), warnings: warnings)
    }

    /// Read-modify-write for PUT, PATCH and `/scale`: `change` turns the
    /// current object into the requested one; status and metadata rules and
    /// the kind's strategy are applied, the result admitted and stored if
    /// nobody wrote in between (retried if someone did, unless the request
    /// named the resourceVersion it expects). Returns the stored object
    /// (the admitted one for a dry run) and the warnings.
    func writeObject(_ registered: RegisteredResource, name: String,
                     change: (JSONValue) throws(StatusObject) -> JSONValue) async throws(StatusObject) -> (JSONValue, [String])
    {
        let descriptor = registered.descriptor
        let strategy = server.strategies[descriptor]
        var attempt = 0
        while true {
            attempt += 1
            let current = try current(descriptor, name: name)
            let requested = try prepare(change(present(current, descriptor)), descriptor)
            let pinned = requested["metadata"]?["resourceVersion"]?.stringValue.map { !$0.isEmpty } ?? false
            var merged = mergeForUpdate(requested: requested, current: current, descriptor: descriptor)
            if !pinned { merged[path: "metadata.resourceVersion"] = current["metadata"]?["resourceVersion"] }
            try strategy.beforeUpdate(&merged, old: current)
            var (admitted, warnings) = try admit(merged, registered)
            let (mutated, mutationWarnings) = try await mutateThroughWebhooks(admitted, old: current, registered)
            admitted = mutated
            warnings += mutationWarnings
            try strategy.validateUpdate(&admitted, old: current)
            do throws(StatusObject) {
                warnings += try await validateThroughWebhooks(admitted, old: current, registered)
            } catch {
                strategy.afterUpdate(admitted, old: current, stored: false)
                throw error
            }
            if isDryRun {
                strategy.afterUpdate(admitted, old: current, stored: false)
                return (admitted, warnings)
            }
            do {
                let stored = try store.update(groupResource(descriptor), admitted)
                strategy.afterUpdate(admitted, old: current, stored: true)
                return (stored, warnings)
            } catch .conflict where !pinned && attempt < Self.maxConflictRetries {
                strategy.afterUpdate(admitted, old: current, stored: false)
                continue
            } catch {
                strategy.afterUpdate(admitted, old: current, stored: false)
                throw StatusObject(error, descriptor: descriptor)
            }
        }
    }

    /// What an update may change: the main resource never changes `status`
    /// (for kinds where it is a subresource); `/status` changes only that.
    /// The store keeps uid and creationTimestamp itself.
    func mergeForUpdate(requested: JSONValue, current: JSONValue, descriptor: ResourceDescriptor) -> JSONValue {
        guard descriptor.hasStatus else { return requested }
        if path.subresource == "status" {
            var result = current
            result["status"] = requested["status"]
            result[path: "metadata.resourceVersion"] = requested["metadata"]?["resourceVersion"]
            return result
        }
        var result = requested
        result["status"] = current["status"]
        return result
    }

    func delete(_ registered: RegisteredResource, name: String) throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        if descriptor.kind == "Namespace" && APIServer.protectedNamespaces.contains(name) {
            throw StatusObject(code: 403, reason: .forbidden,
                               message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted",
                               kind: "namespaces", name: name)
        }
        var preconditions = DeletePreconditions()
        if !request.body.isEmpty {
            let options = try RequestBody.json(request.body)
            preconditions.uid = options["preconditions"]?["uid"]?.stringValue
            preconditions.resourceVersion = options["preconditions"]?["resourceVersion"]?.stringValue
        }
        if isDryRun { return APIServer.reply(json: present(try current(descriptor, name: name), descriptor)) }
        do {
            let deleted = try store.delete(key(descriptor, name: name), preconditions: preconditions)
            server.strategies[descriptor].afterDelete(deleted)
            return APIServer.reply(json: present(deleted, descriptor))
        } catch {
            throw StatusObject(error, descriptor: descriptor)
        }
    }

    func deleteCollection(_ registered: RegisteredResource) throws(StatusObject) -> HTTPResponse {
        let descriptor = registered.descriptor
        let selectors = try Selectors(request.head, kind: descriptor.kind)
        let result = store.list(groupResource(descriptor), namespace: path.namespace, selector: selectors.labels)
        var deleted: [JSONValue] = []
        for object in result.items where selectors.fields?.matches(object) ?? true {
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            if descriptor.kind == "Namespace" && APIServer.protectedNamespaces.contains(name) { continue }
            if isDryRun {
                deleted.append(present(object, descriptor))
                continue
            }
            let key = ObjectKey(groupResource(descriptor), namespace: object["metadata"]?["namespace"]?.stringValue ?? "",
                                name: name)
            if let gone = try? store.delete(key) {
                server.strategies[descriptor].afterDelete(gone)
                deleted.append(present(gone, descriptor))
            }
        }
        return APIServer.reply(json: [
            "kind": .string(descriptor.listKind), "apiVersion": .string(descriptor.apiVersion(path.version)),
            "metadata": ["resourceVersion": .string(store.resourceVersion)], "items": .array(deleted),
        ])
    }

    // MARK: Helpers

    func groupResource(_ descriptor: ResourceDescriptor) -> GroupResource {
        GroupResource(group: descriptor.group, resource: descriptor.plural)
    }

    func key(_ descriptor: ResourceDescriptor, name: String) -> ObjectKey {
        ObjectKey(groupResource(descriptor), namespace: path.namespace ?? "", name: name)
    }

    func current(_ descriptor: ResourceDescriptor, name: String) throws(StatusObject) -> JSONValue {
        do {
            return try store.get(key(descriptor, name: name))
        } catch {
            throw StatusObject(error, descriptor: descriptor)
        }
    }

    /// The object as this request's version shows it (Istio's kinds are
    /// stored once and served as v1, v1beta1 and v1alpha3).
    func present(_ object: JSONValue, _ descriptor: ResourceDescriptor) -> JSONValue {
        var object = object
        object["apiVersion"] = .string(descriptor.apiVersion(path.version))
        return object
    }

    /// Checks a body against the path (apiVersion, kind, namespace) and fills
    /// in what the path implies.
    func prepare(_ body: JSONValue, _ descriptor: ResourceDescriptor) throws(StatusObject) -> JSONValue {
        var object = body
        let expectedVersion = descriptor.apiVersion(path.version)
        if let version = object["apiVersion"]?.stringValue, !version.isEmpty, version != expectedVersion {
            guard descriptor.serves(apiVersion: version) else {
                throw StatusObject.badRequest(
                    "the API version in the data (\(version)) does not match the expected API version (\(expectedVersion))")
            }
        }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != descriptor.kind {
            throw StatusObject.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(descriptor.kind))")
        }
        object["apiVersion"] = .string(descriptor.preferredAPIVersion)
        object["kind"] = .string(descriptor.kind)
        if object["metadata"]?.objectValue == nil { object["metadata"] = .object([:]) }
        let bodyNamespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        if descriptor.namespaced {
            if let namespace = path.namespace {
                if !bodyNamespace.isEmpty && bodyNamespace != namespace {
                    throw StatusObject.badRequest(
                        "the namespace of the provided object does not match the namespace sent on the request")
                }
                object[path: "metadata.namespace"] = .string(namespace)
            }
        } else {
            object[path: "metadata.namespace"] = nil
        }
        return object
    }

    /// Decodes, defaults and validates `object` as its kind, with the
    /// request's field validation; returns it normalized, and the warnings.
    func admit(_ object: JSONValue, _ registered: RegisteredResource) throws(StatusObject) -> (JSONValue, [String]) {
        let validation = try fieldValidation()
        let result = registered.check(object, options: CheckOptions(strict: validation == "Strict"))
        let metadata = object["metadata"]
        let name = metadata?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? metadata?["generateName"]?.stringValue ?? ""
        guard let admitted = result.object, result.errors.isEmpty else {
            throw StatusObject.invalid(registered.descriptor, name: name, errors: result.errors)
        }
        let warnings = validation == "Ignore" ? [] : result.warnings.map(\.description)
        return (admitted, warnings)
    }

    /// `fieldValidation`: Strict, Warn (the default here) or Ignore.
    func fieldValidation() throws(StatusObject) -> String {
        let value = request.head.queryValue("fieldValidation") ?? "Warn"
        guard ["Strict", "Warn", "Ignore"].contains(value) else {
            throw StatusObject.badRequest("fieldValidation must be one of Strict, Warn or Ignore, not \"\(value)\"")
        }
        return value
    }

    var isDryRun: Bool { request.head.queryValue("dryRun") == "All" }

    /// kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io`.
    var wantsTable: Bool { (request.headers["accept"] ?? "").contains("as=Table") }

    /// The status a new object starts with, as the apiserver's create strategies set it.
    static func initialStatus(_ descriptor: ResourceDescriptor) -> JSONValue? {
        switch descriptor.kind {
        case "Namespace": ["phase": "Active"]
        case "Pod": ["phase": "Pending"]
        default: nil
        }
    }
}

/// The label and field selectors of a list or watch request.
struct Selectors {
    var labels: LabelSelector
    var fields: FieldSelector?

    init(_ head: HTTPRequestHead, kind: String) throws(StatusObject) {
        labels = .everything
        if let text = head.queryValue("labelSelector"), !text.isEmpty {
            do {
                labels = try LabelSelector(parsing: text)
            } catch {
                throw StatusObject.badRequest("unable to parse labelSelector \"\(text)\": \(error)")
            }
        }
        if let text = head.queryValue("fieldSelector"), !text.isEmpty {
            fields = try FieldSelector(parsing: text, kind: kind)
        }
    }
}

/// Random name suffixes for `generateName`, from the alphabet Kubernetes
/// uses (no vowels, no look-alike digits).
enum NameGenerator {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    static func suffix(length: Int = 5) -> String {
        String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
