/// Where one bookinfo service reaches another: `http://details:9080` by default;
/// `DETAILS_HOSTNAME`, `SERVICES_DOMAIN` and `DETAILS_SERVICE_PORT` change it, as in
/// the real apps (and tests point them at loopback ports).
public struct ServiceAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The address of service `name` (`details`, `reviews`, `ratings`) under `environment`.
    public static func bookinfo(_ name: String, environment: AppEnvironment) -> ServiceAddress {
        let upper = name.uppercased()
        var host = environment["\(upper)_HOSTNAME"] ?? name
        if let domain = environment["SERVICES_DOMAIN"] { host += "." + domain }
        let port = environment["\(upper)_SERVICE_PORT"].flatMap(Int.init).flatMap { (1...65535).contains($0) ? $0 : nil }
        return ServiceAddress(host: host, port: port ?? 9080)
    }

    public var description: String { "http://\(host):\(port)" }
}
