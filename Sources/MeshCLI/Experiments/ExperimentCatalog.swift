import MeshSystem

/// Where experiments are and how they are read: `Lab/NAME/experiment.yaml`
/// beside the repository the binary was built in (or $MESHLAB_LAB, or ./Lab),
/// any folder holding an `experiment.yaml`, or such a file itself.
enum ExperimentCatalog {
    /// The Lab folder: $MESHLAB_LAB, else `<repo>/Lab` found from the binary, else ./Lab.
    static func labDirectory(environment: [String: String]) -> String? {
        var candidates: [String] = []
        if let explicit = environment["MESHLAB_LAB"], !explicit.isEmpty { candidates.append(explicit) }
        if let binary = try? CurrentProcess.executablePath() {
            // bin/meshlab or .build/<triple>/<config>/meshlab inside the repository.
            var directory = Files.parentDirectory(of: binary)
            for _ in 0..<4 {
                candidates.append(directory + "/../Lab")
                directory = Files.parentDirectory(of: directory)
            }
        }
        if let cwd = environment["PWD"] { candidates.append(cwd + "/Lab") }
        return candidates.first { (try? Files.kind(of: $0)) == .directory }
    }

    /// The experiments of a Lab folder, by name (folders that hold an experiment file).
    static func names(in labDirectory: String) -> [String] {
        let entries = (try? Files.directoryEntries(labDirectory)) ?? []
        return entries.sorted().filter { isFile(labDirectory + "/" + $0 + "/" + ExperimentParser.fileName) }
    }

    /// The experiment file `reference` names: a file, a folder, or a name under the Lab folder.
    static func file(for reference: String, environment: [String: String]) throws(UsageError) -> String {
        if isFile(reference) { return reference }
        let inFolder = (reference.hasSuffix("/") ? String(reference.dropLast()) : reference) + "/" + ExperimentParser.fileName
        if isFile(inFolder) { return inFolder }
        if !reference.contains("/") {
            guard let lab = labDirectory(environment: environment) else {
                throw UsageError("no experiment \"\(reference)\": cannot find the Lab folder (set MESHLAB_LAB, or name a folder or file)")
            }
            let named = lab + "/" + reference + "/" + ExperimentParser.fileName
            if isFile(named) { return named }
            throw UsageError("no experiment \"\(reference)\" in \(lab): choose one of \(names(in: lab).joined(separator: ", "))")
        }
        throw UsageError("no experiment file at \(reference) (looked for \(inFolder))")
    }

    /// Reads and checks an experiment file; `sample:` references resolve to Istio's samples.
    static func load(_ file: String, environment: [String: String]) -> Result<Experiment, ExperimentFileErrors> {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(file)
        } catch {
            return .failure(ExperimentFileErrors(errors: [ExperimentFileError(position: file, message: "\(error)")]))
        }
        let parser = ExperimentParser(file: file, directory: Files.parentDirectory(of: file),
                                      samples: IstioSamples.directory(environment: environment), fileExists: isFile)
        return parser.parse(bytes)
    }

    static func isFile(_ path: String) -> Bool {
        (try? Files.kind(of: path)) == .regular || (try? Files.kind(of: path)) == .symbolicLink
    }
}
