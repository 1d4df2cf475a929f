import MeshModel
import Testing

@Suite struct AddressPoolTests {
    @Test func parsesCIDRs() {
        #expect(IPv4CIDR("10.44.0.0/16")?.description == "10.44.0.0/16")
        #expect(IPv4CIDR("10.44.3.7/16")?.description == "10.44.0.0/16")
        #expect(IPv4CIDR("10.44.0.0/16")?.contains("10.44.255.254") == true)
        #expect(IPv4CIDR("10.44.0.0/16")?.contains("10.45.0.1") == false)
        for bad in ["10.44.0.0", "10.44.0.0/33", "10.44.0/16", "010.44.0.0/16", "10.44.0.256/16", "a.b.c.d/8"] {
            #expect(IPv4CIDR(bad) == nil, "\(bad)")
        }
    }

    @Test func handsOutAddressesAfterTheReservedOnes() throws {
        var pool = AddressPool(cidr: IPv4CIDR("10.44.0.0/29")!, reservedLow: 1)
        #expect(pool.capacity == 5)  // .2 to .6: not .0 (network), .1 (gateway), .7 (broadcast)
        let first = try (0..<5).map { _ in try pool.allocate() }
        #expect(first == ["10.44.0.2", "10.44.0.3", "10.44.0.4", "10.44.0.5", "10.44.0.6"])
        #expect(throws: AddressPool.Failure.exhausted(IPv4CIDR("10.44.0.0/29")!)) { try pool.allocate() }
        pool.release("10.44.0.3")
        #expect(try pool.allocate() == "10.44.0.3")
    }

    @Test func doesNotReuseAJustReleasedAddressFirst() throws {
        var pool = AddressPool(cidr: IPv4CIDR("10.96.0.0/24")!, reservedLow: 10)
        let a = try pool.allocate()
        #expect(a == "10.96.0.11")
        pool.release(a)
        #expect(try pool.allocate() == "10.96.0.12")
    }

    @Test func reservesExistingAddressesAndRefusesBadOnes() throws {
        var pool = AddressPool(cidr: IPv4CIDR("10.96.0.0/16")!, reservedLow: 10)
        try pool.reserve("10.96.0.11")
        #expect(pool.isAllocated("10.96.0.11"))
        #expect(throws: AddressPool.Failure.alreadyAllocated("10.96.0.11")) { try pool.reserve("10.96.0.11") }
        #expect(throws: AddressPool.Failure.outOfRange("10.97.0.1", IPv4CIDR("10.96.0.0/16")!)) { try pool.reserve("10.97.0.1") }
        #expect(throws: AddressPool.Failure.outOfRange("10.96.0.5", IPv4CIDR("10.96.0.0/16")!)) { try pool.reserve("10.96.0.5") }
        #expect(throws: AddressPool.Failure.invalid("nope")) { try pool.reserve("nope") }
        #expect(try pool.allocate() == "10.96.0.12")
    }
}
