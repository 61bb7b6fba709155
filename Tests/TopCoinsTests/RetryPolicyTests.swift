import Testing

@testable import TopCoins

@Suite("RetryPolicy")
struct RetryPolicyTests {
    static let policy = RetryPolicy(attempts: 4, initialDelaySeconds: 1, maxDelaySeconds: 30)
    static let server = UpstreamFailure.server(status: 503, message: "down")

    @Test func retriesUntilTheLastAttemptThenGivesUp() {
        for attempt in 1...3 {
            #expect(Self.policy.delay(after: Self.server, attempt: attempt, jitter: 0.5) != nil, "attempt \(attempt)")
        }
        #expect(Self.policy.delay(after: Self.server, attempt: 4, jitter: 0.5) == nil)
        #expect(Self.policy.delay(after: Self.server, attempt: 5, jitter: 0.5) == nil)
    }

    @Test func aSingleAttemptNeverRetries() {
        let once = RetryPolicy(attempts: 1, initialDelaySeconds: 1, maxDelaySeconds: 30)
        #expect(once.delay(after: Self.server, attempt: 1, jitter: 0) == nil)
        #expect(once.delay(after: .rateLimited(retryAfter: 1, message: ""), attempt: 1, jitter: 0) == nil)
    }

    @Test(arguments: [
        UpstreamFailure.keyProblem(status: 401, message: "This API Key is invalid."),
        .keyProblem(status: 403, message: "plan"),
        .rejected(status: 404, message: "not found"),
        .rejected(status: 429, message: "daily credits spent"),
    ])
    func keyProblemsAndRejectionsAreNotRetried(failure: UpstreamFailure) {
        #expect(!failure.isRetryable)
        #expect(Self.policy.delay(after: failure, attempt: 1, jitter: 0.5) == nil)
    }

    @Test(arguments: [
        UpstreamFailure.transport("connection refused"), .server(status: 500, message: ""), .server(status: 200, message: "error body"),
        .malformed("truncated"), .rateLimited(retryAfter: nil, message: ""),
    ])
    func transientFailuresAreRetried(failure: UpstreamFailure) {
        #expect(failure.isRetryable)
        #expect(Self.policy.delay(after: failure, attempt: 1, jitter: 0.5) != nil)
    }

    @Test(arguments: [0.0, 3.0, 7.5, 30.0, 120.0, 900.0])
    func retryAfterIsHonouredExactlyWithoutJitterOrCap(seconds: Double) {
        // Longer than max_delay is still honoured: the upstream knows when it will answer again.
        for jitter in [0.0, 0.5, 0.999] {
            #expect(Self.policy.delay(after: .rateLimited(retryAfter: seconds, message: ""), attempt: 1, jitter: jitter) == seconds)
        }
    }

    @Test func aRetryAfterLongerThanTheLongestHonouredSkipsTheCycle() {
        #expect(RetryPolicy.longestHonouredRetryAfter == 900)
        #expect(Self.policy.delay(after: .rateLimited(retryAfter: 900.5, message: ""), attempt: 1, jitter: 0.5) == nil)
        #expect(Self.policy.delay(after: .rateLimited(retryAfter: 86_400, message: ""), attempt: 1, jitter: 0.5) == nil)
    }

    @Test func rateLimitWithoutRetryAfterBacksOff() {
        let delay = Self.policy.delay(after: .rateLimited(retryAfter: nil, message: ""), attempt: 2, jitter: 0)
        #expect(delay == 1)  // base 2 s, lowest jitter gives half
    }

    @Test func backoffDoublesFromTheInitialDelayAndIsCappedAtMaxDelay() {
        let policy = RetryPolicy(attempts: 10, initialDelaySeconds: 1, maxDelaySeconds: 30)
        // jitter 0 gives exactly half the base: 1, 2, 4, 8, 16, then the 30 s cap.
        let halves = (1...9).map { policy.delay(after: Self.server, attempt: $0, jitter: 0) }
        #expect(halves == [0.5, 1, 2, 4, 8, 15, 15, 15, 15])
    }

    @Test func backoffWithAFractionalInitialDelay() {
        let policy = RetryPolicy(attempts: 5, initialDelaySeconds: 0.25, maxDelaySeconds: 1.5)
        let halves = (1...4).map { policy.delay(after: Self.server, attempt: $0, jitter: 0) }
        #expect(halves == [0.125, 0.25, 0.5, 0.75])
    }

    @Test func veryLateAttemptsDoNotOverflow() {
        let policy = RetryPolicy(attempts: 100, initialDelaySeconds: 1, maxDelaySeconds: 30)
        let delay = policy.delay(after: Self.server, attempt: 99, jitter: 0)
        #expect(delay == 15)
    }

    @Test func zeroDelaysStayZero() {
        let policy = RetryPolicy(attempts: 3, initialDelaySeconds: 0, maxDelaySeconds: 0)
        #expect(policy.delay(after: Self.server, attempt: 1, jitter: 0.9) == 0)
    }

    @Test func jitterKeepsTheDelayWithinHalfToAllOfTheBase() throws {
        let policy = RetryPolicy(attempts: 10, initialDelaySeconds: 1, maxDelaySeconds: 30)
        var random = SplitMix64(seed: 99)
        var lowest = Double.infinity
        var highest = 0.0
        for _ in 0..<3000 {
            let attempt = Int.random(in: 1...9, using: &random)
            let jitter = Double.random(in: 0..<1, using: &random)
            let base = min(30, pow2(attempt - 1))
            let delay = try #require(policy.delay(after: Self.server, attempt: attempt, jitter: jitter))
            #expect(delay >= base * 0.5 && delay <= base, "attempt \(attempt) jitter \(jitter): \(delay)")
            lowest = min(lowest, delay / base)
            highest = max(highest, delay / base)
        }
        // The draws cover the band, so jitter is really applied, not a constant factor.
        #expect(lowest < 0.52)
        #expect(highest > 0.98)
    }

    @Test func jitterIsMonotonic() throws {
        let low = try #require(Self.policy.delay(after: Self.server, attempt: 3, jitter: 0.1))
        let high = try #require(Self.policy.delay(after: Self.server, attempt: 3, jitter: 0.9))
        #expect(low < high)
        #expect(abs(low - 2.2) < 1e-12)
        #expect(abs(high - 3.8) < 1e-12)
    }

    func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<exponent { value *= 2 }
        return value
    }
}
