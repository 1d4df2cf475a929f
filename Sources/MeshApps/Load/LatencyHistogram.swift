/// Latencies in whole microseconds, kept in log-linear buckets as HdrHistogram
/// keeps them: exact below 128 µs, then 64 buckets per power of two, so a
/// percentile is never off by more than 1/64 (1.6 %) of its value. Memory is a
/// few KB whatever the count, and two histograms merge by adding buckets (each
/// connection keeps its own, the report adds them up).
public struct LatencyHistogram: Sendable, Equatable {
    /// Values below 2^exactBits are their own bucket.
    static let exactBits = 7
    static let exactLimit: UInt64 = 1 << exactBits
    /// Buckets per power of two above the exact range.
    static let bucketsPerOctave = 64

    /// Count per bucket index (`bucketIndex(_:)`), grown as larger values arrive.
    public private(set) var counts: [UInt64] = []
    public private(set) var count: UInt64 = 0
    /// Exact extremes and sums (the buckets only bound each value).
    public private(set) var minimum: UInt64 = 0
    public private(set) var maximum: UInt64 = 0
    public private(set) var sum: Double = 0
    public private(set) var sumOfSquares: Double = 0

    public init() {}

    /// The bucket a value falls in.
    static func bucketIndex(_ value: UInt64) -> Int {
        if value < exactLimit { return Int(value) }
        let width = UInt64.bitWidth - value.leadingZeroBitCount
        let shift = width - exactBits
        let mantissa = Int(value >> UInt64(shift))  // 64...127
        return Int(exactLimit) + (shift - 1) * bucketsPerOctave + (mantissa - bucketsPerOctave)
    }

    /// The values bucket `index` holds.
    static func bucketRange(_ index: Int) -> ClosedRange<UInt64> {
        if index < Int(exactLimit) { return UInt64(index)...UInt64(index) }
        let offset = index - Int(exactLimit)
        let shift = UInt64(offset / bucketsPerOctave + 1)
        let low = UInt64(bucketsPerOctave + offset % bucketsPerOctave) << shift
        return low...(low + (1 << shift) - 1)
    }

    public mutating func record(microseconds value: UInt64) {
        let index = Self.bucketIndex(value)
        if index >= counts.count { counts += Array(repeating: 0, count: index + 1 - counts.count) }
        counts[index] += 1
        minimum = count == 0 ? value : min(minimum, value)
        maximum = count == 0 ? value : max(maximum, value)
        count += 1
        let number = Double(value)
        sum += number
        sumOfSquares += number * number
    }

    /// Records a duration, rounded to the microsecond (negative durations count as 0).
    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        record(microseconds: UInt64(max(0, micros)))
    }

    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        if other.counts.count > counts.count { counts += Array(repeating: 0, count: other.counts.count - counts.count) }
        for (index, value) in other.counts.enumerated() { counts[index] += value }
        minimum = count == 0 ? other.minimum : min(minimum, other.minimum)
        maximum = count == 0 ? other.maximum : max(maximum, other.maximum)
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// The value at percentile `p` (0...100) in microseconds: the highest value of the
    /// bucket holding the ⌈p·count/100⌉-th smallest value, kept within the exact
    /// minimum and maximum (HdrHistogram's `valueAtPercentile`, so a bound checked against
    /// it errs on the safe side). 0 when empty.
    public func percentile(_ p: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let clamped = min(100, max(0, p))
        let rank = max(1, UInt64((clamped / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return min(maximum, max(minimum, Self.bucketRange(index).upperBound)) }
        }
        return maximum
    }

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    public var standardDeviation: Double {
        guard count > 1 else { return 0 }
        let mean = self.mean
        return max(0, sumOfSquares / Double(count) - mean * mean).squareRoot()
    }

    /// The buckets that hold values, in order.
    public var buckets: [(range: ClosedRange<UInt64>, count: UInt64)] {
        counts.enumerated().filter { $0.element > 0 }.map { (Self.bucketRange($0.offset), $0.element) }
    }

    /// Rebuilds a histogram from its parts (a report read back from JSON); nil when they do not fit.
    public init?(buckets: [(lowest: UInt64, count: UInt64)], minimum: UInt64, maximum: UInt64, sum: Double,
                 sumOfSquares: Double) {
        for bucket in buckets where bucket.count > 0 {
            let index = Self.bucketIndex(bucket.lowest)
            guard Self.bucketRange(index).lowerBound == bucket.lowest, index < 1 << 16 else { return nil }
            if index >= counts.count { counts += Array(repeating: 0, count: index + 1 - counts.count) }
            counts[index] += bucket.count
            count += bucket.count
        }
        guard count == 0 || minimum <= maximum else { return nil }
        self.minimum = count == 0 ? 0 : minimum
        self.maximum = count == 0 ? 0 : maximum
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }
}
