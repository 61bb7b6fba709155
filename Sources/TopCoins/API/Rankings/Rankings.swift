import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// The volatility and returns rankings, computed once per new snapshot (or backfill) and
/// served from memory, never by scanning history per request.
///
/// What it holds: every asset's raw points of the widest volatility window asked so far (24 h
/// at first) as `PriceColumns`, and every asset's hourly and daily closes (`CloseSeries`, the
/// daily ones with backfilled candles over TopCoins' own days). All of it is read from the
/// series store once, at start, then extended from each new snapshot the API follows (its
/// rows carry every asset's price; snapshots missed between two announcements are read from
/// their raw span), trimmed to the window, and the daily closes of an asset reloaded when its
/// candle counter moves. After each change the default rankings (volatility over 24 h, 5-day
/// returns) are computed and kept; other windows, periods and instants are computed on first
/// ask from the same memory and kept until the next change.
public final class Rankings: Service, Sendable {
    public static let defaultWindowMilliseconds: Int64 = 86_400_000
    public static let defaultPeriods = 5
    public static let maxPeriods = 1000
    static let hourMilliseconds: Int64 = 3_600_000
    /// Rankings kept per change besides the defaults (other windows, periods, instants).
    static let cachedRankings = 64

    let history: History
    let library: SnapshotLibrary
    let assets: AssetLibrary
    /// The widest window: what raw history keeps (`raw_history_days`).
    public let maxWindowMilliseconds: Int64
    /// How far back hourly closes are kept: hourly returns of up to `maxPeriods` periods at
    /// any instant raw history holds. Further back, daily closes serve.
    var hourlyReachMilliseconds: Int64 { maxWindowMilliseconds + Int64(Rankings.maxPeriods) * Rankings.hourMilliseconds }
    var hourlyCapacity: Int { Int(hourlyReachMilliseconds / Rankings.hourMilliseconds) + 1 }
    let logger: Logger
    private let corruptSeries = CoreMetrics.Counter(label: "topcoins_corrupt_series_total")
    private let state = Mutex(State())
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    struct State {
        var loaded = false
        /// The newest snapshot the memory holds.
        var latest: Timestamp?
        /// Bumped on every change of what is held: the rankings' identity (ETag).
        var generation: UInt64 = 0
        var columns = PriceColumns()
        /// The columns hold the points later than `latest` minus this.
        var horizon = Rankings.defaultWindowMilliseconds
        /// The widest window asked for; the updater extends `horizon` to it.
        var wantedHorizon = Rankings.defaultWindowMilliseconds
        var waiters: [CheckedContinuation<Void, Never>] = []
        var hourly: [Int64: CloseSeries] = [:]
        var daily: [Int64: CloseSeries] = [:]
        /// The daily closes of assets with backfilled candles, candles over own days.
        var dailyWithCandles: [Int64: CloseSeries] = [:]
        var candleVersions: [Int64: Int64] = [:]
        var volatility: [Int64: VolatilityRanking] = [:]
        var returns: [ReturnRanking.Key: ReturnRanking] = [:]
        var corruptKeys: Set<String> = []
    }

