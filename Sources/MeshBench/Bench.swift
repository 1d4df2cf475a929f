import Foundation
import MeshIO
import MeshSystem

/// Runs both servers, drives them with wrk, prints the table.
struct Bench {
    var connectionCounts = [1, 16, 64]
    var duration = 3
    var warmup = 1
    var rounds = 3
    var pin = true
    var nginxPath = "/usr/sbin/nginx"

    init(arguments: [String]) throws {
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--connections":
                connectionCounts = try value().split(separator: ",").map {
                    guard let count = Int($0), count > 0 else { throw BenchError("bad connection count \($0)") }
                    return count
                }
            case "--duration":
                guard let seconds = Int(try value()), seconds > 0, seconds <= 60 else { throw BenchError("--duration: 1...60 seconds") }
                duration = seconds
            case "--warmup":
                guard let seconds = Int(try value()), seconds >= 0, seconds <= 30 else { throw BenchError("--warmup: 0...30 seconds") }
                warmup = seconds
            case "--rounds":
                guard let count = Int(try value()), count > 0, count <= 10 else { throw BenchError("--rounds: 1...10") }
                rounds = count
            case "--no-pin":
                pin = false
            case "--nginx":
                nginxPath = try value()
            case "-h", "--help":
                print("""
                usage: meshlab-bench [--connections 1,16,64] [--duration SECONDS] [--warmup SECONDS] [--rounds N] [--no-pin] [--nginx PATH]
                Compares meshlab's HTTP server (one event loop) with nginx (one worker) on a fixed 1 KiB response, using wrk.
                Each connection count runs N rounds alternating the two servers; the table shows medians.
                """)
                exit(0)
            default:
                throw BenchError("unknown argument \(arguments[index]) (try --help)")
            }
            index += 1
        }
    }

    func run() throws {
        guard let wrk = Self.which("wrk") else { throw BenchError("wrk not found: apt-get install wrk (make bench-deps)") }
        guard FileManager.default.isExecutableFile(atPath: nginxPath) else {
            throw BenchError("nginx not found at \(nginxPath): apt-get install nginx-light (make bench-deps)")
        }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let taskset = pin && cpus >= 2 ? Self.which("taskset") : nil
        let serverPin = taskset.map { [$0, "-c", "0"] } ?? []
        let clientPin = taskset.map { [$0, "-c", "1"] } ?? []
        print("meshlab-bench: 1 KiB body, keep-alive, wrk \(duration)s per run after \(warmup)s warmup, "
              + "\(rounds) alternating round\(rounds == 1 ? "" : "s") per connection count (medians)")
        print(taskset != nil ? "pinning: servers on CPU 0 (meshlab: 1 event loop thread; nginx: 1 worker), wrk on CPU 1"
                             : "pinning: off (\(cpus) CPU\(cpus == 1 ? "" : "s"))")

        let processes = ProcessGroup()
        defer { processes.terminateAll() }
        let meshlabPort = try startMeshlab(pin: serverPin, processes: processes)
        let nginxPort = try startNginx(pin: serverPin, processes: processes)
        try waitUntilServing(port: meshlabPort)
        try waitUntilServing(port: nginxPort)

        var rows: [(Int, WrkResult, WrkResult)] = []
        for connections in connectionCounts {
            var meshlab: [WrkResult] = [], nginx: [WrkResult] = []
            for _ in 0..<rounds {
                for (port, sink) in [(meshlabPort, 0), (nginxPort, 1)] {
                    if warmup > 0 { _ = try runWrk(wrk, pin: clientPin, port: port, connections: connections, seconds: warmup) }
                    let result = try runWrk(wrk, pin: clientPin, port: port, connections: connections, seconds: duration)
                    if sink == 0 { meshlab.append(result) } else { nginx.append(result) }
                }
            }
            rows.append((connections, WrkResult.median(meshlab), WrkResult.median(nginx)))
        }
        printTable(rows)
    }

    // MARK: Servers

    private func startMeshlab(pin: [String], processes: ProcessGroup) throws -> UInt16 {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let process = Process()
        let command = pin + [Self.resolve(executable), "serve"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        processes.add(process)
        guard let line = Self.readLine(output.fileHandleForReading), line.hasPrefix("listening "),
              let port = UInt16(line.dropFirst("listening ".count)) else {
            throw BenchError("meshlab server did not start")
        }
        return port
    }

    private func startNginx(pin: [String], processes: ProcessGroup) throws -> UInt16 {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("meshlab-bench-nginx-\(getpid())").path
        try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
        processes.addCleanup { try? FileManager.default.removeItem(atPath: prefix) }
        let port = try Self.freePort()
        let body = String(repeating: "x", count: 1024)
        let config = """
        worker_processes 1;
        daemon off;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/logs/error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            keepalive_requests 100000000;
            keepalive_timeout 75s;
            client_body_temp_path \(prefix)/body;
            proxy_temp_path \(prefix)/proxy;
            fastcgi_temp_path \(prefix)/fastcgi;
            uwsgi_temp_path \(prefix)/uwsgi;
            scgi_temp_path \(prefix)/scgi;
            server {
                listen 127.0.0.1:\(port);
                location / {
                    default_type text/plain;
                    return 200 "\(body)";
                }
            }
        }
        """
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        let command = pin + [nginxPath, "-p", prefix, "-e", prefix + "/logs/error.log", "-c", prefix + "/nginx.conf"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        try process.run()
        processes.add(process)
        return port
    }

    /// Waits until a TCP connect to the port succeeds (at most 5 s).
    private func waitUntilServing(port: UInt16) throws {
        for _ in 0..<100 {
            if let descriptor = try? Sockets.makeSocket(family: AF_INET, kind: .stream, nonBlocking: false) {
                let connected = (try? Sockets.connect(descriptor, to: .ipv4(IPv4Address(127, 0, 0, 1), port: port))) != nil
                try? descriptor.close()
                if connected { return }
            }
            usleep(50_000)
        }
        throw BenchError("nothing listens on 127.0.0.1:\(port)")
    }

    // MARK: wrk

    private func runWrk(_ wrk: String, pin: [String], port: UInt16, connections: Int, seconds: Int) throws -> WrkResult {
        let command = pin + [wrk, "-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "5s",
                             "http://127.0.0.1:\(port)/"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let result = WrkResult.parse(text) else {
            throw BenchError("wrk failed against port \(port):\n\(text)")
        }
        return result
    }

    // MARK: Output

    private func printTable(_ rows: [(Int, WrkResult, WrkResult)]) {
        func rps(_ value: Double) -> String { String(format: "%.0f", value) }
        func ms(_ value: Double) -> String { String(format: "%.3f", value * 1000) }
        func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String(format: "%.2fx", a / b) : "-" }
        let header = ["conns", "meshlab rps", "nginx rps", "rps ratio", "meshlab p50 ms", "nginx p50 ms",
                      "meshlab p99 ms", "nginx p99 ms", "p99 ratio", "errors m/n"]
        var table = [header]
        for (connections, meshlab, nginx) in rows {
            table.append([
                "\(connections)", rps(meshlab.requestsPerSecond), rps(nginx.requestsPerSecond),
                ratio(meshlab.requestsPerSecond, nginx.requestsPerSecond),
                ms(meshlab.p50), ms(nginx.p50), ms(meshlab.p99), ms(nginx.p99), ratio(meshlab.p99, nginx.p99),
                "\(meshlab.non2xx + meshlab.socketErrors)/\(nginx.non2xx + nginx.socketErrors)",
            ])
        }
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for (index, row) in table.enumerated() {
            print(row.enumerated().map { column, cell in
                String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  "))
            if index == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        print("target: rps ratio >= 0.80x, p99 ratio <= 1.50x (errors: non-2xx + socket errors, meshlab/nginx)")
    }

    // MARK: Helpers

    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for directory in ["/usr/sbin", "/sbin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return nil
    }

    static func resolve(_ path: String) -> String {
        path.contains("/") ? path : (which(path) ?? path)
    }

    static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = handle.readData(ofLength: 1)
            guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// A port free right now on 127.0.0.1 (bound to port 0, then released for nginx).
    static func freePort() throws -> UInt16 {
        let descriptor = try Sockets.makeSocket(family: AF_INET, kind: .stream, nonBlocking: false)
        defer { try? descriptor.close() }
        try Sockets.bind(descriptor, to: .ipv4(IPv4Address(127, 0, 0, 1), port: 0))
        guard case .ipv4(_, let port)? = try Sockets.localAddress(of: descriptor) else { throw BenchError("no free port") }
        return port
    }
}

/// Child processes (and files) to clean up however the bench ends.
final class ProcessGroup: @unchecked Sendable {
    private var processes: [Process] = []
    private var cleanups: [() -> Void] = []

    func add(_ process: Process) { processes.append(process) }
    func addCleanup(_ cleanup: @escaping () -> Void) { cleanups.append(cleanup) }

    /// SIGTERM (nginx's fast shutdown, which stops its worker too), then SIGKILL after 2 s.
    /// Polls instead of `waitUntilExit`, which can wait forever without a run loop.
    func terminateAll() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
        }
        for process in processes {
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        processes.removeAll()
        for cleanup in cleanups { cleanup() }
        cleanups.removeAll()
    }
}
