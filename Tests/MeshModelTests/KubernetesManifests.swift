import Foundation
import MeshModel

/// Manifests from ../shared/istio (Istio's own samples and injector test
/// data), which every test here must decode without a single diagnostic.
enum KubernetesManifests {
    /// `shared/istio` beside the repository, as CI lays it out.
    static let istioDirectory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/istio").path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: istioDirectory) }

    /// Every non-empty document of the YAML file at `relativePath` under shared/istio.
    static func documents(_ relativePath: String) throws -> [JSONValue] {
        let path = istioDirectory + "/" + relativePath
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try YAML.loadAll(utf8: [UInt8](data), file: relativePath).map(\.value).filter { !$0.isNull }
    }

    /// Checks `object` with the kind its apiVersion and kind name.
    static func check(_ object: JSONValue, strict: Bool = false) -> ResourceCheck? {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let registered = ResourceRegistry.resource(apiVersion: apiVersion, kind: kind)
        else { return nil }
        return registered.check(object, options: CheckOptions(strict: strict))
    }
}
