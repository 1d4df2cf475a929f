import Glibc
import MeshIO
import MeshSystem
import Testing

@Suite struct TCPTests {
    @Test func echoManyConcurrentConnectionsExactBytesBack() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            let server = Task { await runEchoServer(listener) }
            let connections = 40
            let size = 96 * 1024
            try await withThrowingTaskGroup(of: Bool.self) { clients in
                for index in 0..<connections {
                    let loop = group.next()
                    clients.addTask(executorPreference: loop) {
                        let payload = patternBytes(count: size, seed: UInt64(index + 1))
                        let connection = try await SocketConnection.connect(to: listener.localAddress, timeout: .seconds(10), on: loop)
                        // Write and read at once: the echo comes back while we still send.
                        async let sent: Void = {
                            var offset = 0
                            while offset < size {
                                let end = min(size, offset + 7_000 + index)  // odd chunk sizes
                                try await connection.write(ByteBuffer(Array(payload[offset..<end])))
                                offset = end
                            }
                        }()
                        let echoed = try await readExactly(connection, count: size)
                        try await sent
                        await connection.close()
                        return echoed == payload
                    }
                }
                var matched = 0
                for try await ok in clients where ok { matched += 1 }
                #expect(matched == connections)
            }
            await listener.close()
            await server.value
        }
    }

    @Test func largeTransferWithGatheredWrites() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            let server = Task { await runEchoServer(listener) }
            let loop = group.next()
            let matched = try await Task(executorPreference: loop) { () -> Bool in
                let connection = try await SocketConnection.connect(to: listener.localAddress, on: loop)
                let chunks = (0..<100).map { ByteBuffer(patternBytes(count: 40 * 1024 + $0, seed: UInt64($0 + 100))) }  // more than one sendmsg takes
                let expected = chunks.flatMap(\.readableArray)
                async let sent: Void = connection.write(chunks)
                let echoed = try await readExactly(connection, count: expected.count)
                try await sent
                await connection.close()
                return echoed == expected
            }.value
            #expect(matched)
            await listener.close()
            await server.value
        }
    }

    @Test func halfCloseLetsThePeerSeeEOFAndStillReply() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted

            try await client.write("hello")
            try await client.shutdownWrite()

            let request = try await server.readAll()
            #expect(String(decoding: request.readableBytesView, as: UTF8.self) == "hello")
            #expect(try await server.read() == nil)  // EOF again

            try await server.write("world")
            await server.close()
            let reply = try await client.readAll()
            #expect(String(decoding: reply.readableBytesView, as: UTF8.self) == "world")
            await client.close()
            await listener.close()
        }
    }

    @Test func refusedConnectNamesConnectAndTheAddress() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            let address = listener.localAddress
            await listener.close()
            do {
                _ = try await SocketConnection.connect(to: address, timeout: .seconds(5), on: group.next())
                Issue.record("connect to a closed port succeeded")
            } catch let error as SystemError {
                #expect(error.errno == ECONNREFUSED)
                #expect(error.function == "connect(\(address))")
                #expect(error.description.hasPrefix("connect(127.0.0.1:"))
            }
        }
    }

    @Test func connectTimesOutAgainstAFullBacklog() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            // backlog 0: the kernel queues one connection; SYNs beyond it are dropped,
            // so a further connect never completes. All on loopback.
            let listener = try SocketListener.bind(.loopback(port: 0), backlog: 0, group: group)
            var held: [SocketConnection] = []
            var timedOut = false
            for _ in 0..<8 {
                do {
                    held.append(try await SocketConnection.connect(to: listener.localAddress, timeout: .milliseconds(150), on: group.next()))
                } catch let error as IOError {
                    #expect(error == .timedOut(.connect))
                    timedOut = true
                    break
                }
            }
            #expect(timedOut)
            for connection in held { await connection.close() }
            await listener.close()
        }
    }

    @Test func cancellingABlockedReadWakesItAndLeavesTheConnectionUsable() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted

            let reader = Task(executorPreference: server.eventLoop) { () -> Int? in
                var buffer = ByteBuffer()
                return try await server.read(into: &buffer)
            }
            try await Task.sleep(for: .milliseconds(10))
            reader.cancel()
            await #expect(throws: CancellationError.self) { _ = try await reader.value }

            try await client.write("after")
            let bytes = try await readExactly(server, count: 5)
            #expect(bytes == Array("after".utf8))
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func ownerCancelledWaitIsWokenByCancelWaitsAndTheConnectionStaysUsable() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted

            // The reader's task holds one handler that calls cancelWaits(), as HTTP's server does.
            let reader = Task(executorPreference: server.eventLoop) { () -> Int? in
                try await withTaskCancellationHandler {
                    var buffer = ByteBuffer()
                    // The timeout only bounds a broken cancellation (it would throw timedOut).
                    return try await server.readOnLoop(into: &buffer, maxBytes: 100, timeout: .seconds(20), cancellation: .byOwner)
                } onCancel: {
                    server.cancelWaits()
                }
            }
            try await Task.sleep(for: .milliseconds(10))
            reader.cancel()
            await #expect(throws: CancellationError.self) { _ = try await reader.value }

            // A wait that starts after its task was cancelled fails at once.
            let late = Task(executorPreference: server.eventLoop) { () -> Int? in
                withUnsafeCurrentTask { $0?.cancel() }
                var buffer = ByteBuffer()
                return try await server.readOnLoop(into: &buffer, maxBytes: 100, timeout: .seconds(20), cancellation: .byOwner)
            }
            await #expect(throws: CancellationError.self) { _ = try await late.value }

            try await client.write("after")
            #expect(try await readExactly(server, count: 5) == Array("after".utf8))
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func readAndAcceptTimeouts() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            await #expect(throws: IOError.timedOut(.accept)) { _ = try await listener.accept(timeout: .milliseconds(20)) }
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            var buffer = ByteBuffer()
            await #expect(throws: IOError.timedOut(.read)) {
                _ = try await server.read(into: &buffer, maxBytes: 100, timeout: .milliseconds(20))
            }
            // A later read still works.
            try await client.write("x")
            #expect(try await server.read(into: &buffer, maxBytes: 100, timeout: .seconds(5)) == 1)
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    /// Timeout timers are lazy (a timer armed for an earlier wait stays armed and re-arms
    /// when it fires): a later, longer wait must not fail at the earlier deadline, and a
    /// later, shorter one must still fail at its own.
    @Test func timeoutsOfSuccessiveWaitsAreEachTheirOwn() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            var buffer = ByteBuffer()

            // A short wait that data ends: its timer stays armed for 50 ms.
            async let first = server.read(into: &buffer, maxBytes: 100, timeout: .milliseconds(50))
            try await client.write("a")
            #expect(try await first == 1)
            // A long wait outlives that deadline: the old timer fires, re-arms, and the data
            // arriving after it still completes the read.
            var second = ByteBuffer()
            async let late = server.read(into: &second, maxBytes: 100, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(300))
            try await client.write("b")
            #expect(try await late == 1)
            // Then a long wait ended by data, and a short one: it fails at its own deadline,
            // long before the long wait's timer would fire.
            var third = ByteBuffer()
            async let long = server.read(into: &third, maxBytes: 100, timeout: .seconds(60))
            try await client.write("c")
            #expect(try await long == 1)
            let start = ContinuousClock.now
            var fourth = ByteBuffer()
            await #expect(throws: IOError.timedOut(.read)) {
                _ = try await server.read(into: &fourth, maxBytes: 100, timeout: .milliseconds(30))
            }
            #expect(ContinuousClock.now - start < .seconds(30), "the short wait waited for the long wait's timer")
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func cancellingAPendingAcceptThrowsCancellationErrorAndAcceptStillWorks() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            let pending = Task(executorPreference: listener.eventLoop) { try await listener.accept() }
            try await Task.sleep(for: .milliseconds(10))
            pending.cancel()
            await #expect(throws: CancellationError.self) { _ = try await pending.value }
            async let accepted = listener.accept(timeout: .seconds(10))
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func perLoopListenersShareAPortAndKeepConnectionsOnTheirLoop() async throws {
        try await withEventLoopGroup(threads: 2) { group in
            let first = try SocketListener.bind(.loopback(port: 0), reusePort: true, placement: .loop(group.loops[0]))
            let second = try SocketListener.bind(first.localAddress, reusePort: true, placement: .loop(group.loops[1]))
            #expect(second.localAddress == first.localAddress)
            // The kernel hashes each connection to one listener: with 32 connections both
            // get some (all on one would have probability 2^-31).
            var clients: [SocketConnection] = []
            for _ in 0..<32 {
                clients.append(try await SocketConnection.connect(to: first.localAddress, on: group.next()))
            }
            let a = try await first.accept(timeout: .seconds(10))
            let b = try await second.accept(timeout: .seconds(10))
            #expect(a.eventLoop === group.loops[0])
            #expect(b.eventLoop === group.loops[1])
            for connection in clients + [a, b] { await connection.close() }
            await first.close()
            await second.close()
        }
    }

    @Test func zeroTimeoutReadProbesWithoutWaiting() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            var probe = ByteBuffer()
            // Healthy and idle: nothing to read, so the probe times out at once.
            await #expect(throws: IOError.timedOut(.read)) { _ = try await client.read(into: &probe, maxBytes: 1, timeout: .zero) }
            await server.close()
            // The peer closed: the probe sees end of stream (after the FIN arrives).
            var result: Int?? = .none
            for _ in 0..<200 {
                do {
                    result = .some(try await client.read(into: &probe, maxBytes: 1, timeout: .zero))
                    break
                } catch IOError.timedOut {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            #expect(result == .some(nil))
            await client.close()
            await listener.close()
        }
    }

    @Test func writeTimesOutWhenThePeerDoesNotRead() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted  // never reads
            let big = ByteBuffer([UInt8](repeating: 7, count: 32 * 1024 * 1024))  // more than both socket buffers hold
            await #expect(throws: IOError.timedOut(.write)) { try await client.write(big, timeout: .milliseconds(100)) }
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func closingAConnectionWakesItsBlockedReader() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            let reader = Task { try await server.read() }
            try await Task.sleep(for: .milliseconds(10))
            await server.close()
            await #expect(throws: IOError.closed(.read)) { _ = try await reader.value }
            await #expect(throws: IOError.closed(.write)) { try await server.write("late") }
            await server.close()  // twice: nothing happens
            await client.close()
            await listener.close()
        }
    }

    @Test func closingAListenerWakesAPendingAccept() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            let pending = Task { try await listener.accept() }
            try await Task.sleep(for: .milliseconds(10))
            await listener.close()
            await #expect(throws: IOError.closed(.accept)) { _ = try await pending.value }
        }
    }

    @Test func writingToAResetConnectionIsAClearError() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            try await client.write("unread")  // closing with unread data sends RST
            try await Task.sleep(for: .milliseconds(5))
            await server.close()
            try await Task.sleep(for: .milliseconds(5))
            var failure: (any Error)?
            do {
                for _ in 0..<100 { try await client.write(ByteBuffer(patternBytes(count: 4096, seed: 3))) }
            } catch {
                failure = error
            }
            #expect(failure?.isConnectionReset == true)
            await client.close()
            await listener.close()
        }
    }

    @Test func addressesAndNoDelay() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            #expect(listener.localAddress.port != 0)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            #expect(client.remoteAddress == listener.localAddress)
            #expect(server.localAddress == listener.localAddress)
            #expect(server.remoteAddress == client.localAddress)
            #expect(try Sockets.getOption(server.descriptor, level: CInt(IPPROTO_TCP), name: TCP_NODELAY) != 0)
            #expect(try Sockets.getOption(client.descriptor, level: CInt(IPPROTO_TCP), name: TCP_NODELAY) != 0)
            // Not redirected by iptables: the original destination lookup fails cleanly.
            #expect(throws: SystemError.self) { _ = try server.originalDestination() }
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func adoptsAnInheritedListeningDescriptor() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            // What a launcher does before handing the descriptor over.
            let raw = try Sockets.makeSocket(family: AF_INET, kind: .stream, nonBlocking: false)
            try Sockets.bind(raw, to: .loopback(port: 0))
            try Sockets.listen(raw, backlog: 16)
            let listener = try SocketListener.adopt(descriptor: raw, group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            try await client.write("adopted")
            #expect(try await readExactly(server, count: 7) == Array("adopted".utf8))
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test func adoptingANonListeningSocketFails() throws {
        let group = EventLoopGroup.shared
        let raw = try Sockets.makeSocket(family: AF_INET, kind: .stream)
        #expect(throws: SystemError.self) { _ = try SocketListener.adopt(descriptor: raw, group: group) }
    }
}

