/// Which transport a query came over: it decides how large the answer may be.
public enum DNSTransport: Sendable {
    case udp
    case tcp
}

/// Bytes of a query in, bytes of the response out: everything the server decides,
/// with no socket (the server only moves datagrams and frames).
///
/// - Fewer than 12 bytes, or a message with QR set (a response): no answer at all
///   (nothing to address it to; answering responses invites loops and reflection).
/// - Anything else that does not decode, or a query without exactly one question: FORMERR.
/// - An opcode other than QUERY: NOTIMP. An EDNS version above 0: BADVERS (RFC 6891 §6.1.3).
/// - Otherwise the resolver's answer; over UDP cut to 512 bytes, or to the payload
///   size the query's OPT record offers (at most `maximumUDPPayload`), with TC when
///   answers had to go.
/// - A query with an OPT record gets one back (our payload size, its DO bit); one without gets none.
public struct DNSResponder: Sendable {
    public var resolver: ClusterDNSResolver
    /// What we advertise and the most we send over UDP with EDNS. 1232 is the size the
    /// 2020 DNS flag day settled on: it never fragments on a 1280-byte IPv6 path.
    public var maximumUDPPayload: UInt16

    public init(resolver: ClusterDNSResolver = ClusterDNSResolver(), maximumUDPPayload: UInt16 = 1232) {
        self.resolver = resolver
        self.maximumUDPPayload = max(512, maximumUDPPayload)
    }

    /// The response to send, or nil to send nothing.
    public func respond(to query: [UInt8], over transport: DNSTransport, snapshot: ClusterDNSSnapshot) -> [UInt8]? {
        guard let header = DNSMessage.peekHeader(query), header.flags & 0x8000 == 0 else { return nil }
        let request: DNSMessage
        do {
            request = try DNSMessage(decoding: query)
        } catch {
            // Echo what the header says, nothing of the body: it could not be read.
            let opcode = DNSOpcode(rawValue: UInt8(truncatingIfNeeded: header.flags >> 11))
            return DNSMessage(id: header.id, isResponse: true, opcode: opcode, recursionDesired: header.flags & 0x0100 != 0,
                              responseCode: .formatError).encoded()
        }
        let response = respond(to: request, snapshot: snapshot)
        let limit: Int
        switch transport {
        case .tcp:
            limit = 0xffff
        case .udp:
            // RFC 6891 §6.2.5: below 512 means 512; we never exceed what we advertise.
            let offered = request.edns.map { Int($0.udpPayloadSize) } ?? 512
            limit = min(max(512, offered), Int(maximumUDPPayload))
        }
        return response.encoded(fittingIn: limit)
    }

    /// The response to a decoded query (before size limits).
    public func respond(to request: DNSMessage, snapshot: ClusterDNSSnapshot) -> DNSMessage {
        var response = DNSMessage(id: request.id, isResponse: true, opcode: request.opcode,
                                  recursionDesired: request.recursionDesired, checkingDisabled: request.checkingDisabled,
                                  questions: request.questions)
        if let edns = request.edns {
            response.edns = EDNS(udpPayloadSize: maximumUDPPayload, version: 0, dnssecOK: edns.dnssecOK)
        }
        guard request.opcode == .query else {
            response.responseCode = .notImplemented
            return response
        }
        if let edns = request.edns, edns.version > 0 {
            response.responseCode = .badVersion
            response.questions = []
            return response
        }
        guard request.questions.count == 1 else {
            response.responseCode = .formatError
            response.questions = []
            return response
        }
        let answer = resolver.answer(request.questions[0], in: snapshot)
        response.responseCode = answer.responseCode
        response.isAuthoritative = answer.isAuthoritative
        response.answers = answer.answers
        response.authority = answer.authority
        response.additional = answer.additional
        return response
    }
}
