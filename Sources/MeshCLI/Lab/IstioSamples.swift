import MeshSystem

/// Where Istio's sample manifests are: `meshlab up --demo bookinfo` applies
/// them unchanged. meshlab does not copy them into the binary; it looks in
/// $MESHLAB_SAMPLES, then next to the repository the binary was built in
/// (`<repo>/../shared/istio/samples`), then next to the current directory.
enum IstioSamples {
    /// The demos `up --demo` knows, by name: their manifest inside the samples folder.
    static let demos: [String: String] = [
        "bookinfo": "bookinfo/platform/kube/bookinfo.yaml",
        "helloworld": "helloworld/helloworld.yaml",
        "httpbin": "httpbin/httpbin.yaml",
    ]

    static func directory(environment: [String: String]) -> String? {
        var candidates: [String] = []
        if let explicit = environment["MESHLAB_SAMPLES"], !explicit.isEmpty { candidates.append(explicit) }
        if let binary = try? CurrentProcess.executablePath() {
            // bin/meshlab or .build/<triple>/<config>/meshlab inside the repository.
            var directory = Files.parentDirectory(of: binary)
            for _ in 0..<4 {
                candidates.append(directory + "/../shared/istio/samples")
                directory = Files.parentDirectory(of: directory)
            }
        }
        if let cwd = environment["PWD"] { candidates += [cwd + "/../shared/istio/samples", cwd + "/samples"] }
        return candidates.first { (try? Files.kind(of: $0 + "/bookinfo")) == .directory }
    }

    /// The manifest of demo `name`, or an error that says what to do.
    static func manifest(for name: String, environment: [String: String]) throws(UsageError) -> String {
        guard let relative = demos[name] else {
            throw UsageError("unknown demo \"\(name)\": choose one of \(demos.keys.sorted().joined(separator: ", "))")
        }
        guard let directory = directory(environment: environment) else {
            throw UsageError("cannot find Istio's samples for --demo: set MESHLAB_SAMPLES to the folder that holds bookinfo/, helloworld/, httpbin/")
        }
        return directory + "/" + relative
    }
}
