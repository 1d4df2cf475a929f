/// fortio's probability lists for its echo server's query parameters:
/// `status=503` (always 503), `status=503:20,404:10,403:0.5` (20 % 503, 10 % 404,
/// 0.5 % 403, the remaining 69.5 % the default). The same form serves `delay`
/// (`10ms:20,1s:0.5`) and `size` (`512:20,16384:10`).
///
/// Rules as fortio's generateStatus/generateDelay/generateSize: percentages may end
/// in `%`, each is in [0, 100], their running sum (rounded to three decimals) must not
/// pass 100; a roll of 100·rand in [0, 100) picks the first entry whose running sum is
/// at least the roll, else the default.
struct ProbabilityList<Value: Sendable>: Sendable {
    enum Entry: Sendable {
        /// One value without a percentage: always that.
        case always(Value)
        /// Values with running sums of their percentages.
        case weighted([(value: Value, cumulative: Double)])
    }

    let entry: Entry

    /// nil when the text is not a valid list (fortio then falls back: 400 for status,
    /// no delay, the echoed body for size).
    init?(_ text: String, value parse: (Substring) -> Value?) {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        if items.count == 1 && !text.contains(":") {
            guard let value = parse(Substring(text)) else { return nil }
            entry = .always(value)
            return
        }
        var weighted: [(value: Value, cumulative: Double)] = []
        var sum = 0.0
        for item in items {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let value = parse(parts[0]) else { return nil }
            let percentText = parts[1].hasSuffix("%") ? parts[1].dropLast() : parts[1]
            guard let percent = Double(percentText), percent >= 0, percent <= 100 else { return nil }
            sum += percent
            let rounded = (sum * 1000).rounded() / 1000
            guard rounded <= 100 else { return nil }
            weighted.append((value, rounded))
        }
        entry = .weighted(weighted)
    }

    /// The value for a roll in [0, 100), nil for "the default".
    func pick(roll: Double) -> Value? {
        switch entry {
        case .always(let value):
            return value
        case .weighted(let entries):
            return entries.first { roll <= $0.cumulative }?.value
        }
    }

    func pick(_ random: RandomSource) -> Value? {
        pick(roll: 100 * random.unit())
    }
}
