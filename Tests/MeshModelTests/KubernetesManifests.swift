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

    /// Every document of the YAML file at `relativePath` under shared/istio, as JSON.
    ///
    /// TEMPORARY BRIDGE until the YAML reader (branch wt/yaml) lands: python3's
    /// yaml.safe_load_all does the parsing.
    static func documents(_ relativePath: String) throws -> [JSONValue] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))",
            istioDirectory + "/" + relativePath,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BridgeError(file: relativePath) }
        return try JSONValue(parsing: [UInt8](data)).arrayValue ?? []
    }

    struct BridgeError: Error, CustomStringConvertible {
        var file: String
        var description: String { "python3 could not read \(file) as YAML" }
    }

    /// Checks `object` with the kind its apiVersion and kind name.
    static func check(_ object: JSONValue, strict: Bool = false) -> ResourceCheck? {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let registered = ResourceRegistry.resource(apiVersion: apiVersion, kind: kind)
        else { return nil }
        return registered.check(object, options: CheckOptions(strict: strict))
    }
}
