/// The push stream on the wire, shared by meshd (MeshControlPlane/Push) and
/// the sidecar's client (MeshProxy/Discovery): xDS state of the world over
/// one plain TCP connection to meshd's port 15010 (istiod's plaintext
/// `grpc-xds` port; TLS on 15012 comes with the CA).
///
/// 1. Handshake, an ordinary HTTP/1.1 upgrade, so that anything else that
///    connects (curl, a browser, a port scanner) gets a readable HTTP answer
///    instead of a hang:
///
///        GET /xds HTTP/1.1            HTTP/1.1 101 Switching Protocols
///        Host: istiod...:15010        Upgrade: meshlab-xds/1
///        Connection: Upgrade          Connection: Upgrade
///        Upgrade: meshlab-xds/1
///
/// 2. Then both directions carry JSON lines: each message is one compact JSON
///    object (a `DiscoveryRequest` from the sidecar, a `DiscoveryResponse` from
///    meshd) followed by `\n`. Compact JSON escapes every control character,
///    so a message never contains a raw newline; a reader splits on `\n`
///    whatever the TCP segmentation was (`DiscoveryFrameDecoder`). A line
///    longer than the limit, or one that is not a JSON object, ends the
///    stream: the reader logs why and closes (it does not try to resync).
///
/// JSON lines rather than length prefixes: a stream can be read with `nc`,
/// and garbage shows up as a parse error that names what arrived, not as an
/// absurd length.
public enum DiscoveryWire {
    /// The handshake's request target.
    public static let path = "/xds"
    /// The `Upgrade` token; the `/1` changes if the framing ever does.
    public static let upgradeToken = "meshlab-xds/1"
    /// meshd's plaintext push port (istiod's `grpc-xds`).
    public static let plaintextPort = 15010
    /// istiod's TLS push port, which PROXY_CONFIG names (issue 5 serves it).
    public static let tlsPort = 15012
    /// The largest message either side accepts by default: a whole mesh's
    /// clusters fit in far less, and a peer sending more is broken.
    public static let defaultMaxMessageBytes = 16 << 20

    /// One message as it goes on the wire: compact JSON and a newline.
    public static func frame(_ message: some Encodable) -> [UInt8] {
        frame(json: ValueCodec.encode(message))
    }

    /// A response, built directly: its resources are JSON already, and walking
    /// them through the Codable encoder was most of the cost of a push.
    public static func frame(_ response: DiscoveryResponse) -> [UInt8] {
        var object: JSONObject = [
            "version_info": .string(response.versionInfo), "resources": .array(response.resources),
            "type_url": .string(response.typeURL), "nonce": .string(response.nonce),
        ]
        if let controlPlane = response.controlPlane { object["control_plane"] = .string(controlPlane) }
        return frame(json: .object(object))
    }

    /// A response whose resources are already serialized (`encodedResources`:
    /// the compact JSON array of `response.resources`), so that one set of
    /// resources sent to many proxies is serialized once.
    public static func frame(_ response: DiscoveryResponse, encodedResources: [UInt8]) -> [UInt8] {
        var text = "{\"version_info\":"
        JSONValue.writeQuoted(response.versionInfo, to: &text)
        text += ",\"type_url\":"
        JSONValue.writeQuoted(response.typeURL, to: &text)
        text += ",\"nonce\":"
        JSONValue.writeQuoted(response.nonce, to: &text)
        if let controlPlane = response.controlPlane {
            text += ",\"control_plane\":"
            JSONValue.writeQuoted(controlPlane, to: &text)
        }
        text += ",\"resources\":"
        var bytes = Array(text.utf8)
        bytes.reserveCapacity(bytes.count + encodedResources.count + 2)
        bytes += encodedResources
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func frame(json: JSONValue) -> [UInt8] {
        var bytes = json.serializedBytes(.compact)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}

/// Why a push stream's bytes were refused.
public enum DiscoveryFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line grew past the limit without ending.
    case tooLarge(limit: Int)
    /// A line that is not JSON (or not an object); `excerpt` is its start, for the log.
    case notJSON(excerpt: String, reason: String)
    /// JSON that is not the expected message; `reason` names the field.
    case badMessage(reason: String)

    public var description: String {
        switch self {
        case .tooLarge(let limit): "a message longer than \(limit) bytes"
        case .notJSON(let excerpt, let reason): "not a JSON message (\(reason)): \(excerpt)"
        case .badMessage(let reason): "not a discovery message: \(reason)"
        }
    }
}

/// Splits the bytes of a push stream into messages: feed what arrives with
/// `append`, then take messages with `next()` until it returns nil. A pure
/// state machine, so partial reads, several messages per read and garbage
/// are tested without sockets.
public struct DiscoveryFrameDecoder: Sendable {
    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where to resume looking for `\n` (bytes before it have none).
    private var scanIndex = 0

