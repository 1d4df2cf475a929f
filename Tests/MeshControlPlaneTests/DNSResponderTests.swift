@testable import MeshControlPlane
import MeshSystem
import Testing

@Suite struct DNSResponderTests {
    let snapshot: ClusterDNSSnapshot
    let responder = DNSResponder()

    init() throws {
        snapshot = try DNSFixture.load().snapshot()
    }

    private func respond(_ query: DNSMessage, over transport: DNSTransport = .udp) throws -> DNSMessage {
        let bytes = try #require(responder.respond(to: query.encoded(), over: transport, snapshot: snapshot))
        return try DNSMessage(decoding: bytes)
    }

    @Test func anAnswerEchoesIDQuestionAndFlags() throws {
        var query = DNSMessage.query(id: 0x1234, "Reviews.default.svc.cluster.local", .a)
        query.checkingDisabled = true
        let response = try respond(query)
        #expect(response.id == 0x1234)
        #expect(response.isResponse)
        #expect(response.isAuthoritative)
        #expect(response.recursionDesired)
        #expect(!response.recursionAvailable)  // nothing is resolved recursively
        #expect(response.checkingDisabled)
        #expect(response.questions[0].name.labels == query.questions[0].name.labels)
        #expect(response.answers.first?.data == .a(IPv4Address(10, 96, 0, 10)))
        #expect(response.edns == nil)  // none asked, none given
    }

    @Test func ednsQueriesGetAnOPTRecordWithOurPayloadSizeAndTheirDOBit() throws {
        let query = DNSMessage.query(id: 1, "reviews.default.svc.cluster.local", .a,
                                     edns: EDNS(udpPayloadSize: 4096, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]))
        let response = try respond(query)
        let edns = try #require(response.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.dnssecOK)
        #expect(edns.version == 0)
        #expect(edns.options.isEmpty)  // unknown options are not echoed (RFC 6891 §6.1.2)
    }

    @Test func anUnknownEDNSVersionIsBADVERS() throws {
        let response = try respond(.query(id: 1, "reviews.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 1232, version: 1)))
        #expect(response.responseCode == .badVersion)
        #expect(response.edns?.version == 0)
        #expect(response.answers.isEmpty)
    }

    @Test func otherOpcodesAreNOTIMP() throws {
        for opcode in [DNSOpcode.inverseQuery, .status, .notify, .update, DNSOpcode(rawValue: 9)] {
            var query = DNSMessage.query(id: 7, "reviews.default.svc.cluster.local", .a)
            query.opcode = opcode
            let response = try respond(query)
            #expect(response.responseCode == .notImplemented, "\(opcode)")
            #expect(response.opcode == opcode)
            #expect(response.answers.isEmpty)
        }
    }

    @Test func malformedQueriesAreFORMERRWithTheirID() throws {
        // A question whose name runs off the end.
        let bytes: [UInt8] = [0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 0x72, 0x65]
        let reply = try #require(responder.respond(to: bytes, over: .udp, snapshot: snapshot))
        let response = try DNSMessage(decoding: reply)
        #expect(response.id == 0xabcd)
        #expect(response.responseCode == .formatError)
        #expect(response.recursionDesired)
        #expect(response.questions.isEmpty)

        // Zero or two questions.
        #expect(try respond(DNSMessage(id: 1)).responseCode == .formatError)
        var two = DNSMessage.query(id: 2, "a.cluster.local", .a)
        two.questions.append(DNSQuestion(name: "b.cluster.local", type: .a))
        #expect(try respond(two).responseCode == .formatError)
    }

    @Test func fragmentsAndResponsesGetNoAnswer() {
        #expect(responder.respond(to: [], over: .udp, snapshot: snapshot) == nil)
        #expect(responder.respond(to: Array(repeating: 0, count: 11), over: .udp, snapshot: snapshot) == nil)
        var response = DNSMessage.query(id: 1, "reviews.default.svc.cluster.local", .a)
        response.isResponse = true
        #expect(responder.respond(to: response.encoded(), over: .udp, snapshot: snapshot) == nil)
    }

    /// A headless service with 100 endpoints: ~1.6 KB of A records.
    private func bigSnapshot() throws -> ClusterDNSSnapshot {
        var fixture = try DNSFixture.load()
        let index = try #require(fixture.endpoints.firstIndex { $0.metadata.name == "web" })
        fixture.endpoints[index].subsets?[0].addresses = (1...100).map { .init(ip: "10.45.0.\($0)") }
        return fixture.snapshot()
    }

    @Test func udpAnswersAreCutToTheirLimitWithTC() throws {
        let big = try bigSnapshot()
        func udp(_ query: DNSMessage) throws -> (bytes: Int, message: DNSMessage) {
            let reply = try #require(responder.respond(to: query.encoded(), over: .udp, snapshot: big))
            return (reply.count, try DNSMessage(decoding: reply))
        }
        // No EDNS: 512 bytes.
        let plain = try udp(.query(id: 1, "web.default.svc.cluster.local", .a))
        #expect(plain.bytes <= 512)
        #expect(plain.message.isTruncated)
        #expect(plain.message.answers.count > 0 && plain.message.answers.count < 100)

        // EDNS 4096: our own maximum (1232) wins.
        let edns = try udp(.query(id: 2, "web.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 4096)))
        #expect(edns.bytes <= 1232 && edns.bytes > 512)
        #expect(edns.message.isTruncated)
        #expect(edns.message.edns != nil)

        // EDNS below 512 means 512.
        #expect(try udp(.query(id: 3, "web.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 100))).bytes <= 512)

        // TCP: everything.
        let tcp = try #require(responder.respond(to: DNSMessage.query(id: 4, "web.default.svc.cluster.local", .a).encoded(),
                                                 over: .tcp, snapshot: big))
        let whole = try DNSMessage(decoding: tcp)
        #expect(!whole.isTruncated)
        #expect(whole.answers.count == 100)

        // A larger advertised maximum lets more through.
        let roomy = DNSResponder(maximumUDPPayload: 4096)
        let reply = try #require(roomy.respond(to: DNSMessage.query(id: 5, "web.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 4096)).encoded(),
                                               over: .udp, snapshot: big))
        #expect(try DNSMessage(decoding: reply).answers.count == 100)
    }
}
