import MeshIO
import MeshSystem
import Synchronization

/// Why a name did not resolve.
public enum ResolveError: Error, Equatable, CustomStringConvertible {
    /// Every candidate name was answered with NXDOMAIN or no address.
    case notFound(String)
    /// No name server answered in time.
    case timedOut(String)

    public var description: String {
        switch self {
        case .notFound(let name): return "\(name): no such host"
        case .timedOut(let name): return "\(name): no answer from the name servers"
        }
    }
}

/// Turns service names into IPv4 addresses as an ordinary program in a pod does:
/// /etc/hosts first, then the name servers of /etc/resolv.conf with its search
/// domains (so `details` becomes `details.default.svc.cluster.local`).
///
/// A stub over UDP rather than getaddrinfo(3): it runs on the event loop instead of
/// blocking a thread, and needs no unsafe code outside MeshSystem. Answers are kept
/// for their TTL (at most `maxCacheTime`); failures are not kept.
public final class HostResolver: Sendable {
    public let configuration: ResolverConfiguration
    public let hosts: HostsFile
    private let eventLoop: EventLoop
    private let random: RandomSource
    private let cache = Mutex<[String: (addresses: [IPv4Address], expires: ContinuousClock.Instant)]>([:])
    static let maxCacheTime = Duration.seconds(30)

    public init(configuration: ResolverConfiguration, hosts: HostsFile = HostsFile(), eventLoop: EventLoop,
                random: RandomSource = .system) {
        self.configuration = configuration
        self.hosts = hosts
        self.eventLoop = eventLoop
        self.random = random
    }

    /// A resolver reading this machine's (or this pod's) /etc/resolv.conf and /etc/hosts.
    public static func system(eventLoop: EventLoop) -> HostResolver {
        func text(_ path: String) -> String { (try? Files.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        return HostResolver(configuration: .parse(text("/etc/resolv.conf")), hosts: .parse(text("/etc/hosts")),
                            eventLoop: eventLoop)
    }

    /// The addresses of `host`: itself when it is an IPv4 literal.
    public func resolve(_ host: String) async throws -> [IPv4Address] {
        if let literal = IPv4Address(host) { return [literal] }
        if let address = hosts.address(of: host) { return [address] }
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[host] }), cached.expires > now { return cached.addresses }
        var sawTimeout = false
        for candidate in configuration.candidates(for: host) {
            switch try await ask(candidate) {
            case .found(let addresses, let ttl):
                let keep = min(Duration.seconds(ttl), Self.maxCacheTime)
                cache.withLock { $0[host] = (addresses, ContinuousClock.now + keep) }
                return addresses
            case .absent:
                continue
            case .noAnswer:
                sawTimeout = true
            }
        }
        throw sawTimeout ? ResolveError.timedOut(host) : ResolveError.notFound(host)
    }

    private enum Outcome {
        case found([IPv4Address], ttl: Int)
        case absent
        case noAnswer
    }

    /// One name, every server, `attempts` rounds.
    private func ask(_ name: String) async throws -> Outcome {
        let id = UInt16(truncatingIfNeeded: random.next())
        guard let query = DNSMessage.query(id: id, name: name) else { return .absent }
        let socket = try UDPSocket.bind(to: .ipv4(.any, port: 0), on: eventLoop)
        do {
            let outcome = try await ask(query, id: id, on: socket)
            await socket.close()
            return outcome
        } catch {
            await socket.close()
            throw error
        }
    }

    private func ask(_ query: [UInt8], id: UInt16, on socket: UDPSocket) async throws -> Outcome {
        for _ in 0..<configuration.attempts {
            for server in configuration.nameservers {
                try await socket.send(ByteBuffer(query), to: server)
                guard let answer = try await awaitAnswer(on: socket, from: server, id: id) else { continue }
                switch answer.code {
                case .noError:
                    return answer.addresses.isEmpty ? .absent : .found(answer.addresses, ttl: answer.ttl)
                case .nameError:
                    return .absent
                case .other:
                    continue  // SERVFAIL, REFUSED: ask the next server
                }
            }
        }
        return .noAnswer
    }

    /// The response to `id` from `server`, ignoring stray datagrams, or nil after the timeout.
    private func awaitAnswer(on socket: UDPSocket, from server: SocketAddress, id: UInt16) async throws -> DNSMessage.Answer? {
        let deadline = ContinuousClock.now + configuration.timeout
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            let datagram: Datagram
            do {
                datagram = try await socket.receive(maxBytes: 4096, timeout: left)
            } catch IOError.timedOut(_) {
                return nil
            }
            guard datagram.peer == server,
                  let answer = try? DNSMessage.parseResponse(datagram.bytes.readableArray, id: id) else { continue }
            return answer
        }
    }
}
