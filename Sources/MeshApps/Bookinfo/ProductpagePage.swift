import MeshModel

/// The HTML of productpage: the same sections, texts and markers as Istio's
/// templates (title "Simple Bookstore App", "Book Details", "Book Reviews", the stars
/// as SVG in a `text-<color>-500` box, "Reviews served by: <pod>"), with a few lines
/// of inline CSS in place of the Tailwind stylesheet, so the page needs no static files.
enum ProductpagePage {
    static func product(product: JSONValue, user: String, details: (Int, JSONValue), reviews: (Int, JSONValue),
                        reviewsServedBy: String?) -> String {
        var out = head
        out += navigation(user: user)
        out += """
            <div class="container">
              <h1 class="title">\(HTML.escape(product["title"]?.stringValue ?? ""))</h1>
              <p class="description">\(product["descriptionHtml"]?.stringValue ?? "")</p>
            </div>

            """
        out += detailsSection(details)
        out += reviewsSection(reviews, servedBy: reviewsServedBy)
        out += "</body>\n</html>\n"
        return out
    }

    static func index(details: ServiceAddress, reviews: ServiceAddress, ratings: ServiceAddress) -> String {
        var out = head
        out += """
            <div class="container">
              <h1 class="title">Hello! This is a simple bookstore application consisting of three services as shown below</h1>
              <table class="table">
                <tr><th>name</th><td>\(HTML.escape(details.description))</td></tr>
                <tr><th>endpoint</th><td>details</td></tr>
                <tr><th>children</th><td><table class="table">
                  <tr><th>name</th><th>endpoint</th><th>children</th></tr>
                  <tr><td>\(HTML.escape(details.description))</td><td>details</td><td></td></tr>
                  <tr><td>\(HTML.escape(reviews.description))</td><td>reviews</td><td><table class="table">
                    <tr><th>name</th><th>endpoint</th><th>children</th></tr>
                    <tr><td>\(HTML.escape(ratings.description))</td><td>ratings</td><td></td></tr>
                  </table></td></tr>
                </table></td></tr>
              </table>
              <p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
              <p><a href="/productpage?u=normal">Normal user</a></p>
              <p><a href="/productpage?u=test">Test user</a></p>
            </div>
            </body>
            </html>

            """
        return out
    }

    static let head = """
        <!doctype html>
        <html>
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1.0">
        <title>Simple Bookstore App</title>
        <style>
        body{font-family:sans-serif;margin:0;color:#111827}
        nav{background:#1f2937;color:#fff;padding:1rem 2rem;display:flex;justify-content:space-between}
        nav a{color:#d1d5db}
        .container{padding:1rem 2rem;max-width:64rem}
        .title{color:#1e3a8a}
        .reviews{background:#eff6ff}
        .review{display:inline-block;vertical-align:top;max-width:28rem;padding:1rem 2rem}
        .stars{display:flex;gap:.25rem}
        .stars svg{width:1.25rem;height:1.25rem}
        .text-black-500{color:#000}
        .text-red-500{color:#ef4444}
        .error{color:#ef4444}
        table{border-collapse:collapse}
        td,th{border:1px solid #d1d5db;padding:.25rem .5rem;text-align:left}
        </style>
        </head>
        <body>

        """

    static func navigation(user: String) -> String {
        let account =
            user.isEmpty
            ? """
                <form method="post" action="login" name="login_form">
                    <input id="username" name="username" placeholder="Username" required>
                    <input id="password" name="passwd" type="password" placeholder="Password">
                    <button type="submit" id="sign-in-button">Sign in</button>
                  </form>
              """
            : """
                <span class="user">\(HTML.escape(user))</span> <a href="logout">Sign out</a>
              """
        return """
            <nav>
              <a href="#" aria-current="page">BookInfo Sample</a>
              <div>
            \(account)
              </div>
            </nav>

            """
    }

