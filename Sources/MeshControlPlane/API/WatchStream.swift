import MeshHTTP
import MeshModel

/// What a `?watch=true` request asks for.
struct WatchPlan: Sendable {
    var descriptor: ResourceDescriptor
    var version: String
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector?
    var resourceVersion: String
    var timeoutSeconds: Int?
}

extension APIServer {
    /// nil when `head` is not a watch; otherwise the plan or the Status that refuses it.
    func watchRequest(_ head: HTTPRequestHead) -> Result<WatchPlan, StatusObject>? {
        let flag = head.queryValue("watch")
        guard flag == "true" || flag == "1", case .resource(let path)? = APIPath(String(head.path)) else { return nil }
        do throws(StatusObject) {
            let registered = try resource(for: path)
            let descriptor = registered.descriptor
            var selectors = try Selectors(head, kind: descriptor.kind)
            if let name = path.name {
                // GET .../pods/web?watch=true watches one object, as fieldSelector=metadata.name=web would.
                var fields = try FieldSelector(parsing: "", kind: descriptor.kind)
                if let given = selectors.fields { fields = given }
                fields.requirements.append(.init(field: "metadata.name", value: name, equal: true))
                selectors.fields = fields
            }
            var timeout: Int?
            if let text = head.queryValue("timeoutSeconds") {
                guard let seconds = Int(text), seconds >= 0 else {
                    throw StatusObject.badRequest("timeoutSeconds must be a non-negative integer, not \"\(text)\"")
                }
                timeout = seconds
            }
            return .success(WatchPlan(
                descriptor: descriptor, version: path.version, namespace: path.namespace, labels: selectors.labels,
                fields: selectors.fields, resourceVersion: head.queryValue("resourceVersion") ?? "",
                timeoutSeconds: timeout))
        } catch {
            return .failure(error)
        }
    }

    /// Streams watch events as newline-delimited JSON in a chunked response,
    /// until the client goes away, `timeoutSeconds` passes, or the store ends
    /// the watch (an overflowing or expired watch gets a final ERROR event
    /// carrying a 410 Status, as the apiserver sends, so clients re-list).
    func streamWatch(_ plan: WatchPlan, request: HTTPServerRequest, response: HTTPResponseWriter) async throws {
        let resource = GroupResource(group: plan.descriptor.group, resource: plan.descriptor.plural)
        let apiVersion = plan.descriptor.apiVersion(plan.version)
        let head = HTTPResponseHead(status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-cache"])
        let watch: StoreWatch
        do {
            watch = try store.watch(resource, namespace: plan.namespace, selector: plan.labels,
                                    resourceVersion: plan.resourceVersion)
        } catch .expired {
            try await response.writeHead(head)
            try await response.writeBody(Self.eventLine(type: "ERROR", object: StatusObject(
                code: 410, reason: .expired, message: "too old resource version: \(plan.resourceVersion)").json))
            return try await response.finish()
        } catch {
            return try await response.send(Self.reply(StatusObject(error, descriptor: plan.descriptor)))
        }
        try await response.writeHead(head)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await event in watch {
                        if let fields = plan.fields, !fields.matches(event.object) { continue }
                        var object = event.object
                        object["apiVersion"] = .string(apiVersion)
                        try await response.writeBody(Self.eventLine(type: event.type.rawValue, object: object))
                    }
                } catch let error as StoreError {
                    let status = StatusObject(error, descriptor: plan.descriptor)
                    try? await response.writeBody(Self.eventLine(type: "ERROR", object: status.json))
                } catch {
                    // The client went away mid-write; nothing left to tell it.
                }
            }
            group.addTask { await request.waitForDisconnect() }
            if let seconds = plan.timeoutSeconds {
                group.addTask { try? await Task.sleep(for: .seconds(seconds)) }
            }
            await group.next()
            watch.cancel()
            group.cancelAll()
        }
        try? await response.finish()
    }

    static func eventLine(type: String, object: JSONValue) -> [UInt8] {
        let event: JSONValue = ["type": .string(type), "object": object]
        return event.serializedBytes() + [0x0A]
    }
}
