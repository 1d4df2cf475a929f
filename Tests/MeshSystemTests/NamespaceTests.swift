import Glibc
import MeshSystem
import Testing

@Suite struct NetlinkFramingTests {
    @Test func requestHeaderCarriesLengthTypeFlagsAndSequence() {
        let request = NetlinkRequest(type: 18, flags: 0, payload: [1, 2, 3, 4, 5], label: "x")
        let bytes = request.encoded(sequence: 7)
        #expect(bytes.count == 24)  // 16 + 5, padded to 4
        #expect(Netlink.read32(bytes[...], at: 0) == 21)
        #expect(Netlink.read16(bytes[...], at: 4) == 18)
        #expect(Netlink.read16(bytes[...], at: 6) == NetlinkRequest.flagRequest | NetlinkRequest.flagAck)
        #expect(Netlink.read32(bytes[...], at: 8) == 7)
        #expect(Array(bytes[16..<21]) == [1, 2, 3, 4, 5])
    }

    @Test func malformedDatagramsStopParsingInsteadOfTrapping() {
        var bytes = NetlinkRequest(type: 16, payload: [0, 0, 0, 0], label: "x").encoded(sequence: 1)
        bytes += [200, 0, 0, 0, 1, 0]  // a second header claiming 200 bytes, cut short
        let messages = Netlink.messages(in: bytes[...])
        #expect(messages.count == 1)
        #expect(Netlink.errorPayload([1, 2][...], flags: 0).errno == EIO)
    }

    @Test func extendedAckMessageIsRead() {
        // NLMSG_ERROR payload: errno -19, echoed header (capped: 16 bytes), TLV NLMSGERR_ATTR_MSG.
        var payload: [UInt8] = []
        Netlink.append32(UInt32(bitPattern: -19), to: &payload)
        payload += NetlinkRequest(type: 18, payload: [], label: "x").encoded(sequence: 1)
        let text = Array("Cannot find device".utf8) + [0]
        Netlink.append16(UInt16(4 + text.count), to: &payload)
        Netlink.append16(1, to: &payload)
        payload += text
        let (code, message) = Netlink.errorPayload(payload[...], flags: 0x100 | 0x200)
        #expect(code == 19)
        #expect(message == "Cannot find device")
    }
}

@Suite(.enabled(if: NamespaceTestSupport.available, "\(NamespaceTestSupport.unavailableReason ?? "")"))
struct NamespaceTests {
    @Test func pinnedNamespaceIsItsOwnAndTheThreadGoesHome() async throws {
        let home = try await NamespaceThread.shared.run { try Namespaces.current(.network) }
        #expect(home == (try Namespaces.id(ofFile: "/proc/self/ns/net")))

        let path = NamedNetworkNamespaces.defaultDirectory + "/" + NamespaceTestSupport.uniquePrefix()
        defer { _ = try? NamedNetworkNamespaces.remove(path) }
        let inside = try await NamespaceThread.shared.run { () throws -> NamespaceID in
            try NamedNetworkNamespaces.create(pinnedAt: path)
            return try Namespaces.current(.network)
        }
        #expect(inside != home)
        #expect(try Namespaces.id(ofFile: path) == inside)
        #expect(NamedNetworkNamespaces.isPinned(path))
        #expect(NamedNetworkNamespaces.names().contains(String(path.split(separator: "/").last!)))
        // The next job runs at home again.
        #expect(try await NamespaceThread.shared.run { try Namespaces.current(.network) } == home)

        // Creating it twice fails and leaves the first alone.
        await #expect(throws: SystemError.self) {
            try await NamespaceThread.shared.run { try NamedNetworkNamespaces.create(pinnedAt: path) }
        }
        #expect(try Namespaces.id(ofFile: path) == inside)

        #expect(try NamedNetworkNamespaces.remove(path))
        #expect(try Files.kind(of: path) == nil)
        #expect(try !NamedNetworkNamespaces.remove(path))  // twice: fine
    }

    @Test func netlinkSocketAnswersInItsNamespace() async throws {
        let path = try NamespaceTestSupport.makeNamespace()
        defer { _ = try? NamedNetworkNamespaces.remove(path) }
        let socket = try await NamespaceThread.shared.run { () throws -> NetlinkSocket in
            try Namespaces.enter(path, kind: .network)
            return try NetlinkSocket()
        }
        defer { socket.close() }
        // RTM_GETLINK for ifindex 1 (lo): a struct ifinfomsg, family AF_UNSPEC.
        func getLink(_ index: Int32) -> NetlinkRequest {
            var payload: [UInt8] = [0, 0, 0, 0]
            Netlink.append32(UInt32(bitPattern: index), to: &payload)
            payload += [UInt8](repeating: 0, count: 8)
            return NetlinkRequest(type: 18, payload: payload, label: "RTM_GETLINK \(index)")
        }
        let replies = try socket.send([getLink(1)])
        #expect(replies.map(\.type) == [16])  // RTM_NEWLINK
        #expect(Netlink.read32(replies[0].payload[...], at: 4) == 1)

        // A batch: the kernel answers each; the failure names its request.
        do {
            try socket.send([getLink(1), getLink(4242)])
            Issue.record("expected an error")
        } catch let error as NetlinkSocket.RequestError {
            #expect(error.label == "RTM_GETLINK 4242")
            #expect(error.errno == ENODEV)
        }
    }

    @Test func processesAreFoundByNamespace() throws {
        let path = try NamespaceTestSupport.makeNamespace()
        defer { _ = try? NamedNetworkNamespaces.remove(path) }
        let id = try Namespaces.id(ofFile: path)
        #expect(Namespaces.processes(inNetworkNamespaces: [id]).isEmpty)
        var spawn = SpawnConfiguration(executable: "nsenter", arguments: ["--net=\(path)", "sleep", "30"])
        spawn.standardOutput = .null
        let child = try ChildProcess.spawn(spawn)
        defer {
            try? child.send(.kill)
            _ = try? child.wait()
        }
        // nsenter execs sleep in the namespace; wait until the exec has happened.
        var found: [pid_t] = []
        for _ in 0..<500 where found.isEmpty {
            found = Namespaces.processes(inNetworkNamespaces: [id])
            if found.isEmpty { usleep(2000) }
        }
        #expect(found == [child.pid])
    }
}
