/// A timer owned by one event loop: a deadline and what to do when it passes.
///
/// Connections keep one per direction for their whole life and re-arm it for each
/// read or write that has a timeout, so a timeout costs no allocation per operation.
final class LoopTimer {
    /// CLOCK_MONOTONIC nanoseconds.
    var deadline: UInt64 = 0
    /// Breaks deadline ties: timers with equal deadlines fire in the order they were armed.
    var sequence: UInt64 = 0
    /// Position in the heap, -1 while not armed.
    var heapIndex = -1
    /// Runs on the loop once the deadline passed (the timer is no longer armed); it may
    /// re-arm timers on the heap it is given.
    var action: (inout TimerHeap) -> Void

    init(action: @escaping (inout TimerHeap) -> Void = { _ in }) {
        self.action = action
    }

    var isArmed: Bool { heapIndex >= 0 }
}

/// A binary min-heap of timers by (deadline, sequence), with O(log n) removal.
struct TimerHeap {
    private(set) var nodes: [LoopTimer] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { nodes.isEmpty }
    var count: Int { nodes.count }

    /// The earliest deadline, if any timer is armed.
    var earliestDeadline: UInt64? { nodes.first?.deadline }

    /// Arms `timer` for `deadline` (re-arming it if it was armed).
    mutating func arm(_ timer: LoopTimer, deadline: UInt64) {
        if timer.isArmed { disarm(timer) }
        timer.deadline = deadline
        timer.sequence = nextSequence
        nextSequence &+= 1
        timer.heapIndex = nodes.count
        nodes.append(timer)
        siftUp(nodes.count - 1)
    }

    /// Disarms `timer`; does nothing if it is not armed.
    mutating func disarm(_ timer: LoopTimer) {
        let index = timer.heapIndex
        guard index >= 0 else { return }
        precondition(index < nodes.count && nodes[index] === timer, "timer armed on another heap")
        let last = nodes.count - 1
        if index != last {
            swapAt(index, last)
        }
        nodes.removeLast()
        timer.heapIndex = -1
        if index < nodes.count {
            siftDown(index)
            siftUp(index)
        }
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    mutating func popExpired(now: UInt64) -> LoopTimer? {
        guard let first = nodes.first, first.deadline <= now else { return nil }
        disarm(first)
        return first
    }

    private static func less(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        nodes.swapAt(i, j)
        nodes[i].heapIndex = i
        nodes[j].heapIndex = j
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard TimerHeap.less(nodes[child], nodes[parent]) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < nodes.count else { return }
            var smallest = left
            let right = left + 1
            if right < nodes.count && TimerHeap.less(nodes[right], nodes[left]) { smallest = right }
            guard TimerHeap.less(nodes[smallest], nodes[parent]) else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }
}
