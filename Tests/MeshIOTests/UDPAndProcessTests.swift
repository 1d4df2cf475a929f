import MeshIO
import MeshSystem
import Testing

@Suite struct UDPTests {
    @Test func roundTripOnLoopback() async throws {
        try await withEventLoopGroup { group in
            let server = try UDPSocket.bind(to: .loopback(port: 0), on: group.next())
            let client = try UDPSocket.bind(to: .loopback(port: 0), on: group.next())
            #expect(server.localAddress.port != 0)
            let answering = Task(executorPreference: server.eventLoop) {
                let query = try await server.receive(timeout: .seconds(10))
                var reply = query.bytes
                reply.writeString(" pong")
                try await server.send(reply, to: query.peer)
                return query.peer
            }
            try await client.send(ByteBuffer(string: "ping"), to: server.localAddress)
            let answer = try await client.receive(timeout: .seconds(10))
            #expect(answer.bytes == ByteBuffer(string: "ping pong"))
            #expect(answer.peer == server.localAddress)
            #expect(try await answering.value == client.localAddress)
            await client.close()
            await server.close()
        }
    }

    @Test func receiveTimesOutAndCloseWakesAReceiver() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let socket = try UDPSocket.bind(to: .loopback(port: 0), on: group.next())
            await #expect(throws: IOError.timedOut(.receive)) { _ = try await socket.receive(timeout: .milliseconds(20)) }
            let pending = Task { try await socket.receive() }
            try await Task.sleep(for: .milliseconds(10))
            await socket.close()
            await #expect(throws: IOError.closed(.receive)) { _ = try await pending.value }
        }
    }
}

@Suite struct ChildProcessLoopTests {
    @Test func exitStatusArrivesThroughThePidfdOnTheLoop() async throws {
        try await withEventLoopGroup(threads: 1) { group in
            let child = try ChildProcess.spawn(SpawnConfiguration(executable: "/bin/sh", arguments: ["-c", "sleep 0.05; exit 7"]))
            #expect(try await child.exitStatus(on: group.next()) == .exited(code: 7))
        }
    }
}
