import Testing
@testable import MeshHTTP

/// Random and mutated input must never trap, hang or yield a message that reads
/// differently once re-serialized (what a proxy forwards is what it understood).
@Suite struct HTTPParserFuzzTests {
    static let seeds: [String] = HTTPRequestParserTests.valid + [
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
        "PATCH /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
    static let interesting: [UInt8] = [13, 10, 0, 32, 9, 58, 59, 44, 48, 49, 70, 102, 127, 255, UInt8(ascii: "/"), UInt8(ascii: "*")]
    static let phrases: [String] = ["\r\n", "Content-Length: 7\r\n", "Transfer-Encoding: chunked\r\n", " ", ":", "\n", "0\r\n\r\n", "HTTP/1.1", "Host: b\r\n"]

    @Test func randomBytes() {
        var random = SeededRandom(seed: 0x5EED_0001)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...200, using: &random)
            let input: [UInt8] = (0..<length).map { _ in
                Bool.random(using: &random) ? Self.interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            }
            check(input, random: &random)
        }
    }

    @Test func mutatedValidRequests() {
        var random = SeededRandom(seed: 0x5EED_0002)
        var accepted = 0
        for _ in 0..<4000 {
            var input = Array(Self.seeds.randomElement(using: &random)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) { mutate(&input, random: &random) }
            accepted += check(input, random: &random)
        }
        // Mutations keep a good share valid, so the round trip is really exercised.
        #expect(accepted > 300, "only \(accepted) mutated requests were accepted")
    }

    func mutate(_ input: inout [UInt8], random: inout SeededRandom) {
        guard !input.isEmpty else { input = Array(Self.phrases.randomElement(using: &random)!.utf8); return }
        let at = Int.random(in: 0..<input.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0: input[at] = UInt8.random(in: 0...255, using: &random)
        case 1: input[at] = Self.interesting.randomElement(using: &random)!
        case 2: input.remove(at: at)
        case 3: input.insert(contentsOf: Self.phrases.randomElement(using: &random)!.utf8, at: at)
        case 4:
            let end = min(input.count, at + Int.random(in: 1...16, using: &random))
            input.insert(contentsOf: input[at..<end], at: at)
        default:
            let end = min(input.count, at + Int.random(in: 1...16, using: &random))
            input.removeSubrange(at..<end)
        }
    }

    /// Returns how many complete requests the input held, so a run can show it reached the accept path.
    @discardableResult
    func check(_ input: [UInt8], random: inout SeededRandom) -> Int {
        var accepted = 0
        let step = [1, 2, 5, 64, Int.max].randomElement(using: &random)!
        let endOfInput = Bool.random(using: &random)
        let result = parseRequests(input, step: step, limits: HTTPParserLimits(maxBodyBytes: 4096), endOfInput: endOfInput)
        // The same bytes fed all at once must be read the same way.
        let whole = parseRequests(input, limits: HTTPParserLimits(maxBodyBytes: 4096), endOfInput: endOfInput)
        #expect(whole.messages.map(\.head) == result.messages.map(\.head))
        #expect(whole.error?.kind == result.error?.kind)
        // Every complete request, re-serialized, parses to the same request.
        for message in result.messages where message.ended {
            accepted += 1
            var request = HTTPRequest(head: message.head, body: message.body, trailers: message.trailers ?? HTTPHeaders())
            request.head.headers.remove(name: "content-length")
            request.head.headers.remove(name: "transfer-encoding")
            let again = parseRequests(HTTPSerializer.serialize(request))
            #expect(again.error == nil, "\(again.error.map(String.init(describing:)) ?? "")")
            #expect(again.messages.first?.head.target == message.head.target)
            #expect(again.messages.first?.head.method == message.head.method)
            #expect(again.messages.first?.body == message.body)
        }
        return accepted
    }
}
