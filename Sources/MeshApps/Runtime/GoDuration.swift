/// Durations written as Go's `time.ParseDuration` reads them (`300ms`, `1.5s`,
/// `2h45m`, `10us`), the notation of fortio's and httpbin's query parameters.
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// nil when `text` is not a Go duration (a bare number other than 0 needs a unit).
    static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var nanoseconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number.hasPrefix(".") ? "0" + number : number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            nanoseconds += value * unit.1
            guard nanoseconds < 9.2e18 else { return nil }
        }
        let whole = Int64(nanoseconds.rounded(.towardZero))
        return .nanoseconds(negative ? -whole : whole)
    }

    /// go-httpbin's reading: a Go duration, else seconds as a decimal number (`/delay/1.5`).
    static func parseOrSeconds(_ text: String) -> Duration? {
        if let duration = parse(text) { return duration }
        guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e9 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.towardZero)))
    }
}

extension Duration {
    /// Seconds as a double (for comparisons and arithmetic on bounds).
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
