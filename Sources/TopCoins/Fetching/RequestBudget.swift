import Synchronization

/// A request budget shared by every request of a pass (retries included): at most `requests`
/// per `window` for each limit, as CryptoCompare's free keys allow 20 a second and 300 a
/// minute. The windows slide over the moments requests leave, so however the upstream aligns
/// its own counting windows, none of them sees more; each is lengthened by
/// `jitterAllowance`, so a request held up on the way does not land in the receiver's next
/// window beside the ones sent after it.
public final class RequestBudget: Sendable {
    public struct Limit: Sendable, Equatable {
        public let requests: Int
        public let window: Duration

        public init(requests: Int, window: Duration) {
            self.requests = requests
            self.window = window
        }
    }

    public static let jitterAllowance = Duration.milliseconds(100)

    public let limits: [Limit]
    /// When the latest requests leave (reserved, so possibly ahead of now), ascending; as
    /// many as the largest limit needs.
    private let departures: Mutex<[ContinuousClock.Instant]>
    private let kept: Int

    public init(limits: [Limit]) {
        self.limits = limits
        self.kept = limits.map(\.requests).max() ?? 0
        self.departures = Mutex([])
    }

    /// Reserves the earliest departure at or after `now` that keeps every limit, and returns it.
    public func reserve(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        departures.withLock { departures in
            var departure = max(now, departures.last ?? now)
            for limit in limits where departures.count >= limit.requests {
                departure = max(departure, departures[departures.count - limit.requests] + limit.window + RequestBudget.jitterAllowance)
            }
            departures.append(departure)
            if departures.count > kept { departures.removeFirst(departures.count - kept) }
            return departure
        }
    }

    /// Waits for this request's turn; false when the task was cancelled meanwhile.
    public func spend() async -> Bool {
        let departure = reserve(now: .now)
        do {
            try await Task.sleep(until: departure, clock: .continuous)
        } catch {
            return false
        }
        return true
    }
}
