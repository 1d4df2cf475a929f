import MeshClient
import MeshHTTP
import MeshModel
import Synchronization

/// Just enough of the API for the service proxy: lists and watches of
/// Services and Endpoints, driven by the test (`put`, `delete`), served by
/// the real HTTP server and client over an in-memory stream.
final class FakeServiceAPI: Sendable {
    private struct State {
        var objects: [String: [String: JSONValue]] = ["services": [:], "endpoints": [:]]
        var revision = 1
        var watchers: [String: [AsyncStream<[UInt8]>.Continuation]] = [:]
        /// Every event, so a watch from a resourceVersion gets what came after it.
        var history: [(revision: Int, plural: String, line: [UInt8])] = []
        var lists = 0
    }

    private let state = Mutex(State())

    var client: APIClient {
        APIClient(transport: InProcessTransport(handler: HTTPStreamingHandler { [self] request, response in
            try await handle(request, response)
        }))
    }

    /// How many lists were answered (a watch restarts with one).
    var listCount: Int { state.withLock { $0.lists } }

    /// Adds or replaces an object (`services` or `endpoints`) and tells the watchers.
    func put(_ plural: String, _ object: JSONValue) {
        let name = "\(object["metadata"]?["namespace"]?.stringValue ?? "")/\(object["metadata"]?["name"]?.stringValue ?? "")"
        notify(plural) { state in
            let type = state.objects[plural]?[name] == nil ? "ADDED" : "MODIFIED"
            state.objects[plural]?[name] = object
            return (type, object)
        }
    }

    func delete(_ plural: String, namespace: String, name: String) {
        notify(plural) { state in
            guard let old = state.objects[plural]?.removeValue(forKey: "\(namespace)/\(name)") else { return nil }
            return ("DELETED", old)
        }
    }

    /// Ends every watch with an ERROR event (410 Gone), as the apiserver does
    /// when a watch falls too far behind.
    func expireWatches() {
        let watchers = state.withLock { state in
            defer { state.watchers = [:] }
            return state.watchers.values.flatMap { $0 }
        }
        let event: JSONValue = ["type": "ERROR", "object": ["kind": "Status", "code": 410, "reason": "Expired"]]
        for watcher in watchers {
            watcher.yield(event.serializedBytes() + [0x0A])
        }
    }

    private func notify(_ plural: String, _ change: (inout State) -> (String, JSONValue)?) {
        let (line, watchers) = state.withLock { state -> ([UInt8]?, [AsyncStream<[UInt8]>.Continuation]) in
            guard let (type, changed) = change(&state) else { return (nil, []) }
            var object = changed
            state.revision += 1
            if case .object(var fields) = object, case .object(var metadata)? = fields["metadata"] {
                metadata["resourceVersion"] = .string(String(state.revision))
                fields["metadata"] = .object(metadata)
                object = .object(fields)
            }
            let event: JSONValue = ["type": .string(type), "object": object]
            let line = event.serializedBytes() + [0x0A]
            state.history.append((state.revision, plural, line))
            return (line, state.watchers[plural] ?? [])
        }
        guard let line else { return }
        for watcher in watchers { watcher.yield(line) }
    }

    private func handle(_ request: HTTPServerRequest, _ response: HTTPResponseWriter) async throws {


        let plural = request.path.hasSuffix("/services") ? "services" : "endpoints"
        if request.head.queryValue("watch") == "true" {
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            let since = Int(request.head.queryValue("resourceVersion") ?? "") ?? Int.max
            state.withLock { state in
                for event in state.history where event.plural == plural && event.revision > since { continuation.yield(event.line) }
                state.watchers[plural, default: []].append(continuation)
            }
            try await response.writeHead(HTTPResponseHead(status: .ok, headers: ["Content-Type": "application/json"]))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await line in stream { try? await response.writeBody(line) }
                }
                group.addTask { await request.waitForDisconnect() }
                await group.next()
                group.cancelAll()
                continuation.finish()
            }
            return
        }
        let body = state.withLock { state -> JSONValue in
            state.lists += 1
            let items = (state.objects[plural] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            return ["kind": "List", "metadata": ["resourceVersion": .string(String(state.revision))], "items": .array(items)]
        }
        try await response.send(HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"],
                                             body: body.serializedBytes()))
    }

    static func service(_ name: String, clusterIP: String, port: Int, targetPort: JSONValue, portName: String = "http",
                        namespace: String = "default") -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": .string(namespace), "name": .string(name)],
         "spec": ["clusterIP": .string(clusterIP),
                  "ports": [["name": .string(portName), "port": .int(port), "targetPort": targetPort]]]]
    }

    static func endpoints(_ name: String, ips: [String], port: Int, portName: String = "http",
                          namespace: String = "default") -> JSONValue {
        let subsets: JSONValue = ips.isEmpty ? [] : [[
            "addresses": .array(ips.map { ["ip": .string($0)] }),
            "ports": [["name": .string(portName), "port": .int(port)]],
        ]]
        return ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["namespace": .string(namespace), "name": .string(name)],
                "subsets": subsets]
    }
}
