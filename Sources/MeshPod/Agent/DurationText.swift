extension Duration {
    /// The duration as Go's `time.Duration.String` writes it (`10s`, `1m20s`,
    /// `5m0s`, `200ms`, `1.6s`): kubelet's messages ("back-off 40s restarting
    /// failed container") read the same from meshlab.
    public var goDescription: String {
        let (seconds, attoseconds) = components
        var nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        if negative { nanoseconds = -nanoseconds }
        let sign = negative ? "-" : ""
        if nanoseconds < 1_000_000_000 {
            if nanoseconds < 1_000 { return "\(sign)\(nanoseconds)ns" }
            if nanoseconds < 1_000_000 { return sign + Self.decimal(nanoseconds, unit: 1_000) + "µs" }
            return sign + Self.decimal(nanoseconds, unit: 1_000_000) + "ms"
        }
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let rest = nanoseconds % 60_000_000_000
        var text = sign
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        return text + Self.decimal(rest, unit: 1_000_000_000) + "s"
    }

    /// `value / unit` with its fraction, trailing zeros dropped (`1600000000, 1e9` → `1.6`).
    private static func decimal(_ value: Int64, unit: Int64) -> String {
        let whole = value / unit
        var fraction = value % unit
        guard fraction != 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: String(unit).count - 1 - digits.count) + digits
        while digits.hasSuffix("0") {
            digits.removeLast()
            fraction /= 10
        }
        return "\(whole).\(digits)"
    }
}
