import MeshHTTP
import MeshModel

/// bookinfo's details service (details.rb): the book's publisher, pages, ISBNs.
///
/// v2's image reads the details from Google's book API; a lab has no way out to the
/// internet, so here v2 answers from the same table as v1 (its response header says v2).
public struct DetailsApp: HTTPApp {
    public let version: String

    public init(version: String = "v1") {
        self.version = version
    }

    public var identity: String { "details-\(version)" }

    public func handle(_ request: AppRequest) async -> HTTPResponse {
        let segments = request.segments
        switch segments.first {
        case "health":
            return .json(["status": "Details is healthy"])
        case "details":
            // WEBrick splits the path and takes its last non-empty part as the id.
            guard let last = segments.last(where: { !$0.isEmpty }), let id = Int(last) else {
                return .json(["error": "please provide numeric product id"], status: .badRequest)
            }
            return .json(Self.details(id: id))
        default:
            return .html(Self.notFoundPage(path: request.path), status: .notFound)
        }
    }

    /// The record the real service returns, keys in its order.
    static func details(id: Int) -> JSONValue {
        [
            "id": .int(id),
            "author": "William Shakespeare",
            "year": 1595,
            "type": "paperback",
            "pages": 200,
            "publisher": "PublisherA",
            "language": "English",
            "ISBN-10": "1234567890",
            "ISBN-13": "123-1234567890",
        ]
    }

    static func notFoundPage(path: String) -> String {
        "<HTML>\n  <HEAD><TITLE>Not Found</TITLE></HEAD>\n  <BODY>\n    <H1>Not Found</H1>\n"
            + "    `\(HTML.escape(path))' not found.\n  </BODY>\n</HTML>\n"
    }
}
