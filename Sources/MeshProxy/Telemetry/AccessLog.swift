import FoundationEssentials
import MeshModel

/// One request or connection as the access log and the metrics see it.
public struct RequestRecord: Sendable {
    public var startEpochMs: Int64 = 0
    public var method: String?
    public var path: String?
    public var protocolName: String?
    public var responseCode = 0
    public var responseFlags: [String] = []
    public var responseCodeDetails: String?
    public var bytesReceived = 0
    public var bytesSent = 0
    public var durationMs = 0
    public var upstreamServiceTimeMs: Int?
    public var forwardedFor: String?
    public var userAgent: String?
    public var requestID: String?
    public var authority: String?
    public var upstreamHost: String?
    public var upstreamCluster: String?
    public var upstreamLocalAddress: String?
    public var downstreamLocalAddress: String?
    public var downstreamRemoteAddress: String?
    public var routeName: String?
    /// For metrics: who reported, and the destination service.
    public var reporter = "source"
    public var destinationService: String?
    public var destinationWorkload: String?
    public var destinationWorkloadNamespace: String?
    public var tcp = false

    public init() {}

    /// Envoy's flag string: `-` for none, else the codes joined with commas.
    public var flagsText: String { responseFlags.isEmpty ? "-" : responseFlags.joined(separator: ",") }
}

/// Istio's access-log text format (pilot/pkg/model/telemetry_logging.go), one line
/// per request; empty values print as `-`, as Envoy does.
public enum AccessLogFormat {
    public static func line(_ record: RequestRecord) -> String {
        func value(_ text: String?) -> String { (text?.isEmpty ?? true) ? "-" : text! }
        let requestLine = record.tcp
            ? "- - -"
            : "\(value(record.method)) \(value(record.path)) \(value(record.protocolName))"
        var line = "[\(timestamp(epochMs: record.startEpochMs))] \"\(requestLine)\" \(record.responseCode) \(record.flagsText)"
        line += " \(value(record.responseCodeDetails)) - \"-\" \(record.bytesReceived) \(record.bytesSent) \(record.durationMs)"
        line += " \(record.upstreamServiceTimeMs.map(String.init) ?? "-")"
        line += " \"\(value(record.forwardedFor))\" \"\(value(record.userAgent))\" \"\(value(record.requestID))\""
        line += " \"\(value(record.authority))\" \"\(value(record.upstreamHost))\" \(value(record.upstreamCluster))"
        line += " \(value(record.upstreamLocalAddress)) \(value(record.downstreamLocalAddress))"
        line += " \(value(record.downstreamRemoteAddress)) - \(value(record.routeName))"
        return line
    }

    /// `2026-11-22T06:15:46.123Z`, Envoy's START_TIME.
    public static func timestamp(epochMs: Int64) -> String {
        let seconds = Int(epochMs / 1000)
        let millis = Int(epochMs % 1000)
        let whole = Timestamp.format(epochSeconds: seconds)  // 2026-11-22T06:15:46Z
        let digits = String(millis)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Milliseconds since the epoch, now.
    public static func nowEpochMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
