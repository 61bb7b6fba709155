/// How long a long-running Redis reader (the merger, the spread monitor, the alert webhook,
/// the API's follower) waits before starting over after Redis failed it: 0.1 s, doubling, at
/// most a second. The ceiling is low on purpose: after a Sentinel failover the new primary is
/// found on the first attempt after it is announced, so the ceiling is what a failover costs
/// beyond Sentinel's own time, and one connect a second from each process is nothing to Redis.
struct StartOverBackoff {
    static let first = 0.1
    static let ceiling = 1.0

    private(set) var seconds = first

    /// After a successful start: the next failure waits the shortest time again.
    mutating func reset() { seconds = Self.first }

    /// Waits the current delay (cut short by cancellation), then doubles it up to the ceiling.
    mutating func wait() async {
        try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        seconds = min(seconds * 2, Self.ceiling)
    }
}