    public init(history: History, library: SnapshotLibrary, assets: AssetLibrary, maxWindowMilliseconds: Int64, logger: Logger) {
        self.history = history
        self.library = library
        self.assets = assets
        self.maxWindowMilliseconds = maxWindowMilliseconds
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Something may have changed (a new snapshot, the catalogue and candle counters reread):
    /// the updater looks, off the caller's task.
    public func noteChange() {
        signal.yield()
    }

    /// The updater: loads at start, then follows each change `noteChange` reports. While
    /// Redis is away it keeps what it holds and tries again at the next change.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.signals {
                do throws(HistoryReadError) {
                    try await self.update()
                } catch {
                    self.logger.warning("cannot update the rankings, serving what is held", metadata: ["error": "\(error)"])
                }
                self.resumeWaiters()
            }
        }
        resumeWaiters()
    }

    func resumeWaiters() {
        for waiter in state.withLock({ state in defer { state.waiters = [] }; return state.waiters }) { waiter.resume() }
    }

    func update() async throws(HistoryReadError) {
        guard let latest = library.latest?.snapshot else { return }
        let (loaded, held, horizon, wanted) = state.withLock { ($0.loaded, $0.latest, $0.horizon, $0.wantedHorizon) }
        var changed = false
        if !loaded || held.map({ latest.timestamp < $0 }) == true {
            // First load, or history went back in time (a Redis that came back empty).
            try await load(through: latest.timestamp, horizon: max(horizon, wanted))
            changed = true
        } else if let held {
            if latest.timestamp > held { try await advance(from: held, to: latest) }
            if wanted > horizon {
                try await extend(to: wanted, at: latest.timestamp)
                changed = true
            }
        }
        if try await refreshCandles() { changed = true }
        if changed { recomputeDefaults() }
    }

    // MARK: Loading and following

    /// Every asset's points in `span`, corrupt fields logged and counted once and left out.
    func everyAsset(in span: SeriesSpan) async throws(HistoryReadError) -> [Int64: [PriceBucket]] {
        let (points, corrupt) = try await history.pointsOfEveryAsset(in: span)
        for (key, detail) in corrupt where state.withLock({ $0.corruptKeys.insert(key).inserted }) {
            logger.error("stored series does not decode", metadata: ["key": "\(key)", "reason": "corrupt_series", "error": "\(detail)"])
            corruptSeries.increment()
        }
        return points
    }

    /// Reads the whole series store: closes from every span, raw points of the horizon.
    func load(through latest: Timestamp, horizon: Int64) async throws(HistoryReadError) {
        let started = ContinuousClock.now
        let spans: [SeriesSpan]
        do { spans = try await history.allSpans() } catch { throw .redis(error) }
        let cutoff = latest.milliseconds - horizon
        let days = spans.first.map { Int((latest.milliseconds - $0.start) / DailyCandle.dayMilliseconds) + 2 } ?? 2
        var closes = Closes(hourlyFloor: latest.milliseconds - hourlyReachMilliseconds, hourlyCapacity: hourlyCapacity, dailyCapacity: days)
        var byTime: [Int64: [(cmcId: Int64, price: DecimalNumber)]] = [:]
        for span in spans {
            for (cmcId, buckets) in try await everyAsset(in: span) {
                // A raw span is one hour: its last point is the close of that hour and so far of its day.
                for bucket in span.granularity.spanMilliseconds <= Rankings.hourMilliseconds ? Array(buckets.suffix(1)) : buckets {
                    closes.record(cmcId, bucket)
                }
                guard span.granularity == .snapshot, span.end > cutoff else { continue }
                for point in buckets where point.start.milliseconds > cutoff && point.start <= latest {
                    byTime[point.start.milliseconds, default: []].append((cmcId, point.price))
                }
            }
        }
        var columns = PriceColumns()
        for time in byTime.keys.sorted() { columns.append(time: time, prices: byTime[time]!) }
        state.withLock { state in
            state.loaded = true
            state.latest = latest
            state.columns = columns
            state.horizon = horizon
            state.hourly = closes.hourly
            state.daily = closes.daily
            state.dailyWithCandles = [:]
            state.candleVersions = [:]
        }
        // The load decodes every span once; none of that is kept but the columns and closes.
        let snapshots = byTime.count
        byTime = [:]
        FreedMemory.release()
        logger.info(
            "rankings loaded",
            metadata: [
                "spans": "\(spans.count)", "assets": "\(closes.daily.count)", "snapshots": "\(snapshots)",
                "duration_ms": "\(started.duration(to: .now).milliseconds)",
            ])
    }

    /// Adds the snapshots after `held` through `latest`: from `latest`'s rows when it is the
    /// only one, otherwise (announcements missed, several at once) from their raw spans.
    func advance(from held: Timestamp, to latest: MergedSnapshot) async throws(HistoryReadError) {
        let times: [Int64]
        do { times = try await history.timestamps(after: held, through: latest.timestamp) } catch { throw .redis(error) }
        if times.allSatisfy({ $0 == latest.timestamp.milliseconds }) {
            add([(latest.timestamp.milliseconds, latest.rows.map { ($0.cmcId, $0.price) })])
            return
        }
        let wanted = Set(times + [latest.timestamp.milliseconds])
        let spans: [SeriesSpan]
        do { spans = try await history.spans(overlapping: (held.milliseconds + 1)...latest.timestamp.milliseconds) } catch { throw .redis(error) }
        var byTime: [Int64: [(cmcId: Int64, price: DecimalNumber)]] = [:]
        for span in spans where span.granularity == .snapshot {
            for (cmcId, points) in try await everyAsset(in: span) {
                for point in points where wanted.contains(point.start.milliseconds) { byTime[point.start.milliseconds, default: []].append((cmcId, point.price)) }
            }
        }
        add(byTime.keys.sorted().map { ($0, byTime[$0]!) })
    }

    /// New snapshots' points (ascending, each a time and every asset's price): appended to the
    /// columns and the closes, the columns trimmed to the window, the default rankings
    /// recomputed. What a new snapshot costs (`topcoins-bench rankings` measures it).
    public func add(_ snapshots: [(time: Int64, prices: [(cmcId: Int64, price: DecimalNumber)])]) {
        apply(snapshots)
        recomputeDefaults()
    }

    /// Appends snapshots (ascending) to the columns and the closes, then trims the columns.
    func apply(_ snapshots: [(time: Int64, prices: [(cmcId: Int64, price: DecimalNumber)])]) {
        guard let newest = snapshots.last?.time else { return }
        state.withLock { state in
            // Taken out while changed, so the arrays are not copied.
            var columns = state.columns
            var closes = Closes(
                hourly: state.hourly, daily: state.daily, dailyWithCandles: state.dailyWithCandles, hourlyFloor: newest - hourlyReachMilliseconds,
                hourlyCapacity: hourlyCapacity, dailyCapacity: 2)
            state.columns = PriceColumns()
            (state.hourly, state.daily, state.dailyWithCandles) = ([:], [:], [:])
            for (time, prices) in snapshots {
                columns.append(time: time, prices: prices)
                for (cmcId, price) in prices { closes.record(cmcId, PriceBucket(point: Timestamp(milliseconds: time), price: price)) }
            }
            columns.trim(through: newest - state.horizon)
            closes.trimHourly()
            state.columns = columns
            (state.hourly, state.daily, state.dailyWithCandles) = (closes.hourly, closes.daily, closes.dailyWithCandles)
            state.latest = Timestamp(milliseconds: newest)
        }
    }

    /// Loads the raw points between `at` minus `horizon` and the oldest one held.
    func extend(to horizon: Int64, at latest: Timestamp) async throws(HistoryReadError) {
        let oldest = state.withLock { $0.columns.oldest } ?? latest.milliseconds + 1
        let cutoff = latest.milliseconds - horizon
        var older: [Int64: [(time: Int64, price: DecimalNumber)]] = [:]
        if cutoff + 1 < oldest {
            let spans: [SeriesSpan]
            do { spans = try await history.spans(overlapping: (cutoff + 1)...(oldest - 1)) } catch { throw .redis(error) }
            for span in spans where span.granularity == .snapshot {
                for (cmcId, points) in try await everyAsset(in: span) {
                    for point in points where point.start.milliseconds > cutoff && point.start.milliseconds < oldest {
                        older[cmcId, default: []].append((point.start.milliseconds, point.price))
                    }
                }
            }
        }
        state.withLock { state in
            var columns = state.columns
            state.columns = PriceColumns()
            columns.prepend(older)
            state.columns = columns
            state.horizon = max(state.horizon, horizon)
        }
    }

    /// Rereads the candles of assets whose counter moved; true when any did.
    func refreshCandles() async throws(HistoryReadError) -> Bool {
        let versions = assets.candleVersions
        let held = state.withLock { $0.candleVersions }
        guard versions != held else { return false }
        var reloaded: [Int64: [DailyCandle]] = [:]
        for (cmcId, version) in versions where held[cmcId] != version {
            reloaded[cmcId] = try await history.candles(of: cmcId)
        }
        state.withLock { state in
            for cmcId in state.dailyWithCandles.keys where versions[cmcId] == nil { state.dailyWithCandles[cmcId] = nil }
            for (cmcId, candles) in reloaded {
                var series = state.daily[cmcId] ?? CloseSeries()
                for candle in candles { series.record(start: candle.day.milliseconds, close: candle.close, isCandle: true) }
                state.dailyWithCandles[cmcId] = series
            }
            state.candleVersions = versions
        }
        return true
    }

    /// Every change makes a new generation: the kept rankings go, the defaults are computed.
    func recomputeDefaults() {
        let generation = state.withLock { state in
            state.generation += 1
            state.volatility = [:]
            state.returns = [:]
            return state.generation
        }
        _ = try? computeVolatility(window: Rankings.defaultWindowMilliseconds, generation: generation)
        _ = try? computeReturns(interval: .day, periods: Rankings.defaultPeriods, at: nil, generation: generation)
    }

    // MARK: Answers

    static let loading = APIError.unavailable("the rankings are being loaded from history; try again shortly", retryAfter: 5)

    /// The volatility ranking over `window` ms up to the newest snapshot. A window wider than
    /// the points held waits for the updater to load the older points (once).
    func volatility(window: Int64) async throws(APIError) -> VolatilityRanking {
        for attempt in 0..<2 {
            let (loaded, cached, horizon, generation) = state.withLock { ($0.loaded, $0.volatility[window], $0.horizon, $0.generation) }
            guard loaded else { throw Rankings.loading }
            if let cached { return cached }
            if window <= horizon { return try computeVolatility(window: window, generation: generation) }
            guard attempt == 0 else { break }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                state.withLock { state in
                    state.wantedHorizon = max(state.wantedHorizon, window)
                    state.waiters.append(waiter)
                }
                signal.yield()
            }
        }
        throw .unavailable("the points of this window could not be loaded from history; try again shortly", retryAfter: 5)
    }

    func computeVolatility(window: Int64, generation: UInt64) throws(APIError) -> VolatilityRanking {
        let (columns, latest) = state.withLock { ($0.columns, $0.latest) }
        guard let latest else { throw Rankings.loading }
        var values = columns.volatilities(after: latest.milliseconds - window)
        values.sort { $0.volatility != $1.volatility ? $0.volatility > $1.volatility : $0.cmcId < $1.cmcId }
        let ranks = Ranking.competitionRanks(values.map(\.volatility))
        let names = assets.entries(of: values.map(\.cmcId))
        let entries = zip(values, ranks).map { value, rank in
            VolatilityRanking.Entry(
                rank: rank, cmcId: value.cmcId, symbol: names[value.cmcId]?.symbol, name: names[value.cmcId]?.name, volatility: value.volatility,
                points: value.points)
        }
        let ranking = VolatilityRanking(windowMilliseconds: window, at: latest, generation: generation, entries: entries)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.volatility.count >= Rankings.cachedRankings, let evicted = state.volatility.keys.first(where: { $0 != Rankings.defaultWindowMilliseconds }) {
                state.volatility[evicted] = nil
            }
            state.volatility[window] = ranking
        }
        return ranking
    }

    /// The `periods`-period returns at `interval`, at `at` (nil: the newest snapshot; later
    /// than it: the newest snapshot too).
    func returns(interval: ReturnRanking.Interval, periods: Int, at: Timestamp?) throws(APIError) -> ReturnRanking {
        let (loaded, latest, generation) = state.withLock { ($0.loaded, $0.latest, $0.generation) }
        guard loaded, let latest else { throw Rankings.loading }
        let instant = at.map { min($0, latest) }
        if interval == .hour, let instant, instant.milliseconds < latest.milliseconds - maxWindowMilliseconds {
            throw .invalid("at", "at interval=1h, at must lie within the \(maxWindowMilliseconds / 86_400_000) days raw history keeps; ask interval=1d further back")
        }
        let key = ReturnRanking.Key(interval: interval, periods: periods, at: (instant ?? latest).milliseconds)
        if let cached = state.withLock({ $0.returns[key] }) { return cached }
        return try computeReturns(interval: interval, periods: periods, at: instant, generation: generation)
    }

    func computeReturns(interval: ReturnRanking.Interval, periods: Int, at: Timestamp?, generation: UInt64) throws(APIError) -> ReturnRanking {
        let (latest, primary, overrides) = state.withLock { state in
            (state.latest, interval == .day ? state.daily : state.hourly, interval == .day ? state.dailyWithCandles : [:])
        }
        guard let latest else { throw Rankings.loading }
        let instant = (at ?? latest).milliseconds
        let width = interval.milliseconds
        var values: [(cmcId: Int64, value: Double, close: DecimalNumber, closeBefore: DecimalNumber)] = []
        func rank(_ cmcId: Int64, _ series: CloseSeries) {
            guard let index = series.bucket(holding: instant, width: width), index >= periods else { return }
            let (close, before) = (series.close(at: index), series.close(at: index - periods))
            let value = close.doubleValue / before.doubleValue - 1
            guard value.isFinite else { return }
            values.append((cmcId, value, close, before))
        }
        for (cmcId, series) in primary where overrides[cmcId] == nil { rank(cmcId, series) }
        for (cmcId, series) in overrides { rank(cmcId, series) }
        values.sort { $0.value != $1.value ? $0.value > $1.value : $0.cmcId < $1.cmcId }
        let ranks = Ranking.competitionRanks(values.map(\.value))
        let names = assets.entries(of: values.map(\.cmcId))
        let entries = zip(values, ranks).map { value, rank in
            ReturnRanking.Entry(
                rank: rank, cmcId: value.cmcId, symbol: names[value.cmcId]?.symbol, name: names[value.cmcId]?.name, value: value.value, close: value.close,
                closeBefore: value.closeBefore)
        }
        let ranking = ReturnRanking(interval: interval, periods: periods, at: Timestamp(milliseconds: instant), generation: generation, entries: entries)
        let key = ReturnRanking.Key(interval: interval, periods: periods, at: instant)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.returns.count >= Rankings.cachedRankings, let evicted = state.returns.keys.first(where: { $0.at != latest.milliseconds }) {
                state.returns[evicted] = nil
            }
            state.returns[key] = ranking
        }
        return ranking
    }
}

