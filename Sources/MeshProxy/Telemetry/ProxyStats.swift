import MeshModel
import Synchronization

/// The sidecar's counters: Envoy-style named counters for `/stats`, and Istio's
/// `istio_requests_total` (and TCP byte counters) for `/stats/prometheus`.
public final class ProxyStats: Sendable {
    /// Istio's standard labels, in istio_stats.cc's order, for what we know.
    public struct RequestLabels: Hashable, Sendable {
        public var reporter: String
        public var sourceWorkload: String
        public var sourceWorkloadNamespace: String
        public var sourceApp: String
        public var destinationWorkload: String
        public var destinationWorkloadNamespace: String
        public var destinationService: String
        public var destinationServiceName: String
        public var destinationServiceNamespace: String
        public var requestProtocol: String
        public var responseCode: String
        public var responseFlags: String

        var rendered: String {
            let pairs: [(String, String)] = [
                ("reporter", reporter), ("source_workload", sourceWorkload),
                ("source_workload_namespace", sourceWorkloadNamespace), ("source_principal", "unknown"),
                ("source_app", sourceApp), ("source_version", "unknown"), ("source_canonical_service", sourceApp),
                ("source_canonical_revision", "latest"), ("source_cluster", "Kubernetes"),
                ("destination_workload", destinationWorkload),
                ("destination_workload_namespace", destinationWorkloadNamespace),
                ("destination_principal", "unknown"), ("destination_app", "unknown"), ("destination_version", "unknown"),
                ("destination_service", destinationService), ("destination_service_name", destinationServiceName),
                ("destination_service_namespace", destinationServiceNamespace),
                ("destination_canonical_service", "unknown"), ("destination_canonical_revision", "latest"),
                ("destination_cluster", "Kubernetes"), ("request_protocol", requestProtocol),
                ("response_flags", responseFlags), ("connection_security_policy", "unknown"),
                ("response_code", responseCode), ("grpc_response_status", ""),
            ]
            return pairs.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
        }

        static func escape(_ text: String) -> String {
            var out = ""
            for character in text {
                switch character {
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                case "\n": out += "\\n"
                default: out.append(character)
                }
            }
            return out
        }
    }

    /// Who this sidecar is, for the source/destination labels.
    public struct Workload: Sendable {
        public var name: String
        public var namespace: String
        public var app: String
        public init(name: String, namespace: String, app: String) {
            self.name = name
            self.namespace = namespace
            self.app = app
        }
    }

    private struct State {
        var counters: [String: Int] = [:]
        var requests: [RequestLabels: Int] = [:]
        var tcpSent: [RequestLabels: Int] = [:]
        var tcpReceived: [RequestLabels: Int] = [:]
    }

    public let workload: Workload
    private let state = Mutex(State())

    public init(workload: Workload) {
        self.workload = workload
    }

    /// Adds `amount` to the Envoy-style counter `name`.
    public func count(_ name: String, _ amount: Int = 1) {
        state.withLock { $0.counters[name, default: 0] += amount }
    }

    public func counter(_ name: String) -> Int { state.withLock { $0.counters[name] ?? 0 } }

    /// Counts one finished request or connection.
    public func record(_ record: RequestRecord) {
        let labels = labels(for: record)
        state.withLock { state in
            if record.tcp {
                state.tcpSent[labels, default: 0] += record.bytesReceived
                state.tcpReceived[labels, default: 0] += record.bytesSent
                state.counters["tcp.connections_closed", default: 0] += 1
            } else {
                state.requests[labels, default: 0] += 1
            }
        }
    }

    func labels(for record: RequestRecord) -> RequestLabels {
        let service = record.destinationService ?? "unknown"
        let parts = service.split(separator: ".")
        let serviceName = parts.count >= 2 ? String(parts[0]) : service
        let serviceNamespace = parts.count >= 2 ? String(parts[1]) : "unknown"
        let inbound = record.reporter == "destination"
        return RequestLabels(
            reporter: record.reporter,
            sourceWorkload: inbound ? "unknown" : workload.name,
            sourceWorkloadNamespace: inbound ? "unknown" : workload.namespace,
            sourceApp: inbound ? "unknown" : workload.app,
            destinationWorkload: inbound ? workload.name : (record.destinationWorkload ?? "unknown"),
            destinationWorkloadNamespace: inbound ? workload.namespace : (record.destinationWorkloadNamespace ?? "unknown"),
            destinationService: service, destinationServiceName: serviceName,
            destinationServiceNamespace: serviceNamespace,
            requestProtocol: record.tcp ? "tcp" : "http",
            responseCode: String(record.responseCode), responseFlags: record.flagsText)
    }

    /// `/stats`: `name: value` lines, sorted.
    public func renderText() -> String {
        let counters = state.withLock { $0.counters }
        return counters.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\n" }.joined()
    }

    /// `/stats/prometheus`: Istio's metrics in Prometheus text format, sorted.
    public func renderPrometheus() -> String {
        let (requests, sent, received) = state.withLock { ($0.requests, $0.tcpSent, $0.tcpReceived) }
        var out = ""
        func family(_ name: String, _ values: [RequestLabels: Int]) {
            out += "# TYPE \(name) counter\n"
            for line in values.map({ "\(name){\($0.key.rendered)} \($0.value)\n" }).sorted() { out += line }
        }
        family("istio_requests_total", requests)
        family("istio_tcp_sent_bytes_total", sent)
        family("istio_tcp_received_bytes_total", received)
        return out
    }
}
