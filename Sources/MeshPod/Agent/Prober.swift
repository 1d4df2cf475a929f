#if canImport(Glibc)
import Glibc
#endif
import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// Runs one probe attempt, as kubelet's prober does: `httpGet` and
/// `tcpSocket` from the daemon to the pod's address (the daemon sits in the
/// lab's node namespace and reaches pods over the bridge), `exec` as a
/// process inside the pod, in the container's context. Every failure comes
/// back as the text of the `Unhealthy` event.
struct Prober: Sendable {
    let launcher: any ContainerLauncher
    let records: ProcessRecords
    let clock: AgentClock
    /// Whether exec probes may switch to the container's user (the daemon is root).
    let switchUser: Bool

    /// How much of an exec probe's output the event keeps (kubelet's limit).
    static let outputLimit = 10 * 1024

    /// - Parameter outputDirectory: where an exec probe's output is caught (the pod's log directory).
    func run(_ probe: Probe, kind: ProbeKind, container: Container, plan: ContainerPlan?, sandbox: PodSandbox,
             timeout: Duration, key: String, outputDirectory: String) async -> ProbeOutcome {
        if let action = probe.httpGet {
            guard let port = Self.port(action.port, in: container) else { return .failure(Self.noPort(action.port, container)) }
            let host = action.host.flatMap { $0.isEmpty ? nil : $0 } ?? sandbox.ip
            return await withTimeout(timeout) { await Self.http(action, host: host, port: port, timeout: timeout) }
                ?? .failure("Get \"\(Self.url(action, host: host, port: port))\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
        }
        if let action = probe.tcpSocket {
            guard let port = Self.port(action.port, in: container) else { return .failure(Self.noPort(action.port, container)) }
            let host = action.host.flatMap { $0.isEmpty ? nil : $0 } ?? sandbox.ip
            return await withTimeout(timeout) { await Self.tcp(host: host, port: port, timeout: timeout) }
                ?? .failure("dial tcp \(host):\(port): i/o timeout")
        }
        if let command = probe.exec?.command {
            guard let plan else { return .failure("the container's configuration is not known") }
            return await exec(command, kind: kind, plan: plan, sandbox: sandbox, timeout: timeout, key: key,
                              outputDirectory: outputDirectory)
        }
        if probe.grpc != nil { return .failure("gRPC probes are not supported by meshlab: use httpGet, tcpSocket or exec") }
        return .failure("the probe names no handler")
    }

    // MARK: Handlers

    static func http(_ action: HTTPGetAction, host: String, port: Int, timeout: Duration) async -> ProbeOutcome {
        let url = url(action, host: host, port: port)
        guard (action.scheme ?? .http) == .http else {
            return .failure("Get \"\(url)\": HTTPS probes are not supported by meshlab yet")
        }
        guard let address = IPv4Address(host) else { return .failure("Get \"\(url)\": \(host) is not an IPv4 address") }
        do {
            let stream = try await SocketConnection.connect(to: .ipv4(address, port: UInt16(port)), timeout: timeout,
                                                            on: EventLoopGroup.shared.next())
            let connection = HTTPClientConnection(stream: stream, configuration: HTTPClientConfiguration(
                limits: HTTPParserLimits(maxBodyBytes: 1 << 20), readTimeout: timeout, writeTimeout: timeout))
            var headers: HTTPHeaders = [
                "Host": "\(host):\(port)", "User-Agent": "kube-probe/\(MeshlabVersion.kubernetesMajor).\(MeshlabVersion.kubernetesMinor)",
                "Accept": "*/*", "Connection": "close",
            ]
            for header in action.httpHeaders ?? [] { headers.replaceOrAdd(name: header.name, value: header.value) }
            let response: HTTPResponse
            do {
                response = try await connection.send(HTTPRequest(method: .get, target: target(action), headers: headers))
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            let code = response.status.code
            // Kubernetes: 200 <= code < 400 is success.
            return (200..<400).contains(code) ? .success : .failure("HTTP probe failed with statuscode: \(code)")
        } catch {
            return .failure("Get \"\(url)\": \(dialError(error, host: host, port: port))")
        }
    }

    static func tcp(host: String, port: Int, timeout: Duration) async -> ProbeOutcome {
        guard let address = IPv4Address(host) else { return .failure("dial tcp \(host):\(port): not an IPv4 address") }
        do {
            let connection = try await SocketConnection.connect(to: .ipv4(address, port: UInt16(port)), timeout: timeout,
                                                                on: EventLoopGroup.shared.next())
            await connection.close()
            return .success
        } catch {
            return .failure(dialError(error, host: host, port: port))
        }
    }

    func exec(_ command: [String], kind: ProbeKind, plan: ContainerPlan, sandbox: PodSandbox, timeout: Duration,
              key: String, outputDirectory: String) async -> ProbeOutcome {
        guard !command.isEmpty else { return .failure("the exec probe has no command") }
        let outputPath = "\(outputDirectory)/.\(plan.container).\(kind.rawValue.lowercased())-probe.out"
        let child: ChildProcess
        do {
            try Files.makeDirectories(outputDirectory, mode: 0o755)
            let output = try Files.open(outputPath, .truncate, mode: 0o600)
            defer { try? output.close() }
            child = try launcher.launch(plan.running(command).enterRequest(in: sandbox, switchUser: switchUser),
                                        environment: plan.environment, output: output)
        } catch {
            return .failure("\(error)")
        }
        records.add(key, processID: child.pid)
        defer { records.remove(key) }
        let loop = EventLoopGroup.shared.next()
        let exited: ExitStatus?? = await withTimeout(timeout) { try? await child.exitStatus(on: loop) }
        guard let finished = exited, let status = finished else {
            ProcessRecords.kill(child.pid)
            _ = try? await child.exitStatus(on: loop)
            return .failure("command \(JSONValue.string(command.joined(separator: " ")).serialized()) timed out")
        }
        if status.isSuccess { return .success }
        let bytes = (try? Files.read(outputPath)) ?? []
        var text = String(decoding: bytes.prefix(Self.outputLimit), as: UTF8.self)
        while text.last?.isWhitespace == true { text.removeLast() }
        return .failure(text)
    }

    // MARK: Helpers

    /// Runs `body`, or gives up after `timeout` (nil).
    func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
        let clock = self.clock
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// A port number, or a named port of the container.
    static func port(_ port: IntOrString, in container: Container) -> Int? {
        switch port {
        case .int(let number): return (1...65535).contains(number) ? Int(number) : nil
        case .string(let name):
            if let number = Int32(name) { return (1...65535).contains(number) ? Int(number) : nil }
            return (container.ports ?? []).first { $0.name == name }.map { Int($0.containerPort) }
        }
    }

    static func noPort(_ port: IntOrString, _ container: Container) -> String {
        "couldn't find port: \(port) in container \(container.name)"
    }

    static func target(_ action: HTTPGetAction) -> String {
        let path = action.path ?? "/"
        return path.hasPrefix("/") ? path : "/" + path
    }

    static func url(_ action: HTTPGetAction, host: String, port: Int) -> String {
        "\((action.scheme ?? .http) == .https ? "https" : "http")://\(host):\(port)\(target(action))"
    }

    /// Go's dial errors, which Kubernetes users know from `describe`.
    static func dialError(_ error: any Error, host: String, port: Int) -> String {
        if let error = error as? SystemError {
            switch error.errno {
            case ECONNREFUSED: return "dial tcp \(host):\(port): connect: connection refused"
            case EHOSTUNREACH: return "dial tcp \(host):\(port): connect: no route to host"
            case ENETUNREACH: return "dial tcp \(host):\(port): connect: network is unreachable"
            default: break
            }
        }
        if let error = error as? IOError, case .timedOut = error { return "dial tcp \(host):\(port): i/o timeout" }
        return "\(error)"
    }
}
