import MeshHTTP
import MeshModel

/// bookinfo's front end (productpage.py): the product page in HTML, a JSON API,
/// and login/logout, calling details and reviews (and ratings for its API).
///
/// What the real app does and this one keeps:
/// - Every backend call waits at most 3 s for a connection and for each read
///   (Python requests' `timeout=3.0`); reviews is asked twice before giving up
///   (the deliberate "bug" Istio's fault-injection task shows).
/// - A failed backend leaves the page at 200 with "Sorry, product ... are currently
///   unavailable for this book."; the API answers with the backend's status (500 when
///   it could not be reached) and `{"error": ...}`.
/// - The user who logs in is kept in the `user` cookie and sent to the backends as
///   the `end-user` header, which Istio's request-routing task matches on; the
///   tracing headers of `TraceHeaders.productpage` are copied onto every call.
public final class ProductpageApp: HTTPApp {
    public let details: ServiceAddress
    public let reviews: ServiceAddress
    public let ratings: ServiceAddress
    private let client: ServiceClient

    /// The real client's timeout (Python requests, connect and read).
    public static let backendTimeout = Duration.seconds(3)

    public init(environment: AppEnvironment, client: ServiceClient) {
        details = .bookinfo("details", environment: environment)
        reviews = .bookinfo("reviews", environment: environment)
        ratings = .bookinfo("ratings", environment: environment)
        self.client = client
    }

    public var identity: String { "productpage-v1" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let segments = request.segments
        let isRead = request.method == .get || request.method == .head
        switch segments {
        case [""], ["index.html"]:
            guard isRead else { return FlaskPages.methodNotAllowed }
            return .html(ProductpagePage.index(details: details, reviews: reviews, ratings: ratings))
        case ["health"]:
            guard isRead else { return FlaskPages.methodNotAllowed }
            return .html("Product page is healthy")
        case ["login"]:
            guard request.method == .post else { return FlaskPages.methodNotAllowed }
            return login(request)
        case ["logout"]:
            guard isRead else { return FlaskPages.methodNotAllowed }
            return logout(request)
        case ["productpage"]:
            guard isRead else { return FlaskPages.methodNotAllowed }
            return await productPage(request)
        case ["api", "v1", "products"]:
            guard isRead else { return FlaskPages.methodNotAllowed }
            return Self.pythonJSON(.array([Self.product]), status: 200)
        case _ where segments.count >= 4 && segments.count <= 5 && segments[0] == "api" && segments[1] == "v1"
            && segments[2] == "products" && !segments[3].isEmpty:
            guard isRead else { return FlaskPages.methodNotAllowed }
            let id = String(segments[3])
            let headers = forwardHeaders(request)
            let answer: (Int, JSONValue)
            switch segments.count == 5 ? segments[4] : nil {
            case nil: answer = await fetchDetails(id, headers: headers)
            case "reviews": answer = await fetchReviews(id, headers: headers).result
            case "ratings": answer = await fetchRatings(id, headers: headers)
            default: return FlaskPages.notFound
            }
            return Self.pythonJSON(answer.1, status: answer.0)
        default:
            return FlaskPages.notFound
        }
    }

    // MARK: Pages

    private func productPage(_ request: AppRequest) async -> HTTPResponse {
        let headers = forwardHeaders(request)
        // One after the other, as the real app asks them.
        let details = await fetchDetails("0", headers: headers)
        let reviews = await fetchReviews("0", headers: headers)
        let page = ProductpagePage.product(
            product: Self.product, user: Self.user(of: request) ?? "",
            details: details, reviews: reviews.result, reviewsServedBy: reviews.servedBy)
        return .html(page)
    }

    private func login(_ request: AppRequest) -> HTTPResponse {
        let user = request.formFields.first { $0.name == "username" }?.value ?? ""
        var headers = HTTPHeaders()
        headers.add(name: "Set-Cookie", value: "user=\(Self.cookieValue(user)); Path=/")
        return .redirect(to: Self.referrer(of: request), headers: headers)
    }

