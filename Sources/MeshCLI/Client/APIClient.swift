import MeshControlPlane
import MeshHTTP
import MeshModel

/// How the CLI reaches the API: the daemon's unix socket, or (in tests) an
/// API server in the same process.
public protocol APITransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// An API server in this process: commands tested without a daemon or sockets.
public struct InProcessTransport: APITransport {
    public let server: APIServer
    public init(server: APIServer) { self.server = server }
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse { await server.respond(to: request) }
}

/// The few Kubernetes API calls the CLI makes, with failures as `StatusObject`s.
public struct APIClient: Sendable {
    public let transport: any APITransport

    public init(transport: any APITransport) { self.transport = transport }

    public struct Reply: Sendable {
        public var object: JSONValue
        /// The apiserver's `Warning` headers, unquoted.
        public var warnings: [String]
    }

    public func get(_ path: String) async throws -> JSONValue {
        try await call(.get, path).object
    }

    @discardableResult
    public func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil,
                     contentType: String = "application/json") async throws -> Reply {
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": "meshlab/\(MeshlabVersion.version)"]
        if body != nil { headers.add(name: "Content-Type", value: contentType) }
        let request = HTTPRequest(method: method, target: path, headers: headers, body: body?.serializedBytes() ?? [])
        let response = try await transport.send(request)
        let object: JSONValue
        do {
            object = try JSONValue(parsing: response.body)
        } catch {
            if (200..<300).contains(response.status.code) {
                throw StatusObject.internalError("the API answered \(path) with something that is not JSON: \(error)")
            }
            throw StatusObject(code: response.status.code, reason: .internalError,
                               message: "the API answered \(response.status) for \(path): \(response.bodyText)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw StatusObject(json: object)
                ?? StatusObject(code: response.status.code, reason: .internalError, message: response.bodyText)
        }
        let warnings = response.headers.values(for: "warning").map(Self.warningText)
        return Reply(object: object, warnings: warnings)
    }

    /// `299 - "text"` → `text`.
    static func warningText(_ header: String) -> String {
        guard let quote = header.firstIndex(of: "\""),
            let value = try? JSONValue(parsing: String(header[quote...])), let text = value.stringValue
        else { return header }
        return text
    }

    /// The path of a collection or object, with query items encoded.
    public static func path(_ descriptor: ResourceDescriptor, namespace: String?, name: String? = nil,
                            query: [(String, String)] = []) -> String {
        var path = APIPath.collection(descriptor, namespace: descriptor.namespaced ? namespace : nil)
        if let name { path += "/" + percentEncoded(name) }
        if !query.isEmpty {
            path += "?" + query.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
        }
        return path
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

extension ResourceDescriptor {
    /// How kubectl names objects of this kind in messages: `deployment.apps`,
    /// `virtualservice.networking.istio.io`, `configmap`.
    var cliName: String { group.isEmpty ? singular : "\(singular).\(group)" }
}
