/// How a fetch cycle retries a failed upstream request: exponential backoff with jitter,
/// the upstream's own `Retry-After` when it gives one.
public struct RetryPolicy: Sendable, Equatable {
    /// Requests per page in one cycle, the first included.
    public let attempts: Int
    public let initialDelaySeconds: Double
    public let maxDelaySeconds: Double

    /// The longest `Retry-After` honoured within one cycle; a longer one skips the cycle.
    public static let longestHonouredRetryAfter: Double = 900

    public init(attempts: Int, initialDelaySeconds: Double, maxDelaySeconds: Double) {
        self.attempts = attempts
        self.initialDelaySeconds = initialDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// The wait before the next attempt after `failure` on attempt `attempt` (1-based), or nil
    /// when the cycle should give up. `jitter` is a random number in `0..<1`; the backoff is
    /// drawn from its upper half so retries from many processes spread out without
    /// collapsing to zero.
    public func delay(after failure: UpstreamFailure, attempt: Int, jitter: Double) -> Double? {
        guard attempt < attempts, failure.isRetryable else { return nil }
        if let retryAfter = failure.retryAfterSeconds {
            return retryAfter <= RetryPolicy.longestHonouredRetryAfter ? retryAfter : nil
        }
        let exponential = initialDelaySeconds * Double(1 << min(attempt - 1, 30))
        return min(maxDelaySeconds, exponential) * (0.5 + jitter / 2)
    }
}
