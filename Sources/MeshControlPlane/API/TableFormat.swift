import MeshModel

/// The `meta.k8s.io/v1` Table that kubectl asks for (`Accept:
/// application/json;as=Table;v=v1;g=meta.k8s.io`): server-side printing
/// with the same columns `meshlab get` prints.
enum TableFormat {
    static func table(kind: String, objects: [JSONValue], resourceVersion: String?, now: Int,
                      includeObject: String?) -> JSONValue {
        let narrow = ResourceTable.make(kind: kind, objects: objects, now: now)
        let wide = ResourceTable.make(kind: kind, objects: objects, now: now, wide: true)
        let columns: [JSONValue] = wide.columns.enumerated().map { index, name in
            [
                "name": .string(title(name)), "type": "string", "format": name == "NAME" ? "name" : "",
                "description": "", "priority": .int(index < narrow.columns.count ? 0 : 1),
            ]
        }
        let rows: [JSONValue] = zip(wide.rows, objects).map { cells, object in
            var row: JSONObject = ["cells": .array(cells.map(JSONValue.string))]
            switch includeObject ?? "Metadata" {
            case "None": break
            case "Object": row["object"] = object
            default:
                row["object"] = [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object["metadata"] ?? .object([:]),
                ]
            }
            return .object(row)
        }
        var metadata = JSONObject()
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": .array(columns), "rows": .array(rows),
        ]
    }

    /// `UP-TO-DATE` → `Up-to-date`: Kubernetes names columns in title case; kubectl upper-cases them again.
    static func title(_ column: String) -> String {
        guard let first = column.first else { return column }
        return String(first) + column.dropFirst().lowercased()
    }
}
