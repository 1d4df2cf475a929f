@testable import MeshControlPlane
import MeshSystem
import Testing

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

@Suite struct DNSNameTests {
    @Test func parsesAndPrintsWithTheTrailingDot() throws {
        let text = "reviews.default.svc.cluster.local"
        let name = try #require(DNSName(text))
        #expect(name.labels.count == 5)
        #expect(name.description == "reviews.default.svc.cluster.local.")
        #expect(DNSName(text + ".") == name)
        #expect(DNSName(String(".")) == .root)
        #expect(DNSName.root.description == ".")
        #expect(name.wireLength == 35)
    }

    @Test func comparesWithoutCaseButKeepsTheBytes() {
        let upper: DNSName = "REVIEWS.Default.svc.cluster.local"
        let lower: DNSName = "reviews.default.svc.cluster.local"
        #expect(upper == lower)
        #expect(upper.hashValue == lower.hashValue)
        #expect(upper.labels != lower.labels)
        #expect(upper.description == "REVIEWS.Default.svc.cluster.local.")
        #expect(upper.isSubdomain(of: "Cluster.Local"))
        #expect(upper.relativeLabels(to: "cluster.local")?.map { String(decoding: $0, as: UTF8.self) } == ["reviews", "default", "svc"])
        #expect(!upper.isSubdomain(of: "svc.cluster.local.evil"))
    }

    @Test(arguments: ["", "a..b", String(repeating: "x", count: 64) + ".com",
                      Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: ".")])
    func rejectsEmptyLabelsAndOverlongNames(_ text: String) {
        #expect(DNSName(text) == nil)
    }

    @Test func escapesBytesThatAreNotPrintable() throws {
        let name = try #require(DNSName(labels: [[UInt8(ascii: "a"), UInt8(ascii: "."), 0x00, 0xff], Array("b".utf8)]))
        #expect(name.description == "a\\.\\000\\255.b.")
    }
}

@Suite struct DNSWireTests {
    /// What dig 9.18 sends for `dig Reviews.default.svc.cluster.local A` (captured off the wire).
    static let digQuery = hex(
        "6e370120000100000000000107526576696577730764656661756c740373766307636c7573746572056c6f63616c"
            + "000001000100002904d000000000000c000a00081f6c71200b23f750")

