import FoundationEssentials
@testable import MeshControlPlane
import MeshModel
import MeshTestSupport

/// The objects of Testdata/dns/cluster.yaml, typed.
struct DNSFixture {
    var services: [MeshModel.Service] = []
    var endpoints: [Endpoints] = []
    var pods: [Pod] = []
    var namespaces: [String] = []
    /// The documents as the store keeps them (for feed tests).
    var objects: [JSONValue] = []

    static func load() throws -> DNSFixture {
        var fixture = DNSFixture()
        for document in try YAML.loadAll(try Golden.read("dns/cluster.yaml"), file: "cluster.yaml") {
            let object = document.value
            fixture.objects.append(object)
            switch object["kind"]?.stringValue {
            case "Service": fixture.services.append(try ResourceCodec.decode(MeshModel.Service.self, from: object))
            case "Endpoints": fixture.endpoints.append(try ResourceCodec.decode(Endpoints.self, from: object))
            case "Pod": fixture.pods.append(try ResourceCodec.decode(Pod.self, from: object))
            case "Namespace": fixture.namespaces.append(object["metadata"]?["name"]?.stringValue ?? "")
            default: break
            }
        }
        return fixture
    }

    func snapshot(serial: UInt32 = 42) -> ClusterDNSSnapshot {
        ClusterDNSSnapshot(services: services, endpoints: endpoints, pods: pods, namespaces: namespaces, serial: serial)
    }
}

/// A message as the golden files show it, close to dig's sections.
func render(_ message: DNSMessage) -> String {
    var flags: [String] = []
    if message.isResponse { flags.append("qr") }
    if message.isAuthoritative { flags.append("aa") }
    if message.isTruncated { flags.append("tc") }
    if message.recursionDesired { flags.append("rd") }
    if message.recursionAvailable { flags.append("ra") }
    var lines = [";; \(message.responseCode) id \(message.id) flags: \(flags.joined(separator: " "))"]
    if let edns = message.edns { lines.append(";; EDNS: version \(edns.version), udp \(edns.udpPayloadSize)\(edns.dnssecOK ? ", do" : "")") }
    for question in message.questions { lines.append(";\(question)") }
    for (title, records) in [("ANSWER", message.answers), ("AUTHORITY", message.authority), ("ADDITIONAL", message.additional)]
    where !records.isEmpty {
        lines.append(";; \(title)")
        lines += records.map(\.description)
    }
    return lines.joined(separator: "\n")
}

extension ClusterDNSResolver {
    /// The resolver's answer as a full response, for tests that read sections.
    func respond(_ name: DNSName, _ type: DNSRecordType, in snapshot: ClusterDNSSnapshot) -> DNSMessage {
        DNSResponder(resolver: self).respond(to: .query(id: 1, name, type), snapshot: snapshot)
    }
}

/// Deterministic pseudo-random numbers (xorshift64*), so a fuzz failure reproduces from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9e37_79b9_7f4a_7c15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_f491_4f6c_dd1d
    }
}
