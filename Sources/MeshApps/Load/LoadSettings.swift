/// What `meshlab load` was asked to do, checked: every run is bounded (a duration
/// or a request count, at most `maxDuration` and `maxRequests`).
public struct LoadSettings: Sendable, Equatable {
    public var url: LoadURL
    /// Requests per second over all connections; 0 runs closed loop (each
    /// connection sends its next request as soon as the last one is answered).
    public var rate: Double
    /// How long to send; nil when only `requests` bounds the run.
    public var duration: Duration?
    /// How many requests in total; nil when only `duration` bounds the run.
    public var requests: Int?
    public var connections: Int
    public var headers: [LoadHeader]
    /// Count responses per value of this response header.
    public var countHeader: String?
    /// Count responses per match of this regular expression in the body: its first
    /// capture group, or the whole match when it has none.
    public var countBody: String?
    /// Bounds the connect and each wait for response bytes.
    public var timeout: Duration

    public static let defaultDuration = Duration.seconds(10)
    public static let maxDuration = Duration.seconds(3600)
    public static let maxRequests = 10_000_000
    public static let maxConnections = 1024
    public static let maxRate = 1_000_000.0

    public init(url: LoadURL, rate: Double = 100, duration: Duration? = nil, requests: Int? = nil,
                connections: Int = 4, headers: [LoadHeader] = [], countHeader: String? = nil, countBody: String? = nil,
                timeout: Duration = .seconds(5)) throws(LoadError) {
        guard rate.isFinite, rate >= 0, rate <= Self.maxRate else {
            throw LoadError("the rate must be between 0 (closed loop) and \(Int(Self.maxRate)) requests per second")
        }
        guard (1...Self.maxConnections).contains(connections) else {
            throw LoadError("connections must be between 1 and \(Self.maxConnections)")
        }
        if let duration, duration <= .zero || duration > Self.maxDuration {
            throw LoadError("the duration must be above 0 and at most \(Self.maxDuration)")
        }
        if let requests, !(1...Self.maxRequests).contains(requests) {
            throw LoadError("the number of requests must be between 1 and \(Self.maxRequests)")
        }
        guard timeout > .zero, timeout <= Self.maxDuration else {
            throw LoadError("the timeout must be above 0 and at most \(Self.maxDuration)")
        }
        if let countBody, (try? Regex(countBody)) == nil {
            throw LoadError("the body pattern \"\(countBody)\" is not a valid regular expression")
        }
        if let countHeader, countHeader.isEmpty || !countHeader.allSatisfy(LoadHeader.isTokenCharacter) {
            throw LoadError("\"\(countHeader)\" is not a header name")
        }
        self.url = url
        self.rate = rate
        // Neither given: the default duration, so that a run always ends.
        self.duration = duration ?? (requests == nil ? Self.defaultDuration : nil)
        self.requests = requests
        self.connections = connections
        self.headers = headers
        self.countHeader = countHeader
        self.countBody = countBody
        self.timeout = timeout
    }

    public var isClosedLoop: Bool { rate == 0 }

    /// How long requests may still be sent after the start: the run's planned length plus one
    /// timeout, at most `maxDuration`. An open-loop run that falls behind a slow server stops
    /// there instead of working off its backlog for as long as the server makes it wait.
    public var sendWindow: Duration {
        var planned = duration ?? Self.maxDuration
        if let requests, !isClosedLoop {
            planned = min(planned, .nanoseconds(Int64((Double(requests) * 1e9 / rate).rounded(.up))))
        }
        return min(Self.maxDuration, planned + timeout)
    }

    /// The open-loop schedule; nil in closed loop.
    public var schedule: LoadSchedule? {
        isClosedLoop ? nil : LoadSchedule(rate: rate, connections: connections, duration: duration, requests: requests)
    }
}

/// A setting that cannot be run, a report that cannot be read, a host that does not
/// resolve: in words a person can act on.
public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A request header to send, from `--header 'Name: value'`.
public struct LoadHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `Name: value` (curl's form).
    public init(parsing text: String) throws(LoadError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw LoadError("header \"\(text)\" is not NAME: VALUE")
        }
        let name = String(text[..<colon])
        let value = String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
        guard !name.isEmpty, name.allSatisfy(Self.isTokenCharacter) else {
            throw LoadError("header \"\(text)\": \"\(name)\" is not a header name")
        }
        guard value.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }) else {
            throw LoadError("header \"\(name)\": the value holds control characters")
        }
        self.init(name: name, value: value)
    }

    /// RFC 9110 token characters.
    static func isTokenCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        if (0x30...0x39).contains(ascii) || (0x41...0x5A).contains(ascii) || (0x61...0x7A).contains(ascii) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(ascii)
    }

    public var text: String { "\(name): \(value)" }
}

/// `http://host[:port][/path][?query]`: the only kind of target the generator
/// sends to (plain HTTP/1.1: inside the mesh the sidecars add TLS).
public struct LoadURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Origin form: path and query.
    public var target: String

    public init(parsing text: String) throws(LoadError) {
        var rest = Substring(text)
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "http" else {
                throw LoadError("\(text): only http:// URLs are supported (inside the mesh the sidecars add TLS)")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        guard !authority.contains("@"), !authority.hasPrefix("[") else {
            throw LoadError("\(text): user info and IPv6 literals are not supported")
        }
        var host = authority
        var port = 80
        if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw LoadError("\(text): the port must be a number from 1 to 65535")
            }
            port = number
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw LoadError("\(text): \"\(host)\" is not a host name or IPv4 address")
        }
        guard target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw LoadError("\(text): the path holds spaces or characters that need percent-encoding")
        }
        self.host = host.lowercased()
        self.port = port
        self.target = target
    }

    /// The Host header: the port only when it is not 80.
    public var authority: String { port == 80 ? host : "\(host):\(port)" }

    public var description: String { "http://\(authority)\(target)" }
}

extension LoadSettings {
    /// A duration as Go writes it (`10s`, `1m30s`, `250ms`), or a bare number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        if let duration = GoDuration.parse(text) { return duration }
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds < 9e9 else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
