import MeshHTTP
import MeshIO
import MeshSystem

/// Plain HTTP/1.1 calls from one app to another by service name
/// (`GET http://details:9080/details/0`), over kept-alive pooled connections.
///
/// `timeout` bounds the connect and every wait for response bytes, as the `timeout`
/// of Python's requests (productpage) and the connection and receive timeouts of the
/// Java client (reviews) do: it is not a deadline for the whole exchange.
public final class ServiceClient: Sendable {
    public let resolver: HostResolver
    public let timeout: Duration
    private let pool: HTTPConnectionPool

    public init(resolver: HostResolver, group: EventLoopGroup, timeout: Duration) {
        self.resolver = resolver
        self.timeout = timeout
        let configuration = HTTPPoolConfiguration(
            maxIdlePerDestination: 8, client: HTTPClientConfiguration(readTimeout: timeout, writeTimeout: timeout))
        self.pool = HTTPConnectionPool(configuration: configuration) { destination in
            let addresses = try await resolver.resolve(destination.host)
            var lastError: (any Error)?
            for address in addresses {
                do {
                    return try await SocketConnection.connect(
                        to: .ipv4(address, port: UInt16(destination.port)), timeout: timeout, on: group.next())
                } catch {
                    lastError = error
                }
            }
            throw lastError ?? ResolveError.notFound(destination.host)
        }
    }

    /// `GET http://host:port/path` with `headers` (Host is added).
    public func get(host: String, port: Int, path: String, headers: HTTPHeaders = HTTPHeaders()) async throws -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        let request = HTTPRequest(method: .get, target: path, headers: headers)
        return try await pool.send(request, to: HTTPDestination(host: host, port: port))
    }

    /// Closes idle connections (when the app stops).
    public func shutdown() async {
        await pool.shutdown()
    }
}
