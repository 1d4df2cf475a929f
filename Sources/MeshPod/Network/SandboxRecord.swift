import MeshModel
import MeshSystem

/// What the state directory remembers of a sandbox (`pods/<dir>/sandbox.json`):
/// enough to find and re-adopt it after a daemon crash, or to sweep it.
///
/// Written before anything is made (`complete: false`), and again once the
/// sandbox is whole: a crash in between leaves a record that recovery
/// sweeps instead of adopting a half-made sandbox.
struct SandboxRecord: Sendable, Hashable {
    var pod: PodIdentity
    var namespaceName: String
    var nodeInterface: String
    var ip: String
    var hostname: String
    var complete: Bool

    static let fileName = "sandbox.json"

    var json: JSONValue {
        .object([
            "namespace": .string(pod.namespace), "name": .string(pod.name), "uid": .string(pod.uid),
            "netns": .string(namespaceName), "nodeInterface": .string(nodeInterface), "ip": .string(ip),
            "hostname": .string(hostname), "complete": .bool(complete),
        ])
    }

    init(pod: PodIdentity, namespaceName: String, nodeInterface: String, ip: String, hostname: String, complete: Bool) {
        self.pod = pod
        self.namespaceName = namespaceName
        self.nodeInterface = nodeInterface
        self.ip = ip
        self.hostname = hostname
        self.complete = complete
    }

    /// nil for anything that is not a whole record (a crash mid-write, a stranger's file).
    init?(json: JSONValue) {
        guard let namespace = json["namespace"]?.stringValue, let name = json["name"]?.stringValue,
            let uid = json["uid"]?.stringValue, let netns = json["netns"]?.stringValue,
            let nodeInterface = json["nodeInterface"]?.stringValue, let ip = json["ip"]?.stringValue,
            let hostname = json["hostname"]?.stringValue, let complete = json["complete"]?.boolValue,
            !netns.contains("/"), !netns.isEmpty
        else { return nil }
        self.init(pod: PodIdentity(namespace: namespace, name: name, uid: uid), namespaceName: netns,
                  nodeInterface: nodeInterface, ip: ip, hostname: hostname, complete: complete)
    }

    /// Writes the record (temporary file, rename). No fsync: it describes
    /// namespaces in /run, which a machine crash takes away anyway; a
    /// process crash cannot lose what was written.
    func write(in directory: String) throws {
        let path = directory + "/" + Self.fileName
        let temporary = path + ".tmp"
        let fd = try Files.open(temporary, .truncate, mode: 0o644)
        do {
            try Files.write(fd, json.serializedBytes(JSONFormat(indent: 2, sortedKeys: true)) + [0x0A])
            try fd.close()
            try Files.rename(temporary, to: path)
        } catch {
            try? fd.close()
            _ = try? Files.remove(temporary)
            throw error
        }
    }

    static func read(in directory: String) -> SandboxRecord? {
        guard let bytes = try? Files.read(directory + "/" + fileName), let json = try? JSONValue(parsing: bytes) else {
            return nil
        }
        return SandboxRecord(json: json)
    }

    /// The pod's folder name: `<namespace>_<name>_<uid>`, as the kubelet names pod log folders.
    static func directoryName(_ pod: PodIdentity) -> String {
        func clean(_ text: String) -> String {
            String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        }
        return "\(clean(pod.namespace))_\(clean(pod.name))_\(clean(pod.uid))"
    }
}