    public init(maxMessageBytes: Int = DiscoveryWire.defaultMaxMessageBytes) {
        self.maxMessageBytes = maxMessageBytes
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet returned as a message.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// The next whole message, or nil when more bytes are needed. Blank lines
    /// are skipped. After an error the stream is unusable: close it.
    public mutating func next() throws(DiscoveryFrameError) -> JSONValue? {
        while true {
            guard let end = buffer[scanIndex...].firstIndex(of: UInt8(ascii: "\n")) else {
                scanIndex = buffer.count
                if buffer.count - readIndex > maxMessageBytes { throw .tooLarge(limit: maxMessageBytes) }
                compactIfWorthIt()
                return nil
            }
            let line = buffer[readIndex..<end]
            readIndex = end + 1
            scanIndex = readIndex
            if line.count > maxMessageBytes { throw .tooLarge(limit: maxMessageBytes) }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: line)
            } catch {
                throw .notJSON(excerpt: Self.excerpt(line), reason: error.message)
            }
            guard value.objectValue != nil else {
                throw .notJSON(excerpt: Self.excerpt(line), reason: "a JSON \(value.typeName), not an object")
            }
            return value
        }
    }

    /// Drops consumed bytes once they are the larger part of the buffer.
    private mutating func compactIfWorthIt() {
        guard readIndex > 4096 && readIndex * 2 > buffer.count else { return }
        buffer.removeFirst(readIndex)
        scanIndex -= readIndex
        readIndex = 0
    }

    /// The start of a bad line, printable, for a log line.
    static func excerpt(_ line: some Collection<UInt8>) -> String {
        let text = String(decoding: line.prefix(60), as: UTF8.self)
        let printable = String(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "." })
        return "\"" + printable + (line.count > 60 ? "...\"" : "\"")
    }

    /// The next message decoded as `T` (a `DiscoveryRequest` or `DiscoveryResponse`).
    public mutating func next<T: Decodable>(_ type: T.Type) throws(DiscoveryFrameError) -> T? {
        guard let value = try next() else { return nil }
        return try Self.decode(type, from: value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(DiscoveryFrameError) -> T {
        if T.self == DiscoveryResponse.self, let response = fastResponse(value) { return response as! T }
        let decoded = ValueCodec.decode(type, from: value)
        guard let message = decoded.value else {
            let reason = decoded.diagnostics.first { $0.severity == .error }.map { "\($0)" } ?? "cannot be decoded"
            throw .badMessage(reason: reason)
        }
        return message
    }
}

extension DiscoveryFrameDecoder {
    /// A well-formed response read directly (its resources stay JSON); nil
    /// sends anything unusual through the Codable decoder and its errors.
    static func fastResponse(_ value: JSONValue) -> DiscoveryResponse? {
        guard let object = value.objectValue, object.count <= 5, let version = object["version_info"]?.stringValue,
            let resources = object["resources"]?.arrayValue, let typeURL = object["type_url"]?.stringValue,
            let nonce = object["nonce"]?.stringValue
        else { return nil }
        let controlPlane = object["control_plane"]
        if let controlPlane, controlPlane.stringValue == nil { return nil }
        var response = DiscoveryResponse(versionInfo: version, resources: resources, type: .cluster, nonce: nonce,
                                         controlPlane: controlPlane?.stringValue)
        response.typeURL = typeURL
        return response
    }
}
