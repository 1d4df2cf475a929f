import Testing
@testable import MeshHTTP

@Suite struct HTTPHeadersTests {
    @Test func lookupIgnoresCaseAndKeepsOrderAndSpelling() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-A": "1"]
        headers.add(name: "x-a", value: "2")
        #expect(headers["content-TYPE"] == "text/plain")
        #expect(headers.values(for: "X-a") == ["1", "2"])
        #expect(headers.map(\.name) == ["Content-Type", "X-A", "x-a"])
        headers.replaceOrAdd(name: "X-A", value: "3")
        #expect(headers.values(for: "x-a") == ["3"])
        #expect(headers.map(\.name) == ["Content-Type", "X-A"])
        headers.remove(name: "CONTENT-type")
        #expect(!headers.contains(name: "content-type"))
        #expect(headers.count == 1)
    }

    @Test func listValuesSplitCommasAcrossFields() {
        let headers: HTTPHeaders = ["Connection": "keep-alive, Upgrade", "connection": " TE ,,"]
        #expect(headers.listValues(for: "connection") == ["keep-alive", "Upgrade", "TE"])
        #expect(headers.containsToken("upgrade", in: "Connection"))
        #expect(!headers.containsToken("close", in: "Connection"))
    }
}

@Suite struct HTTPRequestHeadTests {
    @Test func originForm() {
        let head = HTTPRequestHead(method: .get, target: "/api/v1/pods?watch=true&labelSelector=app%3Dweb+x#frag",
                                   headers: ["Host": "localhost:15080"])
        #expect(head.path == "/api/v1/pods")
        #expect(head.query == "watch=true&labelSelector=app%3Dweb+x")
        #expect(head.queryValue("labelSelector") == "app=web x")
        #expect(head.queryValue("watch") == "true")
        #expect(head.host == "localhost:15080")
        #expect(!head.isAbsoluteForm)
        #expect(head.scheme == nil)
    }

    @Test(arguments: [
        ("http://svc.default:8080/a/b?x=1", "svc.default:8080", "/a/b", "/a/b?x=1"),
        ("http://svc", "svc", "/", "/"),
        ("HTTP://svc?q", "svc", "/", "/?q"),
        ("https://[::1]:443/", "[::1]:443", "/", "/"),
    ])
    func absoluteForm(target: String, host: String, path: String, origin: String) {
        let head = HTTPRequestHead(method: .get, target: target, headers: ["Host": "ignored"])
        #expect(head.isAbsoluteForm)
        #expect(head.host == host)
        #expect(head.path[...] == path[...])
        #expect(head.originForm[...] == origin[...])
    }

    @Test func keepAliveRules() {
        #expect(HTTPRequestHead(method: .get, target: "/").keepAlive)
        #expect(!HTTPRequestHead(method: .get, target: "/", headers: ["Connection": "Close"]).keepAlive)
        #expect(!HTTPRequestHead(method: .get, target: "/", version: .http1_0).keepAlive)
        #expect(HTTPRequestHead(method: .get, target: "/", version: .http1_0, headers: ["Connection": "Keep-Alive"]).keepAlive)
    }

    @Test func expectContinue() {
        #expect(HTTPRequestHead(method: .put, target: "/", headers: ["Expect": "100-Continue"]).expectsContinue)
        #expect(!HTTPRequestHead(method: .put, target: "/").expectsContinue)
    }

    @Test func percentDecodingKeepsMalformedEscapes() {
        #expect(HTTPRequestHead.percentDecoded("a%2Fb%zz%4", plusAsSpace: false) == "a/b%zz%4")
        #expect(HTTPRequestHead.percentDecoded("a+b", plusAsSpace: true) == "a b")
        #expect(HTTPRequestHead.percentDecoded("a+b", plusAsSpace: false) == "a+b")
    }
}

@Suite struct HTTPStatusTests {
    @Test func equalityIsByCode() {
        #expect(HTTPStatus(code: 404, reasonPhrase: "Nope") == .notFound)
        #expect(HTTPStatus(code: 431).reasonPhrase == "Request Header Fields Too Large")
        #expect(HTTPStatus(code: 299).reasonPhrase == "")
        #expect(HTTPStatus.notModified.forbidsBody && HTTPStatus.continue.forbidsBody && !HTTPStatus.ok.forbidsBody)
    }

    @Test func methods() {
        #expect(HTTPMethod("PURGE").isValidToken)
        #expect(!HTTPMethod("GE T").isValidToken)
        #expect(HTTPMethod.put.isIdempotent && !HTTPMethod.post.isIdempotent)
    }
}