    @Test func readsARealDigQuery() throws {
        let message = try DNSMessage(decoding: Self.digQuery)
        #expect(message.id == 0x6e37)
        #expect(!message.isResponse)
        #expect(message.opcode == .query)
        #expect(message.recursionDesired)
        #expect(message.authenticData)
        #expect(message.questions == [DNSQuestion(name: "reviews.default.svc.cluster.local", type: .a)])
        #expect(message.questions[0].name.description == "Reviews.default.svc.cluster.local.")
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.version == 0)
        #expect(!edns.dnssecOK)
        #expect(edns.options == [EDNSOption(code: 10, data: hex("1f6c71200b23f750"))])  // a client cookie
        #expect(message.additional.isEmpty)
        // Written back, it is the same bytes.
        #expect(message.encoded() == Self.digQuery)
    }

    static let sample = DNSMessage(
        id: 0xbeef, isResponse: true, opcode: .query, isAuthoritative: true, recursionDesired: true,
        checkingDisabled: true, responseCode: .noError,
        questions: [DNSQuestion(name: "_http._tcp.web.default.svc.cluster.local", type: .srv)],
        answers: [
            DNSRecord(name: "_http._tcp.web.default.svc.cluster.local", ttl: 5, data: .srv(DNSSRV(
                priority: 0, weight: 50, port: 8080, target: "10-44-0-5.web.default.svc.cluster.local"))),
            DNSRecord(name: "web.default.svc.cluster.local", ttl: 5, data: .a(IPv4Address(10, 44, 0, 5))),
            DNSRecord(name: "web.default.svc.cluster.local", ttl: 5, data: .aaaa(IPv6Address("fd00::5")!)),
            DNSRecord(name: "alias.default.svc.cluster.local", ttl: 5, data: .cname("web.default.svc.cluster.local")),
            DNSRecord(name: "5.0.44.10.in-addr.arpa", ttl: 5, data: .ptr("web.default.svc.cluster.local")),
            DNSRecord(name: "dns-version.cluster.local", ttl: 5, data: .txt([Array("1.1.0".utf8), []])),
            DNSRecord(name: "x.cluster.local", class: DNSClass(rawValue: 1), ttl: 7, data: .other(DNSRecordType(rawValue: 99), [1, 2, 3])),
        ],
        authority: [DNSRecord(name: "cluster.local", ttl: 5, data: .soa(DNSSOA(
            primaryServer: "ns.dns.cluster.local", mailbox: "hostmaster.cluster.local", serial: 7, refresh: 7200,
            retry: 1800, expire: 86400, minimum: 5)))],
        additional: [DNSRecord(name: "ns.dns.cluster.local", ttl: 5, data: .ns("ns.dns.cluster.local"))],
        edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]))

    @Test func everyRecordTypeRoundTrips() throws {
        let bytes = Self.sample.encoded()
        #expect(try DNSMessage(decoding: bytes) == Self.sample)
    }

    @Test func extendedResponseCodesTravelInTheOPTRecord() throws {
        var message = DNSMessage(id: 1, isResponse: true, responseCode: .badVersion, edns: EDNS(udpPayloadSize: 1232))
        let bytes = message.encoded()
        #expect(bytes[3] & 0x0f == 0)  // BADVERS is 16: the header's four bits are zero
        #expect(try DNSMessage(decoding: bytes).responseCode == .badVersion)
        message.responseCode = .nameError
        #expect(try DNSMessage(decoding: message.encoded()).responseCode == .nameError)
    }

    @Test func namesAreCompressedAgainstEarlierSuffixesByteForByte() throws {
        let owner: DNSName = "reviews.default.svc.cluster.local"
        var message = DNSMessage(id: 7, isResponse: true, questions: [DNSQuestion(name: owner, type: .a)])
        message.answers = [DNSRecord(name: owner, ttl: 5, data: .a(IPv4Address(10, 96, 0, 10)))]
        let bytes = message.encoded()
        // Header 12 + question (35 + 4) + answer: a pointer to offset 12 (2) + 10 + 4.
        #expect(bytes.count == 12 + 39 + 16)
        #expect(bytes[51] == 0xc0 && bytes[52] == 12)

        // A suffix shared in another case is written out: a pointer would change the echoed case.
        message.answers[0].name = "REVIEWS.default.svc.cluster.local"
        let mixed = message.encoded()
        let decoded = try DNSMessage(decoding: mixed)
        #expect(decoded.answers[0].name.description == "REVIEWS.default.svc.cluster.local.")
        #expect(mixed[51] == 7)  // "REVIEWS" written in full, then a pointer to "default..."
        #expect(mixed[59] == 0xc0 && mixed[60] == 20)
    }

    @Test func srvTargetsAreNotCompressed() throws {
        var message = DNSMessage(id: 1, isResponse: true, questions: [DNSQuestion(name: "web.default.svc.cluster.local", type: .srv)])
        message.answers = [DNSRecord(name: "web.default.svc.cluster.local", ttl: 5,
                                     data: .srv(DNSSRV(priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local")))]
        let bytes = message.encoded()
        // Question 31+4, answer: pointer 2 + 10 + 6 + the whole target (31).
        #expect(bytes.count == 12 + 35 + 2 + 10 + 6 + 31)
    }

    @Test func compressionPointersAreFollowed() throws {
        // A question for "a.example." and an answer owned by a pointer to "example." inside it.
        var bytes = hex("0001840000010001000000000161076578616d706c6500" + "00010001")
        bytes += hex("c00e" + "0001000100000005" + "0004" + "0a000001")
        let message = try DNSMessage(decoding: bytes)
        #expect(message.answers.first?.name == "example")
        #expect(message.answers.first?.data == .a(IPv4Address(10, 0, 0, 1)))
    }

    static let malformed: [(String, DNSWireError.Reason)] = [
        // Pointer to itself.
        ("000100000001000000000000c00c00010001", DNSWireError.Reason.badPointer),
        // Pointer forward.
        ("000100000001000000000000c00e00010001", .badPointer),
        // Two names pointing at each other: the second's pointer goes back, then the first points forward.
        ("0001000000020000000000000161c012000100010162c00c00010001", .badPointer),
        // Label type 01 (reserved).
        ("0001000000010000000000004000010001", .badLabelType),
        // A label running past the end.
        ("0001000000010000000000000561626300", .truncated),
        // Header only, but a question announced.
        ("000100000001000000000000", .truncated),
        // A question and then garbage.
        ("0001000000010000000000000161000001000199", .trailingBytes),
        // An A record of 5 bytes.
        ("00018400000000010000000000000100010000000500050a00000101", .badRecordData),
        // Two OPT records.
        ("000100000000000000000002" + "00002904d0000000000000" + "00002904d0000000000000", .badOPT),
        // OPT in the answer section.
        ("000100000000000100000000" + "00002904d0000000000000", .badOPT),
        // OPT not at the root.
        ("000100000000000000000001" + "0161" + "00002904d0000000000000", .badOPT),
        // An OPT option longer than its record.
        ("00010000000000000000000100002904d0000000000005000a000801", .truncated),
        ("00", .shortHeader),
    ]

    @Test(arguments: malformed)
    func malformedMessagesThrowWithAReason(_ text: String, _ reason: DNSWireError.Reason) {
        do {
            let message = try DNSMessage(decoding: hex(text))
            Issue.record("decoded \(message) from \(text)")
        } catch {
            #expect(error.reason == reason, "\(text)")
        }
    }

    /// A message whose second record's owner is a chain of `links` one-byte labels, each
    /// ending in a pointer to the previous one (kept inside the first record's RDATA).
    static func pointerChain(links: Int) -> [UInt8] {
        var chain: [UInt8] = []
        let rdataStart = 12 + 1 + 10  // header, root owner, type/class/ttl/rdlength
        var previous = rdataStart
        chain += [1, UInt8(ascii: "x"), 0]
        for _ in 1..<links {
            let here = rdataStart + chain.count
            chain += [1, UInt8(ascii: "x"), 0xc0 | UInt8(previous >> 8), UInt8(truncatingIfNeeded: previous)]
            previous = here
        }
        var bytes = hex("000184000000000200000000")
        bytes += [0, 0, 99, 0, 1, 0, 0, 0, 5, UInt8(chain.count >> 8), UInt8(truncatingIfNeeded: chain.count)] + chain
        bytes += [0xc0 | UInt8(previous >> 8), UInt8(truncatingIfNeeded: previous), 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1]
        return bytes
    }

    @Test func pointerChainsAreFollowedUpToTheNameLengthLimit() throws {
        let message = try DNSMessage(decoding: Self.pointerChain(links: 100))
        #expect(message.answers[1].name.labels.count == 100)
        #expect(message.answers[1].name.wireLength == 201)
        do {
            _ = try DNSMessage(decoding: Self.pointerChain(links: 130))
            Issue.record("a 261-byte name was accepted")
        } catch {
            #expect(error.reason == .nameTooLong)
        }
    }

    @Test func truncationDropsAdditionalFirstThenWholeAnswersAndSetsTC() throws {
        var message = DNSMessage(id: 9, isResponse: true, questions: [DNSQuestion(name: "web.default.svc.cluster.local", type: .a)],
                                 edns: EDNS(udpPayloadSize: 1232))
        message.answers = (1...60).map {
            DNSRecord(name: "web.default.svc.cluster.local", ttl: 5, data: .a(IPv4Address(10, 44, 0, UInt8($0))))
        }
        message.additional = [DNSRecord(name: "x.cluster.local", ttl: 5, data: .txt([Array(repeating: 65, count: 200)]))]
        let whole = message.encoded()
        #expect(whole.count > 1000)

        // Room for everything but the additional record: it goes, without TC.
        let withoutExtra = try DNSMessage(decoding: message.encoded(fittingIn: whole.count - 100))
        #expect(!withoutExtra.isTruncated)
        #expect(withoutExtra.answers.count == 60)
        #expect(withoutExtra.additional.isEmpty)
        #expect(withoutExtra.edns != nil)

        let cut = message.encoded(fittingIn: 512)
        #expect(cut.count <= 512)
        let decoded = try DNSMessage(decoding: cut)
        #expect(decoded.isTruncated)
        #expect(decoded.questions == message.questions)
        #expect(decoded.edns?.udpPayloadSize == 1232)  // OPT stays (RFC 6891 §7)
        #expect(decoded.answers == Array(message.answers.prefix(decoded.answers.count)))
        // Whole records only, as many as fit: one more would not.
        var oneMore = decoded
        oneMore.answers = Array(message.answers.prefix(decoded.answers.count + 1))
        #expect(oneMore.encoded().count > 512)

        #expect(message.encoded(fittingIn: whole.count) == whole)
    }

    @Test func tcpFramingSplitsAStreamIntoMessages() {
        let one: [UInt8] = Array(repeating: 1, count: 20)
        let two: [UInt8] = Array(repeating: 2, count: 300)
        var stream = DNSTCPFraming.frame(one)! + DNSTCPFraming.frame(two)!
        #expect(stream[0] == 0 && stream[1] == 20)
        #expect(stream[22] == 1 && stream[23] == 44)
        var partial = Array(stream.prefix(30))
        #expect(DNSTCPFraming.nextMessage(from: &partial) == one)
        #expect(DNSTCPFraming.nextMessage(from: &partial) == nil)  // 8 of 302 bytes so far
        #expect(partial.count == 8)
        #expect(DNSTCPFraming.nextMessage(from: &stream) == one)
        #expect(DNSTCPFraming.nextMessage(from: &stream) == two)
        #expect(stream.isEmpty)
        #expect(DNSTCPFraming.frame(Array(repeating: 0, count: 65_536)) == nil)
    }
}

/// Random and mutated bytes never trap the reader or the responder, and whatever the
/// reader accepts writes back to something it reads the same (seeded, bounded).
@Suite struct DNSFuzzTests {
    static let seeds: [UInt64] = [1, 2, 3, 0xdead_beef]

    @Test(arguments: seeds)
    func randomBytesNeverTrap(_ seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let responder = DNSResponder()
        let snapshot = try DNSFixture.load().snapshot()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...80, using: &random)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            checkRoundTrip(bytes)
            _ = responder.respond(to: bytes, over: .udp, snapshot: snapshot)
        }
    }

    @Test(arguments: seeds)
    func mutatedMessagesNeverTrap(_ seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let responder = DNSResponder()
        let snapshot = try DNSFixture.load().snapshot()
        let valid = [DNSWireTests.digQuery, DNSWireTests.sample.encoded(),
                     DNSMessage.query(id: 3, "web.default.svc.cluster.local", .srv).encoded()]
        var accepted = 0
        for round in 0..<6_000 {
            var bytes = valid[round % valid.count]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0:  // flip a byte
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1:  // cut the tail
                    bytes.removeLast(Int.random(in: 0...min(8, bytes.count), using: &random))
                case 2:  // insert a pointer-looking pair
                    let index = Int.random(in: 0...bytes.count, using: &random)
                    bytes.insert(contentsOf: [0xc0 | UInt8.random(in: 0...0x3f, using: &random), UInt8.random(in: 0...255, using: &random)], at: index)
                default:  // change a count in the header
                    if bytes.count >= 12 { bytes[5 + 2 * Int.random(in: 0..<4, using: &random)] = UInt8.random(in: 0...3, using: &random) }
                }
                if bytes.isEmpty { break }
            }
            if checkRoundTrip(bytes) { accepted += 1 }
            if let reply = responder.respond(to: bytes, over: .udp, snapshot: snapshot) {
                #expect(reply.count <= 1232)
                #expect(throws: Never.self) { try DNSMessage(decoding: reply) }
            }
        }
        #expect(accepted > 0)  // some mutations stay valid: the round trip was exercised
    }

    /// True when the reader accepted `bytes`; then its re-encoding must read back equal.
    @discardableResult
    private func checkRoundTrip(_ bytes: [UInt8]) -> Bool {
        guard let message = try? DNSMessage(decoding: bytes) else { return false }
        let again = try? DNSMessage(decoding: message.encoded())
        #expect(again == message)
        return true
    }
}
