@testable import MeshHTTP

/// A seeded generator (SplitMix64), so fuzz runs are reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A parsed message with body parts joined, for comparisons.
struct Parsed<Head: Equatable>: Equatable {
    var head: Head
    var body: [UInt8]
    var trailers: HTTPHeaders?
    /// Whether `.end` came (the message is complete).
    var ended = false
}

/// Everything a request parser makes of `input` fed in pieces of `step` bytes,
/// plus the error it ended with, if any.
func parseRequests(_ input: [UInt8], step: Int = Int.max, limits: HTTPParserLimits = HTTPParserLimits(),
                   endOfInput: Bool = false) -> (messages: [Parsed<HTTPRequestHead>], error: HTTPParseError?) {
    var parser = HTTPRequestParser(limits: limits)
    var messages: [Parsed<HTTPRequestHead>] = []
    var offset = 0
    repeat {
        let end = min(input.count, offset + max(step, 1))
        parser.append(contentsOf: input[offset..<end])
        offset = end
        if offset == input.count && endOfInput { parser.endOfInput() }
        do {
            while let part = try parser.next() {
                switch part {
                case .head(let head): messages.append(Parsed(head: head, body: []))
                case .body(let bytes): messages[messages.count - 1].body += bytes
                case .end(let trailers):
                    messages[messages.count - 1].trailers = trailers
                    messages[messages.count - 1].ended = true
                }
            }
        } catch {
            return (messages, error)
        }
    } while offset < input.count
    return (messages, nil)
}

func parseResponses(_ input: [UInt8], methods: [HTTPMethod], step: Int = Int.max, endOfInput: Bool = false)
    -> (messages: [Parsed<HTTPResponseHead>], ended: Int, error: HTTPParseError?) {
    var parser = HTTPResponseParser()
    for method in methods { parser.expectResponse(to: method) }
    var messages: [Parsed<HTTPResponseHead>] = []
    var ended = 0
    var offset = 0
    repeat {
        let end = min(input.count, offset + max(step, 1))
        parser.append(contentsOf: input[offset..<end])
        offset = end
        if offset == input.count && endOfInput { parser.endOfInput() }
        do {
            while let part = try parser.next() {
                switch part {
                case .head(let head): messages.append(Parsed(head: head, body: []))
                case .body(let bytes): messages[messages.count - 1].body += bytes
                case .end(let trailers):
                    messages[messages.count - 1].trailers = trailers
                    messages[messages.count - 1].ended = true
                    ended += 1
                }
            }
        } catch {
            return (messages, ended, error)
        }
    } while offset < input.count
    return (messages, ended, nil)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
