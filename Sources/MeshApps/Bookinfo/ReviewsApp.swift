import MeshHTTP
import MeshModel

/// bookinfo's reviews service (LibertyRestEndpoint.java): two reviews of the book;
/// v1 without ratings, v2 with black stars, v3 with red stars, both asking ratings.
///
/// As in the real images, `ENABLE_RATINGS` and `STAR_COLOR` set on the container
/// override what the version implies; the call to ratings waits at most 10 s for
/// black stars and 2.5 s for red ones (the real client's timeouts, which Istio's
/// fault-injection task relies on). The answer names the pod (`podname`, from
/// `HOSTNAME`) and `clustername` (`CLUSTER_NAME`, "null" when unset, as Java prints it).
public final class ReviewsApp: HTTPApp {
    public let version: String
    public let ratingsEnabled: Bool
    public let starColor: String
    public let ratings: ServiceAddress
    public let podName: String
    public let clusterName: String
    private let client: ServiceClient?
    private let log: AppLog

    /// `client` is nil only for a reviews that never calls ratings.
    public init(version: String, environment: AppEnvironment, client: (Duration) -> ServiceClient, log: AppLog = .none) {
        self.version = version
        let enabledByVersion = version != "v1"
        ratingsEnabled = environment["ENABLE_RATINGS"].map { $0.lowercased() == "true" } ?? enabledByVersion
        starColor = environment["STAR_COLOR"] ?? (version == "v3" ? "red" : "black")
        ratings = .bookinfo("ratings", environment: environment)
        podName = environment.podName
        clusterName = environment["CLUSTER_NAME"] ?? "null"
        self.client = ratingsEnabled ? client(Self.ratingsTimeout(starColor: starColor)) : nil
        self.log = log
    }

    /// The real client's connect and receive timeout.
    static func ratingsTimeout(starColor: String) -> Duration {
        starColor == "black" ? .seconds(10) : .milliseconds(2500)
    }

    public var identity: String { "reviews-\(version)" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let segments = request.segments
        guard request.method == .get || request.method == .head else {
            return .text("", status: .methodNotAllowed)
        }
        if segments == ["health"] {
            return .json(["status": "Reviews is healthy"])
        }
        // JAX-RS matches /reviews/{productId} with an int productId, else 404.
        guard segments.count == 2, segments[0] == "reviews", let productID = Int32(segments[1]) else {
            return .text("", status: .notFound)
        }
        var stars: (Int, Int)? = nil
        if ratingsEnabled {
            stars = await fetchStars(productID: Int(productID), headers: request.headers)
        }
        return .json(body(productID: Int(productID), stars: stars))
    }

    /// The stars of Reviewer1 and Reviewer2 (-1 where ratings did not say), or nil when
    /// ratings could not be reached or did not answer 200.
    private func fetchStars(productID: Int, headers: HTTPHeaders) async -> (Int, Int)? {
        guard let client else { return nil }
        do {
            let response = try await client.get(
                host: ratings.host, port: ratings.port, path: "/ratings/\(productID)",
                headers: TraceHeaders.forward(TraceHeaders.reviews, from: headers))
            guard response.status == .ok else {
                log("Error: unable to contact \(ratings)/ratings got status of \(response.status.code)")
                return nil
            }
            let ratingsObject = (try? JSONValue(parsing: response.body))?["ratings"]
            return (ratingsObject?["Reviewer1"]?.intValue ?? -1, ratingsObject?["Reviewer2"]?.intValue ?? -1)
        } catch {
            log("Error: unable to contact \(ratings)/ratings got exception \(error)")
            return nil
        }
    }

    /// The answer, keys in the real service's order.
    func body(productID: Int, stars: (Int, Int)?) -> JSONValue {
        func review(_ reviewer: String, _ text: String, _ stars: Int) -> JSONValue {
            var object: JSONObject = ["reviewer": .string(reviewer), "text": .string(text)]
            if ratingsEnabled {
                object["rating"] = stars >= 0
                    ? ["stars": .int(stars), "color": .string(starColor)]
                    : ["error": "Ratings service is currently unavailable"]
            }
            return .object(object)
        }
        return [
            "id": .string(String(productID)),
            "podname": .string(podName),
            "clustername": .string(clusterName),
            "reviews": [
                review("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
                       stars?.0 ?? -1),
                review("Reviewer2",
                       "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.",
                       stars?.1 ?? -1),
            ],
        ]
    }
}
