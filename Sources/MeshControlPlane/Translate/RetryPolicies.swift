import MeshModel

/// Istio's retry translation (pilot/pkg/networking/core/route/retry/retry.go).
public enum RetryPolicies {
    /// What an outbound route gets when its VirtualService names no retries:
    /// 2 retries on connect-failure, refused-stream, unavailable, cancelled
    /// and retriable-status-codes (with no codes listed), avoiding hosts
    /// already tried, up to 5 host selections.
    public static var outboundDefault: RetryPolicy {
        var policy = RetryPolicy(numRetries: 2, retryOn: [
            "connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes",
        ])
        policy.retryPreviousHosts = true
        policy.hostSelectionRetryMaxAttempts = 5
        return policy
    }

    /// Inbound routes retry a request only when the connection to the app
    /// was reset before the request went out (Istio's defaultInboundHttpRetryPolicy).
    public static var inboundDefault: RetryPolicy {
        RetryPolicy(numRetries: 2, retryOn: ["reset-before-request"])
    }

    /// A VirtualService `retries` block: absent gives the default policy,
    /// `attempts: 0` (or unset) none at all. Otherwise the default policy with
    /// `attempts` as the retry count; `retryOn` replaces the conditions, its
    /// bare integers becoming retriable status codes (and adding
    /// `retriable-status-codes`); `perTryTimeout`, `backoff` (cap 10× base,
    /// as Envoy) and `retryIgnorePreviousHosts: false` as given. With
    /// consistent hashing the previous-hosts predicate is dropped, since it
    /// would defeat the hash.
    public static func policy(_ retries: VirtualService.HTTPRetry?, consistentHash: Bool = false) -> RetryPolicy? {
        var policy = outboundDefault
        if let retries {
            guard let attempts = retries.attempts, attempts > 0 else { return nil }
            policy.numRetries = Int(attempts)
            if let retryOn = retries.retryOn, !retryOn.isEmpty {
                let (conditions, codes) = parseRetryOn(retryOn)
                policy.retryOn = conditions
                policy.retriableStatusCodes = codes.isEmpty ? nil : codes
                if !codes.isEmpty && !conditions.contains("retriable-status-codes") {
                    policy.retryOn.append("retriable-status-codes")
                }
            }
            policy.perTryTimeoutMs = retries.perTryTimeout.map(OutboundClusters.milliseconds)
            if let backoff = retries.backoff {
                let base = OutboundClusters.milliseconds(backoff)
                policy.backoffBaseMs = base
                policy.backoffMaxMs = base * 10
            }
            if retries.retryIgnorePreviousHosts == false { policy.retryPreviousHosts = nil }
        }
        if consistentHash { policy.retryPreviousHosts = nil }
        if policy.retryPreviousHosts == nil { policy.hostSelectionRetryMaxAttempts = nil }
        return policy
    }

    /// Splits a comma list into Envoy conditions and status codes (Istio's
    /// parseRetryOn): blanks are trimmed, empty entries and duplicates dropped.
    public static func parseRetryOn(_ text: String) -> (conditions: [String], statusCodes: [Int]) {
        var conditions: [String] = []
        var codes: [Int] = []
        for part in text.split(separator: ",") {
            let entry = String(part.filter { $0 != " " && $0 != "\t" })
            if entry.isEmpty { continue }
            if let code = Int(entry) {
                if !codes.contains(code) { codes.append(code) }
            } else if !conditions.contains(entry) {
                conditions.append(entry)
            }
        }
        return (conditions, codes)
    }
}