/// Every asset's hourly and daily closes, folded from stored points and buckets of any width
/// up to the interval's (coarser ones cannot serve it).
struct Closes {
    var hourly: [Int64: CloseSeries] = [:]
    var daily: [Int64: CloseSeries] = [:]
    var dailyWithCandles: [Int64: CloseSeries] = [:]
    /// Hourly closes start here (see `Rankings.hourlyReachMilliseconds`).
    var hourlyFloor: Int64
    /// How many closes a new asset's series get room for: the hours of the reach, and the
    /// days history spans.
    var hourlyCapacity: Int
    var dailyCapacity: Int

    mutating func record(_ cmcId: Int64, _ bucket: PriceBucket) {
        let start = bucket.start.milliseconds
        if bucket.width <= Rankings.hourMilliseconds, start >= hourlyFloor {
            hourly[cmcId, default: CloseSeries(reservingCapacity: hourlyCapacity)].record(start: start.floorDividedWithRemainder(by: Rankings.hourMilliseconds).0 * Rankings.hourMilliseconds, close: bucket.close)
        }
        if bucket.width <= DailyCandle.dayMilliseconds {
            let day = start.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds).0 * DailyCandle.dayMilliseconds
            daily[cmcId, default: CloseSeries(reservingCapacity: dailyCapacity)].record(start: day, close: bucket.close)
            dailyWithCandles[cmcId]?.record(start: day, close: bucket.close)
        }
    }

    /// Forgets the hourly closes before the floor, and the assets left with none.
    mutating func trimHourly() {
        for (cmcId, series) in hourly where series.starts.first.map({ $0 < hourlyFloor }) == true {
            var trimmed = series
            hourly[cmcId] = nil
            trimmed.trim(before: hourlyFloor)
            if trimmed.count > 0 { hourly[cmcId] = trimmed }
        }
    }
}
