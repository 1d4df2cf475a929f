import Synchronization

/// Where apps draw chance from: the system generator when they run, a seeded
/// generator in tests (fortio's probability lists, httpbin's weighted statuses,
/// `/bytes?seed=`), so a test can check a distribution exactly.
public struct RandomSource: Sendable {
    private let nextValue: @Sendable () -> UInt64

    public init(_ next: @escaping @Sendable () -> UInt64) {
        self.nextValue = next
    }

    /// The system's generator.
    public static let system = RandomSource { UInt64.random(in: .min ... .max) }

    /// A deterministic sequence for `seed` (SplitMix64).
    public static func seeded(_ seed: UInt64) -> RandomSource {
        let state = SeededState(seed)
        return RandomSource { state.next() }
    }

    public func next() -> UInt64 { nextValue() }

    /// A double in [0, 1).
    public func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// `count` bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<min(8, count - out.count) {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}

private final class SeededState: Sendable {
    private let generator: Mutex<SplitMix64>
    init(_ seed: UInt64) { generator = Mutex(SplitMix64(seed: seed)) }
    func next() -> UInt64 { generator.withLock { $0.next() } }
}

/// Steele, Lea and Flood's SplitMix64: tiny, fast, and good enough for test traffic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
