import Synchronization

/// A request budget shared by every request of a pass (retries included): at most `requests`
/// per `window` for each limit, as CryptoCompare's free keys allow 20 a second and 300 a
/// minute. The windows slide over the moments requests leave, so however the upstream aligns
/// its own counting windows, none of them sees more; each is lengthened (`Limit.guardedWindow`), so a
/// request held up on the way (a connection set up, a busy machine) does not land in the
/// receiver's next window beside the ones sent after it.
///
/// A budget may also be held off: after a rate-limited answer, no request leaves until the
/// pause is over (Bitso locks an IP out for a minute, and for a day when it keeps asking).
///
/// A budget may also cap the calls of its whole life (`callsPerRun`: CoinGecko's monthly
/// credits spread over daily runs); a budget is then made per run.
public final class RequestBudget: Sendable {
    public struct Limit: Sendable, Equatable {
        public let requests: Int
        public let window: Duration

        public init(requests: Int, window: Duration) {
            self.requests = requests
            self.window = window
        }

        /// The window as the budget keeps it: a fiftieth longer, and at least 250 ms, the
        /// delay a request may meet between leaving and arriving (a TLS handshake to a real
        /// upstream; on a loaded machine, a process waiting for a core). At 300 a minute that
        /// is 300 in 61.2 s.
        public var guardedWindow: Duration { window + max(.milliseconds(250), window / 50) }
    }

    public let limits: [Limit]
    /// How long a rate-limited answer without `Retry-After` holds every request back; nil: a
    /// rate limit holds nothing back beyond the retry's own wait.
    public let rateLimitPause: Duration?
    /// The most calls this budget grants, retries included; nil: no cap.
    public let callsPerRun: Int?

    struct State {
        /// When the latest requests leave (reserved, so possibly ahead of now), ascending; as
        /// many as the largest limit needs.
        var departures: [ContinuousClock.Instant] = []
        /// No request leaves before this (a rate limit's pause).
        var heldUntil: ContinuousClock.Instant?
        /// Calls granted so far.
        var calls = 0
    }

    private let state: Mutex<State>
    private let kept: Int

    public init(limits: [Limit], rateLimitPause: Duration? = nil, callsPerRun: Int? = nil) {
        self.limits = limits
        self.rateLimitPause = rateLimitPause
        self.callsPerRun = callsPerRun
        self.kept = limits.map(\.requests).max() ?? 0
        self.state = Mutex(State())
    }

    /// Reserves the earliest departure at or after `now` that keeps every limit and any
    /// hold-off, and returns it.
    public func reserve(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        state.withLock { state in
            var departure = max(now, state.departures.last ?? now, state.heldUntil ?? now)
            for limit in limits where state.departures.count >= limit.requests {
                departure = max(departure, state.departures[state.departures.count - limit.requests] + limit.guardedWindow)
            }
            state.departures.append(departure)
            if state.departures.count > kept { state.departures.removeFirst(state.departures.count - kept) }
            return departure
        }
    }

    /// Holds every later departure back until `retryAfter` seconds (the upstream's word), or
    /// `rateLimitPause` when it gave none, after `now`; returns the pause, or nil when this
    /// budget has no `rateLimitPause` (then nothing is held). A hold never shortens one
    /// already in force, and departures already reserved inside it are not moved: only
    /// requests that reserve afterwards wait.
    public func holdOff(retryAfter: Double?, now: ContinuousClock.Instant) -> Duration? {
        guard let rateLimitPause else { return nil }
        let pause = retryAfter.map { Duration.milliseconds(Int64(($0 * 1000).rounded(.up))) } ?? rateLimitPause
        state.withLock { state in
            state.heldUntil = max(state.heldUntil ?? now, now + pause)
        }
        return pause
    }

    /// Counts one call against `callsPerRun`; false (and nothing counted) when the cap is reached.
    public func takeCall() -> Bool {
        state.withLock { state in
            if let callsPerRun, state.calls >= callsPerRun { return false }
            state.calls += 1
            return true
        }
    }

    /// The calls granted so far (a run's log says how many it made).
    public var callsMade: Int { state.withLock { $0.calls } }

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

extension RequestBudget.Limit {
    /// Reads a config's `budget` object's `per_second` and `per_minute` (at least one); the
    /// caller reads any keys of its own and rejects unknown ones.
    static func list(reading budget: ConfigObject) throws(ConfigError) -> [RequestBudget.Limit] {
        var limits: [RequestBudget.Limit] = []
        if let perSecond = try budget.integer("per_second", in: 1...100_000) { limits.append(.init(requests: perSecond, window: .seconds(1))) }
        if let perMinute = try budget.integer("per_minute", in: 1...1_000_000) { limits.append(.init(requests: perMinute, window: .seconds(60))) }
        guard !limits.isEmpty else { throw ConfigError(file: budget.file, keyPath: budget.path, message: "must set per_second, per_minute or both") }
        return limits
    }
}
