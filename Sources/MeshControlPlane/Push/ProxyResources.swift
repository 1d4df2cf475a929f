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
    }

    public var byType: [ProxyResourceType: Entry]

    public init(_ config: ProxyConfig) {
        func entry(_ resources: [some Encodable]) -> Entry {
            let encoded = resources.map { ValueCodec.encode($0) }
            return Entry(resources: encoded, version: Self.version(of: encoded))
        }
        byType = [
            .cluster: entry(config.clusters), .endpoint: entry(config.endpoints),
            .listener: entry(config.listeners), .route: entry(config.routes),
        ]
    }

    public subscript(type: ProxyResourceType) -> Entry {
        byType[type] ?? Entry(resources: [], version: Self.version(of: []))
    }

    /// FNV-1a (64 bit) of the canonical JSON, as 16 hex digits.
    static func version(of resources: [JSONValue]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in JSONValue.array(resources).serializedBytes(.canonical) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
