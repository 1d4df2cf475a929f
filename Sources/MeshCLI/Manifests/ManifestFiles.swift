import FoundationEssentials
import MeshModel

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one manifest source named on the command line.
struct ManifestInput: Sendable {
    /// How messages name it: the path as given, or `<stdin>`.
    var name: String
    var bytes: [UInt8]
}

/// Turns `-f` arguments into manifest inputs as kubectl does: a file, every
/// `.yaml`/`.yml`/`.json` file of a directory (sorted; `-R` descends), or `-`
/// for standard input.
enum ManifestFiles {
    static let extensions = [".yaml", ".yml", ".json"]

    static func gather(_ paths: [String], recursive: Bool, readStandardInput: () throws -> [UInt8]) throws
        -> [ManifestInput]
    {
        var inputs: [ManifestInput] = []
        for path in paths {
            if path == "-" {
                inputs.append(ManifestInput(name: "<stdin>", bytes: try readStandardInput()))
                continue
            }
            if path.hasPrefix("http://") || path.hasPrefix("https://") {
                throw UsageError("-f \(path): URLs are not supported: download the file and pass its path")
            }
            guard let isDirectory = isDirectory(path) else {
                throw UsageError("the path \"\(path)\" does not exist")
            }
            if isDirectory {
                for file in try filesInDirectory(path, recursive: recursive) {
                    inputs.append(ManifestInput(name: file, bytes: try read(file)))
                }
            } else {
                inputs.append(ManifestInput(name: path, bytes: try read(path)))
            }
        }
        return inputs
    }

    static func filesInDirectory(_ directory: String, recursive: Bool) throws -> [String] {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var files: [String] = []
        for entry in try FileManager.default.contentsOfDirectory(atPath: base).sorted() {
            let path = base + "/" + entry
            guard let isDirectory = isDirectory(path) else { continue }
            if isDirectory {
                if recursive { files += try filesInDirectory(path, recursive: true) }
            } else if extensions.contains(where: { entry.hasSuffix($0) }) {
                files.append(path)
            }
        }
        return files
    }

    /// nil when nothing is at `path` (symbolic links are followed).
    static func isDirectory(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read \"\(path)\"")
        }
        return [UInt8](data)
    }
}
