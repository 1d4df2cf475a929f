import MeshModel

/// One proxy's config split into xDS resource types, each with its version:
/// what a push sends (all resources of a type: state of the world).
///
/// The version is a hash of the type's resources, not a counter: equal
/// config gives an equal version (after a meshd restart too), so "did this
/// type change" is a string comparison and a reconnecting sidecar reports a
/// version meshd can recognise.
public struct ProxyResources: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var resources: [JSONValue]
        public var version: String
        /// `resources` as compact JSON (deterministic: fields in declaration
        /// order, map keys sorted), what the version hashes and frames carry.
        public var encoded: [UInt8]

        init(resources: [JSONValue]) {
            self.resources = resources
            encoded = JSONValue.array(resources).serializedBytes(.compact)
            version = ProxyResources.version(of: encoded)
        }
    }

    public var byType: [ProxyResourceType: Entry]

    public init(_ config: ProxyConfig) {
        var cache = EncodingCache()
        self.init(config, cache: &cache)
    }

    /// Encodes through `cache`: proxies of one push mostly share clusters,
    /// endpoints and routes, and encoding and hashing them is most of a push's cost.
    init(_ config: ProxyConfig, cache: inout EncodingCache) {
        byType = [
            .cluster: cache.entry(config.clusters, in: \.clusters), .endpoint: cache.entry(config.endpoints, in: \.endpoints),
            .listener: cache.entry(config.listeners, in: \.listeners), .route: cache.entry(config.routes, in: \.routes),
        ]
    }

    /// Entries already made in one push, by the typed resources they came from.
    struct EncodingCache {
        var clusters: [[Cluster]: Entry] = [:]
        var endpoints: [[ClusterLoadAssignment]: Entry] = [:]
        var listeners: [[Listener]: Entry] = [:]
        var routes: [[RouteConfiguration]: Entry] = [:]

        mutating func entry<T: Encodable & Hashable>(_ resources: [T], in table: WritableKeyPath<Self, [[T]: Entry]>) -> Entry {
            if let cached = self[keyPath: table][resources] { return cached }
            let entry = Entry(resources: resources.map { ValueCodec.encode($0) })
            self[keyPath: table][resources] = entry
            return entry
        }
    }

    public subscript(type: ProxyResourceType) -> Entry {
        byType[type] ?? Entry(resources: [])
    }

    /// FNV-1a (64 bit) of the serialized resources, as 16 hex digits.
    static func version(of encoded: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in encoded {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
