@testable import MeshIO
import Testing

@Suite struct TimerHeapTests {
    @Test func popsInDeadlineOrderWithTiesInArmingOrderAfterRandomDisarms() {
        var heap = TimerHeap()
        var generator = SplitMix(seed: 42)
        var timers: [LoopTimer] = []
        var labels: [ObjectIdentifier: Int] = [:]
        for label in 0..<500 {
            let timer = LoopTimer()
            labels[ObjectIdentifier(timer)] = label
            timers.append(timer)
            heap.arm(timer, deadline: generator.next() % 50)  // many ties
        }
        var disarmed = Set<Int>()
        for _ in 0..<200 {
            let index = Int(generator.next() % 500)
            heap.disarm(timers[index])  // disarming twice is harmless
            disarmed.insert(index)
        }
        // Re-arming moves a timer to its new deadline, after existing ties.
        heap.arm(timers[0], deadline: 10)
        disarmed.remove(0)
        #expect(heap.count == 500 - disarmed.count)

        var popped: [(deadline: UInt64, sequence: UInt64)] = []
        while let timer = heap.popExpired(now: .max) {
            #expect(!timer.isArmed)
            #expect(!disarmed.contains(labels[ObjectIdentifier(timer)]!))
            popped.append((timer.deadline, timer.sequence))
        }
        #expect(popped.count == 500 - disarmed.count)
        #expect(zip(popped, popped.dropFirst()).allSatisfy { a, b in
            a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
        })
    }

    @Test func onlyExpiredTimersPop() {
        var heap = TimerHeap()
        let early = LoopTimer()
        let late = LoopTimer()
        heap.arm(late, deadline: 200)
        heap.arm(early, deadline: 100)
        #expect(heap.earliestDeadline == 100)
        #expect(heap.popExpired(now: 99) == nil)
        #expect(heap.popExpired(now: 150) === early)
        #expect(heap.popExpired(now: 150) == nil)
        #expect(heap.popExpired(now: 200) === late)
        #expect(heap.isEmpty)
    }
}

/// A small seeded generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