/// Code isolated to an actor (not the loop) using a socket: each call hops to the loop and back.
private actor Conversation {
    var transcript: [String] = []

    func exchange(_ client: SocketConnection, _ server: SocketConnection) async throws {
        try await client.write("question")
        transcript.append(String(decoding: try await readExactly(server, count: 8), as: UTF8.self))
        try await server.write("answer")
        transcript.append(String(decoding: try await readExactly(client, count: 6), as: UTF8.self))
    }
}

@Suite struct ActorCallerTests {
    @Test func socketsWorkFromActorIsolatedCode() async throws {
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bind(.loopback(port: 0), group: group)
            async let accepted = listener.accept()
            let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
            let server = try await accepted
            let conversation = Conversation()
            try await conversation.exchange(client, server)
            #expect(await conversation.transcript == ["question", "answer"])
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    @Test @MainActor func socketsWorkFromTheMainActor() async throws {
        let group = EventLoopGroup.shared
        let listener = try SocketListener.bind(.loopback(port: 0), group: group)
        async let accepted = listener.accept()
        let client = try await SocketConnection.connect(to: listener.localAddress, on: group.next())
        let server = try await accepted
        try await client.write("main")
        var buffer = ByteBuffer()
        #expect(try await server.read(into: &buffer, maxBytes: 4, timeout: .seconds(10)) == 4)
        try await server.sleepOnItsLoop()
        await client.close()
        await server.close()
        await listener.close()
    }
}

extension SocketConnection {
    func sleepOnItsLoop() async throws { try await eventLoop.sleep(for: .milliseconds(1)) }
}

@Suite struct UnixSocketTests {
    @Test func listensWithMode0600AndEchoes() async throws {
        let directory = try Files.makeTemporaryDirectory()
        defer { try? Files.removeTree(directory) }
        let path = directory + "/api.sock"
        try await withEventLoopGroup { group in
            let listener = try SocketListener.bindUnix(path: path, mode: 0o600, group: group)
            #expect(try Files.kind(of: path) == .socket)
            #expect(try Files.mode(of: path) == 0o600)
            let server = Task { await runEchoServer(listener) }
            let client = try await SocketConnection.connect(to: .unix(path: path), on: group.next())
            let payload = patternBytes(count: 300_000, seed: 9)
            async let sent: Void = client.write(ByteBuffer(payload))
            #expect(try await readExactly(client, count: payload.count) == payload)
            try await sent
            await client.close()
            await listener.close()
            await server.value
            #expect(try Files.kind(of: path) == nil)  // close removed the socket file
        }
    }