    private func logout(_ request: AppRequest) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Set-Cookie", value: "user=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
        return .redirect(to: Self.referrer(of: request), headers: headers)
    }

    // MARK: Backends

    /// The headers sent to the backends: the trace headers as received and `end-user`
    /// from the login cookie.
    func forwardHeaders(_ request: AppRequest) -> HTTPHeaders {
        var headers = TraceHeaders.forward(TraceHeaders.productpage, from: request.headers)
        if let user = Self.user(of: request), !user.isEmpty {
            headers.add(name: "end-user", value: user)
        }
        return headers
    }

    private func fetchDetails(_ id: String, headers: HTTPHeaders) async -> (Int, JSONValue) {
        let response = await get(details, path: "/details/\(id)", headers: headers)
        return Self.outcome(response, error: "Sorry, product details are currently unavailable for this book.")
    }

    /// Reviews, tried twice; `servedBy` is the `x-app-version` of the answer that was used.
    private func fetchReviews(_ id: String, headers: HTTPHeaders) async -> (result: (Int, JSONValue), servedBy: String?) {
        var response: HTTPResponse?
        for _ in 0..<2 {
            response = await get(reviews, path: "/reviews/\(id)", headers: headers)
            if response?.status == .ok { break }
        }
        let result = Self.outcome(response, error: "Sorry, product reviews are currently unavailable for this book.")
        return (result, result.0 == 200 ? response?.headers["x-app-version"] : nil)
    }

    private func fetchRatings(_ id: String, headers: HTTPHeaders) async -> (Int, JSONValue) {
        let response = await get(ratings, path: "/ratings/\(id)", headers: headers)
        return Self.outcome(response, error: "Sorry, product ratings are currently unavailable for this book.")
    }

    private func get(_ service: ServiceAddress, path: String, headers: HTTPHeaders) async -> HTTPResponse? {
        try? await client.get(host: service.host, port: service.port, path: path, headers: headers)
    }

    /// productpage.py's rule: 200 with the body's JSON, else the status (500 when there
    /// was no response) with the error text.
    static func outcome(_ response: HTTPResponse?, error text: String) -> (Int, JSONValue) {
        if let response, response.status == .ok, let value = try? JSONValue(parsing: response.body) {
            return (200, value)
        }
        let status = response.map { $0.status == .ok ? 500 : $0.status.code } ?? 500
        return (status, ["error": .string(text)])
    }

    // MARK: Data and helpers

    static let product: JSONValue = [
        "id": 0,
        "title": "The Comedy of Errors",
        "descriptionHtml": """
            <a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors \
            is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical \
            comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to \
            puns and word play.
            """,
    ]

    /// The logged-in user: the `user` cookie, percent-decoded, control characters dropped
    /// (it becomes a header value).
    static func user(of request: AppRequest) -> String? {
        guard let raw = request.cookie("user") else { return nil }
        let decoded = HTTPRequestHead.percentDecoded(Substring(raw))
        return String(decoded.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
    }

    /// A cookie-safe spelling of `user`: cookie-octets as they are, the rest percent-encoded.
    static func cookieValue(_ user: String) -> String {
        var out = ""
        for byte in user.utf8 {
            let isCookieOctet = byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte)
                || (0x3C...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
            if isCookieOctet && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// Where login and logout send the browser back to: the page it came from.
    static func referrer(of request: AppRequest) -> String {
        guard let referer = request.headers["referer"], !referer.isEmpty,
              referer.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "/productpage" }
        return referer
    }

    static func pythonJSON(_ value: JSONValue, status: Int) -> HTTPResponse {
        HTTPResponse(status: HTTPStatus(code: status), headers: ["Content-Type": "application/json"],
                     body: Array(PythonJSON.dumps(value).utf8))
    }
}
