import MeshModel
import Synchronization

/// Hands out Service ClusterIPs from the service CIDR, as the apiserver's
/// ipallocator does, with its error words.
///
/// The store is the truth: every address a stored Service holds is taken.
/// The allocator keeps an `AddressPool` in step with it — taken on create,
/// given back on delete — and re-reads the store (`resync`) at startup,
/// after a namespace's cascade delete (which removes services without going
/// through the Service strategy), and before it reports a requested
/// address taken or the range full, so a missed release can never make an
/// address unusable.
///
/// The CIDR's first host address (`kubernetes.default`'s in a cluster) and
/// its tenth (kube-dns's, 10.96.0.10 in the default range) are never handed
/// out on their own, but a Service may ask for them by name.
final class ClusterIPAllocator: Sendable {
    /// Why an address could not be had, in the apiserver's words.
    enum Failure: Error, Equatable {
        case full
        case notInRange(String)
        case allocated(String)
    }

    private struct State {
        /// Holds every address in `held`, plus the static-only ones.
        var pool: AddressPool
        /// Addresses held by stored services or by writes in flight.
        var held: Set<String> = []
        /// Handed out for a write that has not finished.
        var pending: Set<String> = []
    }

    let cidr: IPv4CIDR
    /// Addresses only an explicit request gets.
    let staticOnly: Set<String>
    private let store: ResourceStore
    private let state: Mutex<State>

    init(cidr: IPv4CIDR, store: ResourceStore) {
        self.cidr = cidr
        self.store = store
        let statics = [cidr.address(at: 1), cidr.address(at: 10)].filter(cidr.contains).map(IPv4CIDR.format)
        staticOnly = Set(statics)
        var pool = AddressPool(cidr: cidr, reservedLow: 0)
        for address in statics { try? pool.reserve(address) }
        state = Mutex(State(pool: pool))
        resync()
    }

    /// The DNS service's conventional address (the CIDR's tenth).
    var dnsAddress: String { IPv4CIDR.format(cidr.address(at: 10)) }

    /// A free address for a new Service; pending until `commit` or `release`.
    func allocate() throws(Failure) -> String {
        for attempt in 0..<2 {
            if attempt == 1 { resync() }
            let address = state.withLock { state -> String? in
                guard let address = try? state.pool.allocate() else { return nil }
                state.held.insert(address)
                state.pending.insert(address)
                return address
            }
            if let address { return address }
        }
        throw .full
    }

    /// Takes `address` for a Service that asked for it; pending until `commit` or `release`.
    func allocate(requested address: String) throws(Failure) {
        guard let parsed = IPv4CIDR.parseAddress(address), cidr.contains(parsed),
            parsed != cidr.network, UInt64(parsed - cidr.network) < cidr.size - 1
        else { throw .notInRange(address) }
        for attempt in 0..<2 {
            if attempt == 1 { resync() }
            let taken = state.withLock { state -> Bool in
                if state.held.contains(address) { return false }
                if !staticOnly.contains(address) {
                    guard (try? state.pool.reserve(address)) != nil else { return false }
                }
                state.held.insert(address)
                state.pending.insert(address)
                return true
            }
            if taken { return }
        }
        throw .allocated(address)
    }

    /// The write that took `address` stored it.
    func commit(_ address: String) {
        _ = state.withLock { $0.pending.remove(address) }
    }

    /// Gives `address` back (its Service is gone, or its write failed).
    func release(_ address: String) {
        state.withLock { state in
            state.pending.remove(address)
            guard state.held.remove(address) != nil, !staticOnly.contains(address) else { return }
            state.pool.release(address)
        }
    }

    func isAllocated(_ address: String) -> Bool { state.withLock { $0.held.contains(address) } }
    var allocatedCount: Int { state.withLock { $0.held.count } }

    /// Makes the pool hold exactly the addresses of the stored services and
    /// the writes in flight.
    func resync() {
        state.withLock { state in
            var wanted = state.pending
            for service in store.list(GroupResource(resource: "services")).items {
                for address in Self.addresses(of: service) where cidr.contains(address) { wanted.insert(address) }
            }
            for address in state.held.subtracting(wanted) {
                state.held.remove(address)
                if !staticOnly.contains(address) { state.pool.release(address) }
            }
            for address in wanted.subtracting(state.held) {
                if !staticOnly.contains(address) { try? state.pool.reserve(address) }
                state.held.insert(address)
            }
        }
    }

    /// The addresses a Service object holds (none when headless or ExternalName).
    static func addresses(of service: JSONValue) -> [String] {
        let spec = service["spec"]
        if spec?["type"]?.stringValue == "ExternalName" { return [] }
        var addresses = (spec?["clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        if addresses.isEmpty, let single = spec?["clusterIP"]?.stringValue { addresses = [single] }
        return addresses.filter { !$0.isEmpty && $0 != "None" }
    }
}
