import MeshModel
import Testing

/// Our own Istio cases in `Testdata/istio`: in `*-invalid.yaml` every
/// document is rejected with an error containing its `_err`; in
/// `*-valid.yaml` every document is accepted with no diagnostics, or with
/// exactly the warnings its `_warn` list names (each a substring of one).
@Suite struct IstioSnippetTests {
    static var files: [String] { IstioTestSupport.yamlFiles(under: IstioTestSupport.testdataDirectory) }

    @Test func thereAreSnippetFiles() {
        #expect(Self.files.contains { $0.hasSuffix("-invalid.yaml") })
        #expect(Self.files.contains { $0.hasSuffix("-valid.yaml") })
    }

    @Test(arguments: files.filter { $0.hasSuffix("-invalid.yaml") })
    func invalidSnippetsAreRejected(file: String) throws {
        let documents = try IstioTestSupport.documents(inFile: file)
        #expect(!documents.isEmpty)
        for var document in documents {
            let label = IstioTestSupport.label(document)
            let expected = try #require(document["_err"]?.stringValue, "\(label) has no _err")
            document["_err"] = nil
            let result = try #require(IstioTestSupport.check(document), "\(label): kind not served")
            #expect(!result.isValid, "\(label) was accepted")
            let messages = result.errors.map(\.description)
            #expect(messages.contains { $0.contains(expected) }, "\(label): expected \"\(expected)\" in \(messages)")
        }
    }

    @Test(arguments: files.filter { $0.hasSuffix("-valid.yaml") && !$0.hasSuffix("-invalid.yaml") })
    func validSnippetsAreAccepted(file: String) throws {
        let documents = try IstioTestSupport.documents(inFile: file)
        #expect(!documents.isEmpty)
        for var document in documents {
            let label = IstioTestSupport.label(document)
            let expected = (document["_warn"]?.arrayValue ?? []).compactMap(\.stringValue)
            document["_warn"] = nil
            let result = try #require(IstioTestSupport.check(document, strict: true), "\(label): kind not served")
            #expect(result.isValid && result.errors.isEmpty, "\(label): \(result.errors)")
            let warnings = result.warnings.map(\.description)
            #expect(warnings.count == expected.count, "\(label): \(warnings)")
            for text in expected {
                #expect(warnings.contains { $0.contains(text) }, "\(label): expected warning \"\(text)\" in \(warnings)")
            }
        }
    }
}