    @Test func replacesAStaleSocketFileButNotALiveOne() async throws {
        let directory = try Files.makeTemporaryDirectory()
        defer { try? Files.removeTree(directory) }
        let path = directory + "/stale.sock"
        // A socket file whose server died: bound, then closed without unlinking.
        let dead = try Sockets.makeSocket(family: AF_UNIX, kind: .stream)
        try Sockets.bind(dead, to: .unix(path: path))
        try dead.close()
        try await withEventLoopGroup(threads: 1) { group in
            let listener = try SocketListener.bindUnix(path: path, group: group)
            #expect(throws: SystemError.self) { _ = try SocketListener.bindUnix(path: path, group: group) }
            await listener.close()
        }
        // Never deletes a regular file in the way.
        let regular = directory + "/file"
        try Files.write(try Files.open(regular, .createNew), [1, 2, 3])
        let group = EventLoopGroup.shared
        #expect(throws: SystemError.self) { _ = try SocketListener.bindUnix(path: regular, group: group) }
        #expect(try Files.kind(of: regular) == .regular)
    }

    @Test func connectingToAMissingSocketNamesThePath() async throws {
        do {
            _ = try await SocketConnection.connect(to: .unix(path: "/nonexistent/meshlab.sock"), on: EventLoopGroup.shared.next())
            Issue.record("connected to a missing socket")
        } catch let error as SystemError {
            #expect(error.errno == ENOENT)
            #expect(error.function == "connect(unix:/nonexistent/meshlab.sock)")
        }
    }
}
