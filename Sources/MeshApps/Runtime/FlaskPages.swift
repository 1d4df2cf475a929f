import MeshHTTP

/// The error pages of Flask, which serves productpage and helloworld.
enum FlaskPages {
    static let notFound = HTTPResponse.html(
        """
        <!doctype html>
        <html lang=en>
        <title>404 Not Found</title>
        <h1>Not Found</h1>
        <p>The requested URL was not found on the server. If you entered the URL manually please check your spelling \
        and try again.</p>

        """, status: .notFound)

    static let methodNotAllowed = HTTPResponse.html(
        """
        <!doctype html>
        <html lang=en>
        <title>405 Method Not Allowed</title>
        <h1>Method Not Allowed</h1>
        <p>The method is not allowed for the requested URL.</p>

        """, status: .methodNotAllowed)
}
