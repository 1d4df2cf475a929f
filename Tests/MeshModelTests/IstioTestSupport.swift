import Foundation
import MeshModel

/// Helpers the Istio tests share: reading multi-document YAML files, finding
/// Istio's own test files, and checking one document through the registry.
enum IstioTestSupport {
    /// Istio's files copied beside the repository (`../shared/istio`).
    static let istioDirectory: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/istio").path
    }()

    static var hasIstioFiles: Bool { FileManager.default.fileExists(atPath: istioDirectory) }

    /// `Testdata/istio` beside these tests.
    static let testdataDirectory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Testdata/istio").path

    /// The documents of a YAML file, empty ones dropped.
    static func documents(inFile path: String) throws -> [JSONValue] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return try YAML.loadAll(utf8: bytes, file: path).map(\.value).filter { !$0.isNull }
    }

    /// Every `*.yaml` under `directory`, sorted.
    static func yamlFiles(under directory: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var files: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            if relative.hasSuffix(".yaml") { files.append(directory + "/" + relative) }
        }
        return files.sorted()
    }

    /// The result of checking one document as the kind its apiVersion and kind name.
    static func check(_ document: JSONValue, strict: Bool = false) -> ResourceCheck? {
        guard let apiVersion = document["apiVersion"]?.stringValue, let kind = document["kind"]?.stringValue,
            let resource = ResourceRegistry.resource(apiVersion: apiVersion, kind: kind)
        else { return nil }
        return resource.check(document, options: CheckOptions(strict: strict))
    }

    /// `kind/name` for messages.
    static func label(_ document: JSONValue) -> String {
        "\(document["kind"]?.stringValue ?? "?")/\(document["metadata"]?["name"]?.stringValue ?? "?")"
    }

    static func isIstio(_ document: JSONValue) -> Bool {
        guard let apiVersion = document["apiVersion"]?.stringValue else { return false }
        return apiVersion.hasPrefix("networking.istio.io/") || apiVersion.hasPrefix("security.istio.io/")
    }
}