    static func detailsSection(_ details: (Int, JSONValue)) -> String {
        let (status, body) = details
        guard status == 200 else {
            return """
                <div class="container details">
                  <p class="error">Error fetching product details</p>
                  <p>\(HTML.escape(body["error"]?.stringValue ?? ""))</p>
                </div>

                """
        }
        func field(_ name: String) -> String { HTML.escape(text(of: body[name])) }
        return """
            <div class="container details">
              <h4>Book Details</h4>
              <table>
                <thead><tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr></thead>
                <tbody><tr><td>\(field("ISBN-10"))</td><td>\(field("publisher"))</td><td>\(field("pages"))</td><td>\(field("type"))</td><td>\(field("language"))</td></tr></tbody>
              </table>
            </div>

            """
    }

    static func reviewsSection(_ reviews: (Int, JSONValue), servedBy: String?) -> String {
        let (status, body) = reviews
        guard status == 200 else {
            return """
                <div class="container reviews">
                  <p class="error">Error fetching product reviews</p>
                  <p>\(HTML.escape(body["error"]?.stringValue ?? ""))</p>
                </div>

                """
        }
        var out = "<div class=\"container reviews\">\n  <h4>Book Reviews</h4>\n"
        let podName = text(of: body["podname"])
        let clusterName = text(of: body["clustername"])
        for review in body["reviews"]?.arrayValue ?? [] {
            out += "  <section class=\"review\">\n"
            if let rating = review["rating"] {
                if let stars = rating["stars"]?.intValue {
                    let filled = max(0, min(stars, 5))
                    let color = HTML.escape(rating["color"]?.stringValue ?? "black")
                    out += "    <div class=\"stars text-\(color)-500\" title=\"\(filled) stars\">\n"
                    out += String(repeating: "      " + filledStar + "\n", count: filled)
                    out += String(repeating: "      " + emptyStar + "\n", count: 5 - filled)
                    out += "    </div>\n"
                } else if let error = rating["error"]?.stringValue {
                    out += "    <p class=\"error\">\(HTML.escape(error))</p>\n"
                }
            }
            out += "    <blockquote><p>\"\(HTML.escape(text(of: review["text"])))\"</p></blockquote>\n"
            out += "    <div class=\"reviewer\">\(HTML.escape(text(of: review["reviewer"])))</div>\n"
            var served = "Reviews served by: " + HTML.escape(podName)
            if clusterName != "null" && !clusterName.isEmpty { served += " on cluster " + HTML.escape(clusterName) }
            if let servedBy { served += " (" + HTML.escape(servedBy) + ")" }
            out += "    <div class=\"served-by\">\(served)</div>\n"
            out += "  </section>\n"
        }
        out += "</div>\n"
        return out
    }

    /// A JSON scalar as Jinja prints it.
    static func text(of value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: return text
        case .int(let number)?: return String(number)
        case .double(let number)?: return String(number)
        case .bool(let flag)?: return flag ? "True" : "False"
        case .null?, nil: return ""
        case let other?: return other.serialized()
        }
    }

    static let filledStar = """
        <svg class="star filled" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path fill-rule="evenodd" \
        d="M10.868 2.884c-.321-.772-1.415-.772-1.736 0l-1.83 4.401-4.753.381c-.833.067-1.171 1.107-.536 1.651l3.62 \
        3.102-1.106 4.637c-.194.813.691 1.456 1.405 1.02L10 15.591l4.069 2.485c.713.436 1.598-.207 1.404-1.02l-1.106-4.637 \
        3.62-3.102c.635-.544.297-1.584-.536-1.65l-4.752-.382-1.831-4.401z" clip-rule="evenodd"/></svg>
        """

    static let emptyStar = """
        <svg class="star empty" viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.2" aria-hidden="true">\
        <path d="M10 2.5l2.2 4.9 5.3.5-4 3.5 1.2 5.2L10 13.9l-4.7 2.7 1.2-5.2-4-3.5 5.3-.5z"/></svg>
        """
}
