/// An HTTP request method: the registered ones as constants, any other token as an extension method.
///
/// A struct rather than an enum so that an extension method (`PURGE`, `PROPFIND`)
/// is a value like any other and a proxy forwards it unchanged. Methods are
/// case-sensitive (RFC 9110 §9.1): `get` is not `GET`.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let connect = HTTPMethod("CONNECT")
    public static let options = HTTPMethod("OPTIONS")
    public static let trace = HTTPMethod("TRACE")
    public static let patch = HTTPMethod("PATCH")

    public var description: String { rawValue }

    /// Safe and idempotent methods (RFC 9110 §9.2.2): a client may resend them
    /// after a connection failed without asking the caller.
    public var isIdempotent: Bool {
        switch rawValue {
        case "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE": return true
        default: return false
        }
    }

    /// Whether `rawValue` is a valid token (RFC 9110 §5.6.2), the only form a method may take on the wire.
    public var isValidToken: Bool {
        !rawValue.isEmpty && rawValue.utf8.allSatisfy { HTTPSyntax.isTokenByte($0) }
    }
}
