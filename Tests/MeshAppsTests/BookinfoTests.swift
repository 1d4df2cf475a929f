import MeshHTTP
import MeshModel
import MeshTestSupport
import Synchronization
import Testing
@testable import MeshApps

/// bookinfo end to end on loopback: productpage → details, reviews → ratings, every
/// service on its own port, the backends found through the env-overridden host names.
@Suite struct BookinfoTests {
    static func environment(_ variables: [String: String]) -> AppEnvironment {
        AppEnvironment(variables, kernelHostname: { nil })
    }

    static func reviews(_ version: String, ratingsPort: Int, timeout: Duration? = nil) -> ReviewsApp {
        let environment = environment([
            "HOSTNAME": "reviews-\(version)-pod", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratingsPort)",
        ])
        return ReviewsApp(version: version, environment: environment, client: { loopbackClient(timeout: timeout ?? $0) })
    }

    static func productpage(details: Int, reviews: Int, ratings: Int) -> ProductpageApp {
        let environment = environment([
            "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": "\(details)",
            "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": "\(reviews)",
            "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratings)",
        ])
        return ProductpageApp(environment: environment, client: loopbackClient())
    }

    /// Runs details and ratings, reviews `version`, and productpage in front of them.
    static func withBookinfo<R>(reviews version: String, ratings: any HTTPApp = RatingsApp(),
                                _ body: (_ productpage: Int) async throws -> R) async throws -> R {
        try await withServedApps([DetailsApp(), ratings]) { backends in
            try await withServedApp(Self.reviews(version, ratingsPort: backends[1])) { reviews in
                let front = Self.productpage(details: backends[0], reviews: reviews, ratings: backends[1])
                return try await withServedApp(front) { try await body($0) }
            }
        }
    }

    @Test(arguments: [("v1", nil), ("v2", "black"), ("v3", "red")] as [(String, String?)])
    func productPageShowsTheStarsOfEachReviewsVersion(version: String, color: String?) async throws {
        try await Self.withBookinfo(reviews: version) { port in
            let response = try await send(port, .get, "/productpage")
            #expect(response.status == .ok)
            let page = response.bodyText
            #expect(page.contains("<title>Simple Bookstore App</title>"))
            #expect(page.contains("<h4>Book Details</h4>"))
            #expect(page.contains("<td>PublisherA</td>"))
            #expect(page.contains("Reviews served by: reviews-\(version)-pod (reviews-\(version))"))
            if let color {
                #expect(count("class=\"stars text-\(color)-500\"", in: page) == 2)
                #expect(count("class=\"star filled\"", in: page) == 9)  // Reviewer1 5, Reviewer2 4
                #expect(count("class=\"star empty\"", in: page) == 1)
            } else {
                #expect(!page.contains("class=\"stars"))
                #expect(!page.contains("Ratings service is currently unavailable"))
            }
        }
    }

    @Test func traceHeadersAndTheUserReachRatings() async throws {
        let ratings = RecordingApp(RatingsApp())
        try await Self.withBookinfo(reviews: "v2", ratings: ratings) { port in
            let sent: HTTPHeaders = [
                "x-request-id": "a7f3c2d1-0000-4000-8000-000000000001",
                "x-b3-traceid": "463ac35c9f6413ad48485a3953bb6124", "x-b3-spanid": "a2fb4a1d1a96d312",
                "x-b3-parentspanid": "0020000000000001", "x-b3-sampled": "1",
                "b3": "463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-1",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "rojo=00f067aa0ba902b7",
                "x-ot-span-context": "463ac35c9f6413ad;a2fb4a1d1a96d312;0000000000000000",
                "x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1",
                "x-datadog-trace-id": "7", "grpc-trace-bin": "AAA=",
                "cookie": "user=jason", "user-agent": "bookinfo-test",
            ]
            let response = try await send(port, .get, "/productpage", headers: sent)
            #expect(response.status == .ok)
            #expect(response.bodyText.contains("<span class=\"user\">jason</span>"))
            let arrived = try #require(ratings.requests.last)
            for field in sent {
                #expect(arrived[field.name] == field.value, "\(field.name) did not arrive at ratings")
            }
            #expect(arrived["end-user"] == "jason")
        }
    }

    @Test func noUserNoEndUserHeader() async throws {
        let ratings = RecordingApp(RatingsApp())
        try await Self.withBookinfo(reviews: "v3", ratings: ratings) { port in
            _ = try await send(port, .get, "/productpage", headers: ["end-user": "mallory"])
            let arrived = try #require(ratings.requests.last)
            // As productpage.py: end-user comes from the login only, never from the request.
            #expect(arrived["end-user"] == nil)
        }
    }

    @Test func failingBackendsShowTheRealAppsTexts() async throws {
        let reviews = RecordingApp(FixedApp(status: .serviceUnavailable))
        try await withRefusingPort { detailsPort in try await withServedApps([reviews, RatingsApp()]) { ports in
            let front = Self.productpage(details: detailsPort, reviews: ports[0], ratings: ports[1])
            try await withServedApp(front) { port in
                let page = try await send(port, .get, "/productpage")
                #expect(page.status == .ok)  // the page renders whatever the backends do
                #expect(page.bodyText.contains("Error fetching product details"))
                #expect(page.bodyText.contains("Sorry, product details are currently unavailable for this book."))
                #expect(page.bodyText.contains("Error fetching product reviews"))
                #expect(page.bodyText.contains("Sorry, product reviews are currently unavailable for this book."))
                #expect(reviews.requests.count == 2)  // asked twice, as the real app does

                let details = try await send(port, .get, "/api/v1/products/0")
                #expect(details.status.code == 500)  // unreachable: 500
                #expect(details.bodyText == #"{"error": "Sorry, product details are currently unavailable for this book."}"#)
                let reviewsAPI = try await send(port, .get, "/api/v1/products/0/reviews")
                #expect(reviewsAPI.status.code == 503)  // the backend's own status
                #expect(reviewsAPI.bodyText == #"{"error": "Sorry, product reviews are currently unavailable for this book."}"#)
            }
        } }
    }

    @Test func ratingsTimeoutLeavesReviewsWithAnErrorPerReviewer() async throws {
        try await withServedApp(FixedApp(status: .ok, hang: .seconds(1))) { ratings in
            // v3's real timeout is 2.5 s; a short one keeps the test quick.
            try await withServedApp(Self.reviews("v3", ratingsPort: ratings, timeout: .milliseconds(200))) { reviews in
                let response = try await send(reviews, .get, "/reviews/0")
                let body = try JSONValue(parsing: response.body)
                #expect(body["reviews"]?[0]?["rating"] == ["error": "Ratings service is currently unavailable"])
                #expect(body["reviews"]?[1]?["rating"] == ["error": "Ratings service is currently unavailable"])
            }
        }
    }

    @Test func timeoutsAreTheRealApps() {
        #expect(ReviewsApp.ratingsTimeout(starColor: "black") == .seconds(10))
        #expect(ReviewsApp.ratingsTimeout(starColor: "red") == .milliseconds(2500))
        #expect(ProductpageApp.backendTimeout == .seconds(3))
    }

    @Test func loginSetsTheUserCookieAndLogoutClearsIt() async throws {
        try await Self.withBookinfo(reviews: "v1") { port in
            let login = try await send(port, .post, "/login",
                                       headers: ["content-type": "application/x-www-form-urlencoded",
                                                 "referer": "http://bookinfo/productpage"],
                                       body: Array("username=jason&passwd=secret".utf8))
            #expect(login.status == .found)
            #expect(login.headers["location"] == "http://bookinfo/productpage")
            #expect(login.headers["set-cookie"] == "user=jason; Path=/")
            let logout = try await send(port, .get, "/logout")
            #expect(logout.status == .found)
            #expect(logout.headers["location"] == "/productpage")
            #expect(logout.headers["set-cookie"]?.hasPrefix("user=; Expires=Thu, 01 Jan 1970") == true)
            let wrongMethod = try await send(port, .get, "/login")
            #expect(wrongMethod.status == .methodNotAllowed)
        }
    }

    @Test func apiAndServiceAnswersMatchTheGoldenFile() async throws {
        try await Self.withBookinfo(reviews: "v2") { port in
            var transcript = ""
            for target in ["/health", "/api/v1/products", "/api/v1/products/0", "/api/v1/products/0/reviews",
                           "/api/v1/products/0/ratings", "/api/v1/products/x", "/nothing"] {
                let response = try await send(port, .get, target)
                transcript += "GET \(target)\n\(response.status.code) \(response.headers["content-type"] ?? "-")\n"
                transcript += "\(response.bodyText)\n\n"
            }
            try Golden.check(transcript, against: "bookinfo-productpage-api.txt")
        }
    }

    @Test func backendsAnswerAsTheRealServices() async throws {
        let reviews = Self.reviews("v1", ratingsPort: 9)
        try await withServedApps([DetailsApp(), RatingsApp(), reviews]) { ports in
            var transcript = ""
            for (port, method, target, body) in [
                (ports[0], HTTPMethod.get, "/health", ""), (ports[0], .get, "/details/7", ""), (ports[0], .get, "/details/x", ""),
                (ports[0], .get, "/other", ""),
                (ports[1], .get, "/health", ""), (ports[1], .get, "/ratings/3", ""), (ports[1], .get, "/ratings/abc", ""),
                (ports[1], .post, "/ratings/3", #"{"Reviewer1": 1, "Reviewer2": 2}"#), (ports[1], .get, "/ratings/3", ""),
                (ports[1], .post, "/ratings/4", "not json"),
                (ports[2], .get, "/health", ""), (ports[2], .get, "/reviews/1", ""), (ports[2], .get, "/reviews/x", ""),
            ] as [(Int, HTTPMethod, String, String)] {
                let response = try await send(port, method, target, body: Array(body.utf8))
                transcript += "\(method) \(target) -> \(response.status.code) \(response.headers["x-app-version"] ?? "-")\n"
                transcript += "\(response.bodyText)\n\n"
            }
            try Golden.check(transcript, against: "bookinfo-backends.txt")
        }
    }

    @Test func envOverridesTheImagesDefaults() {
        let red = ReviewsApp(version: "v2", environment: Self.environment(["STAR_COLOR": "red"]), client: { loopbackClient(timeout: $0) })
        #expect(red.starColor == "red" && red.ratingsEnabled)
        let off = ReviewsApp(version: "v3", environment: Self.environment(["ENABLE_RATINGS": "false"]), client: { loopbackClient(timeout: $0) })
        #expect(!off.ratingsEnabled)
        let domain = ServiceAddress.bookinfo("details", environment: Self.environment(["SERVICES_DOMAIN": "bookinfo.svc.cluster.local"]))
        #expect(domain == ServiceAddress(host: "details.bookinfo.svc.cluster.local", port: 9080))
        let badPort = ServiceAddress.bookinfo("reviews", environment: Self.environment(["REVIEWS_SERVICE_PORT": "http"]))
        #expect(badPort.port == 9080)
        #expect(ReviewsApp(version: "v1", environment: Self.environment([:]), client: { loopbackClient(timeout: $0) })
            .clusterName == "null")
    }

    @Test func faultyRatingsFailAboutHalfTheRequestsWithASeededDraw() async {
        let ratings = RatingsApp(version: "v-faulty", random: .seeded(7))
        var failures = 0
        for _ in 0..<1000 {
            let response = await ratings.handle(AppRequest(target: "/ratings/0"))
            if response.status == .serviceUnavailable { failures += 1 }
        }
        #expect((450...550).contains(failures), "\(failures) of 1000")
        let again = RatingsApp(version: "v-faulty", random: .seeded(7))
        var repeated = 0
        for _ in 0..<1000 where await again.handle(AppRequest(target: "/ratings/0")).status == .serviceUnavailable {
            repeated += 1
        }
        #expect(repeated == failures)  // the same seed, the same draw
    }

    @Test func unavailableRatingsFlipEveryMinute() async {
        let clock = ManualInstant()
        let ratings = RatingsApp(version: "v-unavailable", now: { clock.now })
        #expect(await ratings.handle(AppRequest(target: "/ratings/0")).status == .ok)
        clock.advance(.seconds(61))
        #expect(await ratings.handle(AppRequest(target: "/ratings/0")).status == .serviceUnavailable)
        clock.advance(.seconds(60))
        #expect(await ratings.handle(AppRequest(target: "/ratings/0")).status == .ok)
    }

    @Test func pageRendersAsTheGoldenFile() throws {
        let reviews = ReviewsApp(version: "v3", environment: Self.environment(["HOSTNAME": "reviews-v3-7dc7bd9b4c-xkz4p"]),
                                 client: { loopbackClient(timeout: $0) })
        let page = ProductpagePage.product(
            product: ProductpageApp.product, user: "jason <admin>",
            details: (200, DetailsApp.details(id: 0)), reviews: (200, reviews.body(productID: 0, stars: (5, 2))),
            reviewsServedBy: "reviews-v3")
        try Golden.check(page, against: "productpage-v3.html")
    }

    @Test func pageWithFailedBackendsRendersAsTheGoldenFile() throws {
        let failed = ProductpagePage.product(
            product: ProductpageApp.product, user: "",
            details: (500, ["error": "Sorry, product details are currently unavailable for this book."]),
            reviews: (503, ["error": "Sorry, product reviews are currently unavailable for this book."]),
            reviewsServedBy: nil)
        try Golden.check(failed, against: "productpage-errors.html")
    }

    @Test func pythonJSONLayout() {
        #expect(PythonJSON.dumps(["a": [1, 2.5, true, .null], "é": "ü\n\"x\""]) == #"{"a": [1, 2.5, true, null], "\u00e9": "\u00fc\n\"x\""}"#)
        #expect(PythonJSON.dumps(["emoji": "😀"]) == #"{"emoji": "\ud83d\ude00"}"#)
    }

    @Test func cookieValuesSurviveOddNames() {
        #expect(ProductpageApp.cookieValue("jason") == "jason")
        #expect(ProductpageApp.cookieValue("a b;c%") == "a%20b%3Bc%25")
        let request = AppRequest(target: "/", headers: ["cookie": "theme=dark; user=a%20b%0D%0Ax"])
        #expect(ProductpageApp.user(of: request) == "a bx")  // control characters never reach a header
    }
}

/// A clock the test moves by hand.
final class ManualInstant: Sendable {
    private let current = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { current.withLock { $0 } }
    func advance(_ duration: Duration) { current.withLock { $0 += duration } }
}
