import MeshModel
import MeshSystem

/// Where an app's log lines go: its stdout, which is the container log
/// (`meshlab logs`). Tests pass a closure that keeps the lines.
public struct AppLog: Sendable {
    public let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    public func callAsFunction(_ line: String) { write(line) }

    /// Lines to fd 1, one write(2) each (so lines of concurrent requests never interleave),
    /// unbuffered (a log read while the app runs shows every request so far).
    public static let standardOutput = AppLog { line in
        try? Files.write(standardOutputDescriptor, Array((line + "\n").utf8))
    }

    /// Discards everything.
    public static let none = AppLog { _ in }
}

/// fd 1 for the life of the process: never closed, because nothing outlives a global.
private let standardOutputDescriptor = FileDescriptor(owning: 1)

/// One access-log line per request, in the combined log's spirit:
/// `2026-03-01T10:00:00Z 10.1.0.7:41234 "GET /productpage HTTP/1.1" 200 5123 12.3ms "curl/8.5.0"`.
enum AccessLog {
    static func line(epochSeconds: Int, peer: SocketAddress?, requestLine: String, status: Int, bytes: Int,
                     duration: Duration, userAgent: String?) -> String {
        "\(Timestamp.format(epochSeconds: epochSeconds)) \(peer.map { "\($0)" } ?? "-") \"\(requestLine)\" "
            + "\(status) \(bytes) \(DurationText.milliseconds(duration)) \"\(userAgent ?? "-")\""
    }
}

/// Durations as people read them in logs and pages.
enum DurationText {
    /// `12.3ms`, one decimal.
    static func milliseconds(_ duration: Duration) -> String {
        let tenths = Int((Double(duration.components.seconds) * 1e4 + Double(duration.components.attoseconds) / 1e14).rounded())
        return "\(tenths / 10).\(tenths % 10)ms"
    }

    /// Go's `time.Duration.String()` for whole milliseconds and up, rounded to a tenth of a
    /// second as fortio prints uptimes (`1m2.3s`, `0s`, `4.5s`).
    static func goRoundedToTenths(_ duration: Duration) -> String {
        let tenths = Int((Double(duration.components.seconds) * 10 + Double(duration.components.attoseconds) / 1e17).rounded())
        if tenths == 0 { return "0s" }
        var rest = tenths
        var text = ""
        if rest >= 36_000 {
            text += "\(rest / 36_000)h"
            rest %= 36_000
        }
        if rest >= 600 || !text.isEmpty {
            text += "\(rest / 600)m"
            rest %= 600
        }
        text += rest % 10 == 0 ? "\(rest / 10)s" : "\(rest / 10).\(rest % 10)s"
        return text
    }
}
