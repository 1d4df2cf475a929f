import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// The running lab's API, over the unix socket in the state directory (which
/// works from any network namespace). One connection per request: the CLI
/// makes few.
public struct DaemonTransport: APITransport {
    public let socketPath: String

    /// Fails with a clear line when the lab is not up.
    public init(stateDirectory: String) throws {
        socketPath = stateDirectory + "/api.sock"
        var info = stat()
        guard stat(socketPath, &info) == 0 else {
            throw LabNotUp(stateDirectory: stateDirectory)
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let connection: SocketConnection
        do {
            connection = try await SocketConnection.connect(
                to: .unix(path: socketPath), timeout: .seconds(5), on: EventLoopGroup.shared.next())
        } catch {
            throw LabNotUp(stateDirectory: String(socketPath.dropLast("/api.sock".count)), detail: "\(error)")
        }
        let client = HTTPClientConnection(stream: connection)
        defer { Task { await connection.close() } }
        var request = request
        request.head.headers.replaceOrAdd(name: "Host", value: "meshlab")
        return try await client.send(request)
    }
}

/// The lab is not running (or its socket is stale).
public struct LabNotUp: Error, CustomStringConvertible {
    public var stateDirectory: String
    public var detail: String?
    public var description: String {
        "meshlab is not up (no API at \(stateDirectory)/api.sock\(detail.map { ": " + $0 } ?? "")): run 'meshlab up'"
    }
}

#if canImport(Glibc)
import Glibc
#endif
