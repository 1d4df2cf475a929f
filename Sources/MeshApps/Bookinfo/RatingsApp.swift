import MeshHTTP
import MeshModel
import Synchronization

/// bookinfo's ratings service (ratings.js): the stars each reviewer gave.
///
/// `SERVICE_VERSION` picks the behaviour as in the real image: `v1` keeps ratings in
/// memory (POST adds some); `v2` is the database-backed version, which in a lab
/// answers from the same in-memory table (no MongoDB or MySQL image runs here) and
/// refuses POST with 501 as the real one does; `v-faulty` fails half the requests
/// with 503; `v-delayed` delays half by 7 s; `v-unavailable` flips between serving and
/// 503 every minute; `v-unhealthy` flips health and availability every 15 minutes.
public final class RatingsApp: HTTPApp {
    public let version: String
    private let random: RandomSource
    private let sleep: @Sendable (Duration) async -> Void
    private let started: ContinuousClock.Instant
    private let now: @Sendable () -> ContinuousClock.Instant
    private let userAdded = Mutex<[Int: JSONValue]>([:])

    public init(version: String = "v1", random: RandomSource = .system,
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.version = version
        self.random = random
        self.now = now
        self.started = now()
        self.sleep = sleep
    }

    public var identity: String { "ratings-\(version)" }

    /// Whether the flipping versions are in their failing phase.
    var unavailable: Bool {
        let elapsed = (now() - started).seconds
        switch version {
        case "v-unavailable": return Int(elapsed / 60) % 2 == 1
        case "v-unhealthy": return Int(elapsed / 900) % 2 == 1
        default: return false
        }
    }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let path = request.head.path
        if path == "/health" && (request.method == .get || request.method == .head) {
            return version == "v-unhealthy" && unavailable
                ? .json(["status": "Ratings is not healthy"], status: .internalServerError, contentType: "application/json")
                : .json(["status": "Ratings is healthy"])
        }
        guard path.hasPrefix("/ratings/") else { return .text("Page Not Found", status: .notFound) }
        guard let productID = Self.parseInt(request.head.target.split(separator: "/").last ?? "") else {
            return .json(["error": "please provide numeric product ID"], status: .badRequest)
        }
        switch request.method {
        case .get, .head:
            return await ratings(for: productID)
        case .post:
            guard let ratings = try? JSONValue(parsing: request.body) else {
                return .json(["error": "please provide valid ratings JSON"], status: .badRequest)
            }
            if version == "v2" {
                return .json(["error": "Post not implemented for database backed ratings"], status: .notImplemented)
            }
            let record: JSONValue = ["id": .int(productID), "ratings": ratings]
            userAdded.withLock { $0[productID] = record }
            return .json(record)
        default:
            return .text("Page Not Found", status: .notFound)
        }
    }

    private func ratings(for productID: Int) async -> HTTPResponse {
        switch version {
        case "v-faulty" where random.unit() <= 0.5:
            return Self.serviceUnavailable
        case "v-delayed" where random.unit() <= 0.5:
            await sleep(.seconds(7))
        case "v-unavailable", "v-unhealthy":
            if unavailable { return Self.serviceUnavailable }
        default:
            break
        }
        let stored = userAdded.withLock { $0[productID] }
        return .json(stored ?? ["id": .int(productID), "ratings": ["Reviewer1": 5, "Reviewer2": 4]])
    }

    static let serviceUnavailable = HTTPResponse.json(["error": "Service unavailable"], status: .serviceUnavailable)

    /// JavaScript's parseInt on the last part of the URL: a sign and leading digits, else nil (NaN).
    static func parseInt(_ text: Substring) -> Int? {
        var rest = text.drop { $0 == " " }
        var sign = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 16, let value = Int(digits) else { return nil }
        return sign * value
    }
}
