import Glibc
import MeshSystem
import Testing

@Suite struct SocketAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("0.0.0.0:0", "0.0.0.0:0"),
        ("[::1]:80", "[::1]:80"),
        ("[::]:15001", "[::]:15001"),
        ("[fe80::1%2]:53", "[fe80::1%2]:53"),
        ("[0:0:0:0:0:0:0:1]:80", "[::1]:80"),
        ("[::ffff:10.0.0.1]:443", "[::ffff:10.0.0.1]:443"),
        ("unix:/run/meshlab/api.sock", "unix:/run/meshlab/api.sock"),
        ("/tmp/x.sock", "unix:/tmp/x.sock"),
    ])
    func parsesAndPrints(text: String, printed: String) throws {
        let address = try SocketAddress(parsing: text)
        #expect(address.description == printed)
        #expect(try SocketAddress(parsing: printed) == address)
    }

    @Test(arguments: [
        "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o", "256.0.0.1:80",
        "localhost:80", "::1:80", "[::1]80", "[::1:80", "[nonsense]:80", "unix:", "1.2.3:80",
    ])
    func rejectsWithAReason(text: String) {
        #expect(throws: SocketAddressError.self) { _ = try SocketAddress(parsing: text) }
    }

    @Test func unixPathLengthIsChecked() {
        let long = "/" + String(repeating: "a", count: 120)
        #expect(throws: SocketAddressError.self) { _ = try SocketAddress(parsing: long) }
    }

    @Test func ipv4Values() {
        let address = IPv4Address(10, 1, 2, 3)
        #expect(address.rawValue == 0x0a01_0203)
        #expect(IPv4Address("10.1.2.3") == address)
        #expect(address.description == "10.1.2.3")
        #expect(IPv4Address.loopback.isLoopback)
        #expect(!address.isLoopback)
        #expect(IPv4Address("10.1.2.3.4") == nil)
    }

    @Test func ipv6Values() {
        let address = IPv6Address("2001:db8::1")!
        #expect(address.bytes.prefix(4) == [0x20, 0x01, 0x0d, 0xb8])
        #expect(address.bytes.last == 1)
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(IPv6Address.loopback.description == "::1")
    }

    @Test func boundSocketReportsItsRealPort() throws {
        let socket = try Sockets.makeSocket(family: AF_INET, kind: .stream)
        try Sockets.bind(socket, to: .loopback(port: 0))
        let local = try Sockets.localAddress(of: socket)
        #expect(local?.port != 0)
        if case .ipv4(let address, _)? = local { #expect(address == .loopback) } else { Issue.record("not IPv4: \(String(describing: local))") }
    }

    @Test func bindFailureNamesTheCallAndAddress() throws {
        let first = try Sockets.makeSocket(family: AF_INET, kind: .stream)
        try Sockets.bind(first, to: .loopback(port: 0))
        try Sockets.listen(first, backlog: 1)
        let taken = try Sockets.localAddress(of: first)!
        let second = try Sockets.makeSocket(family: AF_INET, kind: .stream)
        #expect(throws: SystemError(errno: EADDRINUSE, function: "bind(\(taken))")) { try Sockets.bind(second, to: taken) }
    }
}
