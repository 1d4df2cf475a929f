import Foundation
import MeshHTTP
import MeshIO
import MeshSystem

/// `meshlab-bench serve [--port N]`: meshlab's HTTP server on one event loop thread,
/// answering every request with a fixed 1 KiB body. Prints `listening PORT`.
enum BenchServer {
    static let body: [UInt8] = Array(repeating: UInt8(ascii: "x"), count: 1024)

    static func run(arguments: [String]) -> Never {
        var port: UInt16 = 0
        if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count, let value = UInt16(arguments[index + 1]) {
            port = value
        }
        do {
            let group = try EventLoopGroup(threads: 1, name: "bench")
            let listener = try SocketListener.bind(.ipv4(IPv4Address(127, 0, 0, 1), port: port), group: group)
            guard case .ipv4(_, let boundPort) = listener.localAddress else { throw BenchError("no TCP port") }
            FileHandle.standardOutput.write(Data("listening \(boundPort)\n".utf8))
            if arguments.contains("--raw") {
                // The I/O floor, for profiling: no HTTP parsing, one canned response per request head.
                runRaw(listener, on: group)
            }
            let server = HTTPServer(configuration: HTTPServerConfiguration(sendsDate: true))
            // Built once, as nginx's `return 200 "..."` is: the handler hands out the same value.
            let fixed = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: body)
            let handler = HTTPSimpleHandler { _ in fixed }
            let done = DispatchSemaphore(value: 0)
            Task(executorPreference: group.loops[0]) {
                try? await server.serve(listener, handler: handler)
                done.signal()
            }
            done.wait()
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("meshlab-bench serve: \(error)\n".utf8))
            exit(1)
        }
    }
}

extension BenchServer {
    /// Answers every `\r\n\r\n`-terminated request with the same bytes, straight on MeshIO.
    static func runRaw(_ listener: SocketListener, on group: EventLoopGroup) -> Never {
        var response = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n".utf8)
        response += body
        let canned = ByteBuffer(response)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: group.loops[0]) {
            await withDiscardingTaskGroup { tasks in
                while let connection = try? await listener.accept() {
                    tasks.addTask(executorPreference: connection.eventLoop) {
                        var buffer = ByteBuffer(capacity: 16 * 1024)
                        while (try? await connection.read(into: &buffer, maxBytes: 65536, timeout: nil)) ?? nil != nil {
                            var ends = 0
                            buffer.withUnsafeReadableBytes { bytes in
                                var i = 3
                                while i < bytes.count {
                                    if bytes[i] == 10 && bytes[i - 1] == 13 && bytes[i - 2] == 10 && bytes[i - 3] == 13 { ends += 1 }
                                    i += 1
                                }
                            }
                            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                            for _ in 0..<ends { try? await connection.write(canned, timeout: nil) }
                        }
                        await connection.close()
                    }
                }
            }
            done.signal()
        }
        done.wait()
        exit(0)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
