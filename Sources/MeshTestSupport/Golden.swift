import FoundationEssentials

/// Golden files: expected output kept in `Testdata/` beside the test file.
///
/// `MESHLAB_UPDATE_GOLDEN=1 make test` rewrites every golden a test touches
/// and still fails the test, so an update is always a deliberate second run.
public enum Golden {
    public struct Mismatch: Error, CustomStringConvertible {
        public let path: String
        public let detail: String
        public var description: String { "golden \(path): \(detail)" }
    }

    /// The directory `Testdata/` next to the test source file `filePath`.
    public static func directory(for filePath: String) -> String {
        let dir = filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return dir + "/Testdata"
    }

    /// Path of `Testdata/<name>` beside the calling test file.
    public static func path(_ name: String, filePath: String = #filePath) -> String {
        directory(for: filePath) + "/" + name
    }

    /// Reads `Testdata/<name>` beside the calling test file.
    public static func read(_ name: String, filePath: String = #filePath) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name, filePath: filePath)))
        return String(decoding: data, as: UTF8.self)
    }

    /// Throws `Mismatch` with the first differing line unless `actual` equals the golden file.
    public static func check(_ actual: String, against name: String, filePath: String = #filePath) throws {
        let file = path(name, filePath: filePath)
        if ProcessInfo.processInfo.environment["MESHLAB_UPDATE_GOLDEN"] == "1" {
            let folder = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)])
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: URL(fileURLWithPath: file))
            throw Mismatch(path: file, detail: "rewritten because MESHLAB_UPDATE_GOLDEN=1; run again without it")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Mismatch(path: file, detail: "missing; create it with MESHLAB_UPDATE_GOLDEN=1")
        }
        let expected = String(decoding: data, as: UTF8.self)
        guard expected != actual else { return }
        throw Mismatch(path: file, detail: firstDifference(expected: expected, actual: actual))
    }

    /// A short human description of where two texts first differ.
    public static func firstDifference(expected: String, actual: String) -> String {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end of file>"
            let al = i < a.count ? String(a[i]) : "<end of output>"
            if el != al { return "line \(i + 1) differs\n  expected: \(el)\n  actual:   \(al)" }
        }
        return "texts differ"
    }
}
