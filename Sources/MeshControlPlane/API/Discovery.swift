import MeshModel

/// The discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/{g}/{v}`)
/// that let a generic Kubernetes client learn which resources we serve.
public enum Discovery {
    static let verbs: [JSONValue] = ["create", "delete", "get", "list", "patch", "update", "watch"]

    /// `/api`: the core group's versions.
    public static func coreVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    /// `/apis`: every named group with its versions, preferred first.
    public static func groups(_ resources: [RegisteredResource]) -> JSONValue {
        var groups: [(name: String, versions: [String])] = []
        for descriptor in resources.map(\.descriptor) where !descriptor.group.isEmpty {
            if let i = groups.firstIndex(where: { $0.name == descriptor.group }) {
                for version in descriptor.versions where !groups[i].versions.contains(version) {
                    groups[i].versions.append(version)
                }
            } else {
                groups.append((descriptor.group, descriptor.versions))
            }
        }
        return [
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": .array(groups.map { group in
                let versions: [JSONValue] = group.versions.map {
                    ["groupVersion": .string("\(group.name)/\($0)"), "version": .string($0)]
                }
                return ["name": .string(group.name), "versions": .array(versions), "preferredVersion": versions[0]]
            }),
        ]
    }

    /// `/api/v1` or `/apis/{group}/{version}`; nil when nothing is served there.
    public static func resourceList(_ resources: [RegisteredResource], group: String, version: String) -> JSONValue? {
        let served = resources.map(\.descriptor).filter { $0.group == group && $0.versions.contains(version) }
        guard !served.isEmpty else { return nil }
        var entries: [JSONValue] = []
        for d in served {
            var entry: JSONObject = [
                "name": .string(d.plural), "singularName": .string(d.singular), "namespaced": .bool(d.namespaced),
                "kind": .string(d.kind), "verbs": .array(verbs),
            ]
            if !d.shortNames.isEmpty { entry["shortNames"] = .array(d.shortNames.map(JSONValue.string)) }
            entries.append(.object(entry))
            if d.hasStatus {
                entries.append([
                    "name": .string("\(d.plural)/status"), "singularName": "", "namespaced": .bool(d.namespaced),
                    "kind": .string(d.kind), "verbs": ["get", "patch", "update"],
                ])
            }
            if ScaleSubresource.serves(d) {
                // kubectl scale finds the Scale kind and its group here.
                entries.append([
                    "name": .string("\(d.plural)/scale"), "singularName": "", "namespaced": .bool(d.namespaced),
                    "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(entries),
        ]
    }
}
