/// What the daemon tells the `meshlab up` that launched it while it starts,
/// one line each over an inherited pipe, so `up` can print every step with
/// its time and knows at once when the lab is ready or why it failed.
public enum StartupEvent: Sendable, Equatable {
    /// A step finished `elapsed` seconds after the daemon started.
    case step(name: String, detail: String, elapsed: Double)
    case ready(elapsed: Double)
    case failed(message: String)

    /// One line of the pipe protocol (tab-separated, newline-terminated).
    public var line: String {
        switch self {
        case .step(let name, let detail, let elapsed): "step\t\(Self.seconds(elapsed))\t\(clean(name))\t\(clean(detail))\n"
        case .ready(let elapsed): "ready\t\(Self.seconds(elapsed))\n"
        case .failed(let message): "failed\t\(clean(message))\n"
        }
    }

    /// Reads a line written by `line`; nil for anything else.
    public init?(line: Substring) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        switch fields.first {
        case "step" where fields.count == 4:
            guard let elapsed = Double(fields[1]) else { return nil }
            self = .step(name: fields[2], detail: fields[3], elapsed: elapsed)
        case "ready" where fields.count == 2:
            guard let elapsed = Double(fields[1]) else { return nil }
            self = .ready(elapsed: elapsed)
        case "failed" where fields.count >= 2:
            self = .failed(message: fields[1...].joined(separator: " "))
        default:
            return nil
        }
    }

    /// Seconds with millisecond precision: `0.012`.
    public static func seconds(_ value: Double) -> String {
        let millis = Int((value * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

private func clean(_ text: String) -> String {
    String(text.map { $0 == "\t" || $0 == "\n" ? " " : $0 })
}
