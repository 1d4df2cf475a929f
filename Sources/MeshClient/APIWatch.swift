import MeshHTTP
import MeshModel

/// One event of a watch stream: ADDED, MODIFIED, DELETED, or ERROR (whose
/// object is a `Status`; a 410 means: list again and watch from there).
public struct APIWatchEvent: Sendable, Equatable {
    public var type: String
    public var object: JSONValue

    public init(type: String, object: JSONValue) {
        self.type = type
        self.object = object
    }
}

extension APIClient {
    /// How long a watch may stay quiet: a watch on objects that rarely
    /// change sends nothing for long stretches, and the server itself ends
    /// watches before this (see the API's watch timeout), so a reader never
    /// gives up on a healthy stream.
    public static let watchReadTimeout: Duration = .seconds(3 * 3600)

    /// Watches a collection (`path` without the `watch` parameter, with any
    /// others such as `labelSelector` or `resourceVersion`). The stream ends
    /// when the server ends the watch; stopping iteration closes the connection.
    public func watch(_ path: String) -> AsyncThrowingStream<APIWatchEvent, any Error> {
        let target = path + (path.contains("?") ? "&" : "?") + "watch=true"
        let transport = self.transport
        return AsyncThrowingStream { continuation in
            let task = Task {
                var connection: HTTPClientConnection?
                do {
                    let http = try await transport.connect(readTimeout: Self.watchReadTimeout)
                    connection = http
                    try await http.writeRequestHead(
                        HTTPRequestHead(method: .get, target: target,
                                        headers: ["Host": "meshlab", "Accept": "application/json"]),
                        bodyLength: 0)
                    try await http.finishRequest()
                    let head = try await http.readResponseHead()
                    if head.status.code != 200 {
                        var body: [UInt8] = []
                        while let chunk = try await http.readResponseBody() { body += chunk }
                        let json = try? JSONValue(parsing: body)
                        throw json.flatMap(StatusObject.init(json:))
                            ?? StatusObject(code: head.status.code, reason: .internalError,
                                            message: String(decoding: body, as: UTF8.self))
                    }
                    var pending: [UInt8] = []
                    while let chunk = try await http.readResponseBody() {
                        pending += chunk
                        while let newline = pending.firstIndex(of: 0x0A) {
                            let line = Array(pending[..<newline])
                            pending.removeSubrange(...newline)
                            guard !line.isEmpty else { continue }
                            let event = try JSONValue(parsing: line)
                            continuation.yield(APIWatchEvent(
                                type: event["type"]?.stringValue ?? "", object: event["object"] ?? .null))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
                await connection?.close()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
