@testable import MeshControlPlane
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem
import Testing

/// The push stream's bytes: JSON lines split right whatever the reads, limits,
/// garbage, and the HTTP upgrade handshake against things that are not sidecars.
@Suite struct PushWireTests {
    let request = DiscoveryRequest(versionInfo: "v1", type: .cluster, responseNonce: "n1")

    @Test func messagesSurviveAnySplit() throws {
        let bytes = DiscoveryWire.frame(request) + DiscoveryWire.frame(request) + Array("\n".utf8)
        for cut in 1..<bytes.count {
            var decoder = DiscoveryFrameDecoder()
            var seen: [DiscoveryRequest] = []
            decoder.append(bytes[..<cut])
            while let message = try decoder.next(DiscoveryRequest.self) { seen.append(message) }
            decoder.append(bytes[cut...])
            while let message = try decoder.next(DiscoveryRequest.self) { seen.append(message) }
            #expect(seen == [request, request], "split at \(cut)")
        }
    }

    /// In a generic context the Codable overload is the one chosen.
    func codablePath<Message: Encodable>(_ message: Message) -> [UInt8] { DiscoveryWire.frame(message) }

    @Test func responseFramesOfEveryPathDecodeTheSame() throws {
        let resources: [JSONValue] = [["name": "outbound|80||a", "note": "line\nbreak"], ["name": "b"]]
        let response = DiscoveryResponse(versionInfo: "v\"1", resources: resources, type: .route, nonce: "n-1",
                                         controlPlane: "meshd/test")
        let frames = [
            DiscoveryWire.frame(response),
            DiscoveryWire.frame(response, encodedResources: JSONValue.array(resources).serializedBytes()),
            codablePath(response),
        ]
        for frame in frames {
            #expect(frame.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            var decoder = DiscoveryFrameDecoder()
            decoder.append(frame)
            #expect(try decoder.next(DiscoveryResponse.self) == response)
        }
    }

    @Test func oversizedLineIsRefusedBeforeItEnds() {
        var decoder = DiscoveryFrameDecoder(maxMessageBytes: 100)
        decoder.append(Array(repeating: UInt8(ascii: "x"), count: 101))
        #expect(throws: DiscoveryFrameError.tooLarge(limit: 100)) { try decoder.next() }
    }

    @Test func garbageIsNamed() {
        var decoder = DiscoveryFrameDecoder()
        decoder.append(Array("\u{1}hello there\n".utf8))
        #expect {
            try decoder.next()
        } throws: { error in
            "\(error)".contains("not a JSON message") && "\(error)".contains(".hello there")
        }
        var array = DiscoveryFrameDecoder()
        array.append(Array("[1,2]\n".utf8))
        #expect(throws: DiscoveryFrameError.self) { try array.next() }
        var wrong = DiscoveryFrameDecoder()
        wrong.append(Array("{\"nonce\": 3}\n".utf8))
        #expect(throws: DiscoveryFrameError.self) { try wrong.next(DiscoveryResponse.self) }
    }

    /// Sends `bytes` to a push server and returns all it answers before closing.
    func exchange(_ bytes: String) async throws -> String {
        let store = ResourceStore()
        return try await withPushServer(store: store) { server in
            let connection = try await SocketConnection.connect(to: server.localAddress, timeout: .seconds(5),
                                                                on: EventLoopGroup.shared.next())
            try await connection.write(bytes)
            let answer = try await connection.readAll(limit: 1 << 20, timeout: .seconds(10))
            await connection.close()
            return answer.readableArray.isEmpty ? "" : String(decoding: answer.readableArray, as: UTF8.self)
        }
    }

    @Test func plainHTTPGetsAReadableRefusal() async throws {
        let answer = try await exchange("GET / HTTP/1.1\r\nHost: istiod\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 404"))
        #expect(answer.contains("meshd's push port"))
        let noUpgrade = try await exchange("GET /xds HTTP/1.1\r\nHost: istiod\r\n\r\n")
        #expect(noUpgrade.hasPrefix("HTTP/1.1 426"))
        let garbage = try await exchange("\u{16}\u{3}\u{1}binary hello\r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400"))
    }

    @Test func streamWithoutNodeOrWithGarbageIsClosed() async throws {
        let upgrade = "GET /xds HTTP/1.1\r\nHost: istiod\r\nConnection: Upgrade\r\nUpgrade: meshlab-xds/1\r\n\r\n"
        let noNode = try await exchange(upgrade + String(decoding: DiscoveryWire.frame(request), as: UTF8.self))
        #expect(noNode.hasPrefix("HTTP/1.1 101"))
        #expect(!noNode.contains("type_url"))  // closed without a response
        let garbage = try await exchange(upgrade + "this is not json\n")
        #expect(garbage.hasPrefix("HTTP/1.1 101"))
    }
}
