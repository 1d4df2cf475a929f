import Glibc
import MeshSystem
import Testing

@Test func systemErrorNamesTheCallAndErrno() {
    let error = SystemError(errno: ENOENT, function: "open")
    #expect(error.description == "open: No such file or directory (errno 2)")
}
