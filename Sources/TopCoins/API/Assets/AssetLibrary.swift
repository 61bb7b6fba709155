import CoreMetrics
import Logging
import Synchronization

/// The API's view of the asset catalogue and of each asset's series. The catalogue, the list
/// of series spans and their change counters are reloaded whenever a new snapshot is
/// announced (`refresh`); an asset's points are read span by span and kept, decoded and
/// rendered, until the span's counter moves. A request for the last 24 hours of a coin thus
/// reads at most the newest span from Redis, once per snapshot.
public final class AssetLibrary: Sendable {
    let history: History
    let logger: Logger
    private let corruptSeries = CoreMetrics.Counter(label: "topcoins_corrupt_series_total")
    private let state: Mutex<State>

    /// One asset as the API shows it: the catalogue's entry and the latest top-list rank.
    public struct Asset: Sendable, Equatable {
        public let entry: Catalogue.Entry
        public let rank: Int?
    }

    struct CacheKey: Hashable {
        let span: SeriesSpan
        let cmcId: Int64
        let width: Int64
    }

    struct CachedSpan {
        let version: Int64
        let rendered: RenderedSpan
    }

    struct State {
        var loaded = false
        var assets: [Asset] = []
        var byID: [Int64: Int] = [:]
        var bySymbol: [String: [Int]] = [:]
        /// Lower-cased "symbol\u{0}name" per asset, for `search`.
        var searchable: [String] = []
        var spans: [SeriesSpan] = []
        var versions: [SeriesSpan: Int64] = [:]
        /// Rendered spans, at most the configured number of points in all.
        var cache: LeastRecentlyUsed<CacheKey, CachedSpan>
        /// Assets with backfilled daily candles, and each one's counter.
        var candleVersions: [Int64: Int64] = [:]
        /// Decoded candles by asset, while their counter stands.
        var candles: [Int64: (version: Int64, buckets: [PriceBucket])] = [:]
        /// Rendered daily series of assets with candles, by the stamp they were made from.
        var candleDays: [Int64: (stamp: String, days: RenderedSpan)] = [:]
        /// When the catalogue was last reloaded: its answers' Last-Modified.
        var modified = Timestamp(milliseconds: 0)
        /// Series fields already logged as corrupt (each is logged and counted once).
        var corruptKeys: Set<String> = []
    }

    public init(history: History, cachedPointLimit: Int, logger: Logger) {
        self.history = history
        state = Mutex(State(cache: LeastRecentlyUsed(budget: cachedPointLimit)))
        self.logger = logger
    }

    /// Whether a catalogue has been loaded (there is none before the first merge).
    public var isLoaded: Bool { state.withLock { $0.loaded } }
    public var modified: Timestamp { state.withLock { $0.modified } }

    /// Every asset with backfilled candles and its counter, as last reloaded.
    var candleVersions: [Int64: Int64] { state.withLock { $0.candleVersions } }

    /// The catalogue's entries of those of `ids` it holds.
    func entries(of ids: [Int64]) -> [Int64: Catalogue.Entry] {
        state.withLock { state in
            var result: [Int64: Catalogue.Entry] = [:]
            result.reserveCapacity(ids.count)
            for id in ids { if let index = state.byID[id] { result[id] = state.assets[index].entry } }
            return result
        }
    }

    /// Reloads the catalogue, the spans and their counters; ranks come from `latest`.
    func refresh(latest: MergedSnapshot?) async throws(HistoryReadError) {
        let catalogue = try await history.catalogue()
        let spans: [SeriesSpan]
        let versions: [String: Int64]
        let candleVersions: [Int64: Int64]
        do {
            spans = try await history.allSpans()
            versions = try await history.seriesVersions()
            candleVersions = try await history.candleVersions()
        } catch {
            throw .redis(error)
        }
        var ranks: [Int64: Int] = [:]
        for row in latest?.rows ?? [] where ranks[row.cmcId] == nil { ranks[row.cmcId] = row.rank }
        let assets = (catalogue?.entries.values.map { Asset(entry: $0, rank: ranks[$0.cmcId]) } ?? []).sorted(by: AssetLibrary.listOrder)
        var byID: [Int64: Int] = [:]
        var bySymbol: [String: [Int]] = [:]
        for (index, asset) in assets.enumerated() {
            byID[asset.entry.cmcId] = index
            bySymbol[asset.entry.symbol, default: []].append(index)
        }
        let searchable = assets.map { "\($0.entry.symbol)\u{0}\($0.entry.name)".lowercased() }
        state.withLock { state in
            state.loaded = catalogue != nil
            state.assets = assets
            state.byID = byID
            state.bySymbol = bySymbol
            state.searchable = searchable
            state.spans = spans
            state.versions = Dictionary(spans.map { ($0, versions[$0.member] ?? 0) }) { first, _ in first }
            state.modified = .now
            // Entries of spans that changed or went away are stale: drop them now.
            state.cache.removeAll { [versions = state.versions] key, cached in versions[key.span] != cached.version }
            state.candleVersions = candleVersions
            state.candles = state.candles.filter { candleVersions[$0.key] == $0.value.version }
        }
    }

    /// Ranked assets first, by rank; then the rest by CMC id.
    static func listOrder(_ a: Asset, _ b: Asset) -> Bool {
        switch (a.rank, b.rank) {
        case let (x?, y?): x < y
        case (_?, nil): true
        case (nil, _?): false
        case (nil, nil): a.entry.cmcId < b.entry.cmcId
        }
    }

    /// The catalogue, filtered: `symbol` exact and case-sensitive, `search` a case-insensitive
    /// substring of symbol or name; at most `limit` assets, and how many matched in all.
    public func list(symbol: String?, search: String?, limit: Int) throws(APIError) -> (assets: [Asset], total: Int) {
        try state.withLock { state throws(APIError) in
            guard state.loaded else { throw .unavailable("the catalogue is not loaded yet: no snapshot has been merged", retryAfter: 5) }
            var indexes: [Int] = symbol.map { state.bySymbol[$0] ?? [] } ?? Array(state.assets.indices)
            if let search = search?.lowercased(), !search.isEmpty {
                indexes = indexes.filter { state.searchable[$0].contains(search) }
            }
            return (indexes.prefix(limit).map { state.assets[$0] }, indexes.count)
        }
    }

    /// The asset `id` names: a CMC id, or a symbol that names exactly one asset.
    public func asset(_ id: String) throws(APIError) -> Asset {
        try state.withLock { state throws(APIError) in
            guard state.loaded else { throw .unavailable("the catalogue is not loaded yet: no snapshot has been merged", retryAfter: 5) }
            if let cmcId = Int64(id), let index = state.byID[cmcId] { return state.assets[index] }
            let matches = state.bySymbol[id] ?? []
            if matches.count == 1 { return state.assets[matches[0]] }
            guard matches.isEmpty else {
                var error = APIError(
                    status: .conflict, code: "ambiguous_symbol", message: "\(id) names \(matches.count) assets; ask for one by its cmc_id", parameter: "id")
                error.details = [("candidates", .array(matches.map { .object(AssetRendering.object(state.assets[$0])) }))]
                throw error
            }
            throw APIError(status: .notFound, code: "unknown_asset", message: "no asset has the CMC id or symbol \(id)", parameter: "id")
        }
    }

    /// The points of `cmcId` whose timestamps lie in `query`'s range, folded to its interval,
    /// as slices of rendered spans in time order; more than `maxPoints` is a `range_too_large`.
    /// Also the versions of the spans read, which the answer's ETag hashes. At `1d`, the days
    /// of backfilled candles show the candle.
    func points(of cmcId: Int64, query: SeriesQuery, maxPoints: Int) async throws(APIError) -> (points: SeriesSlices, versions: [Int64]) {
        guard query.width == DailyCandle.dayMilliseconds, let (days, candleVersion) = try await candleDays(of: cmcId) else {
            return try await ownPoints(of: cmcId, query: query, maxPoints: maxPoints)
        }
        var slices = SeriesSlices()
        slices.parts = [(days, days.indexes(from: query.from, to: query.to))]
        if slices.count > maxPoints { throw SeriesQuery.tooManyPoints(atLeast: Int64(slices.count), maxPoints: maxPoints) }
        let high = query.to.milliseconds.floorDividedWithRemainder(by: query.width).0 * query.width + query.width - 1
        let versions = state.withLock { state in
            state.spans.filter { $0.end > query.from.milliseconds && $0.start <= high }.map { state.versions[$0] ?? 0 }
        }
        return (slices, versions + [-1, candleVersion])
    }

    /// The asset's whole daily series with its candles over its own days, rendered once per
    /// change of either (`seriesStamp`) and kept for the most recently asked assets, so a
    /// daily answer over years of candles is slices of cached bytes, as any other series is.
    private func candleDays(of cmcId: Int64) async throws(APIError) -> (days: RenderedSpan, candleVersion: Int64)? {
        guard let (candleVersion, candles) = try await candles(of: cmcId) else { return nil }
        let stamp = seriesStamp(of: cmcId, width: DailyCandle.dayMilliseconds)
        if let cached = state.withLock({ $0.candleDays[cmcId] }), cached.stamp == stamp { return (cached.days, candleVersion) }
        let whole = SeriesQuery(from: .earliestPlausible, to: .latestRepresentable, interval: .oneDay)
        let (own, _) = try await ownPoints(of: cmcId, query: whole, maxPoints: .max)
        let days = RenderedSpan(DailyCandle.overlay(candles, on: own.buckets), raw: false)
        state.withLock { state in
            if state.candleDays.count >= AssetLibrary.candleDaysKept, state.candleDays[cmcId] == nil { state.candleDays.removeAll() }
            state.candleDays[cmcId] = (stamp, days)
        }
        return (days, candleVersion)
    }

    /// How many assets' rendered daily series `candleDays` keeps (about 0.5 MB each for five
    /// years of days).
    static let candleDaysKept = 64

    /// `points` from TopCoins' own series alone.
    private func ownPoints(of cmcId: Int64, query: SeriesQuery, maxPoints: Int) async throws(APIError) -> (points: SeriesSlices, versions: [Int64]) {
        let width = query.width
        // A bucket belongs by its start; its content reaches a width past it.
        let low = width == 0 ? query.from.milliseconds : query.from.milliseconds.floorDividedWithRemainder(by: width).0 * width
        let high = width == 0 ? query.to.milliseconds : query.to.milliseconds.floorDividedWithRemainder(by: width).0 * width + width - 1
        let (spans, versions, cached) = state.withLock { state in
            let spans = state.spans.filter { $0.end > low && $0.start <= high }
            let versions = spans.map { state.versions[$0] ?? 0 }
            var cached: [RenderedSpan?] = []
            cached.reserveCapacity(spans.count)
            for (span, version) in zip(spans, versions) {
                let key = CacheKey(span: span, cmcId: cmcId, width: AssetLibrary.spanWidth(width, span))
                cached.append(state.cache.value(key).flatMap { $0.version == version ? $0.rendered : nil })
            }
            return (spans, versions, cached)
        }
        var rendered = cached
        let missing = spans.indices.filter { cached[$0] == nil }
        if !missing.isEmpty {
            let read: [[PriceBucket]]
            do throws(HistoryReadError) {
                read = try await history.points(of: cmcId, in: missing.map { spans[$0] })
            } catch {
                throw answer(to: error)
            }
            for (index, points) in zip(missing, read) {
                let spanWidth = AssetLibrary.spanWidth(width, spans[index])
                rendered[index] = RenderedSpan(spanWidth == 0 ? points : PriceBucket.aggregate(points, width: spanWidth), raw: width == 0)
            }
            remember(missing.map { (CacheKey(span: spans[$0], cmcId: cmcId, width: AssetLibrary.spanWidth(width, spans[$0])), versions[$0], rendered[$0]!) })
        }
        // Spans in the order of their points; they do not interleave (retention folds the
        // oldest first), but should they, or should buckets be wider than a span (a day from
        // raw hours), the points are folded anew here.
        let chunks = rendered.compactMap { $0 }.filter { !$0.buckets.isEmpty }.sorted { $0.buckets[0].start < $1.buckets[0].start }
        let interleaved = zip(chunks, chunks.dropFirst()).contains { $0.buckets.last!.start >= $1.buckets[0].start }
        var slices = SeriesSlices()
        if interleaved || (width > 0 && spans.contains { AssetLibrary.spanWidth(width, $0) < width }) {
            var buckets = chunks.flatMap(\.buckets)
            if interleaved { buckets.sort { $0.start < $1.start } }
            let folded = RenderedSpan(width == 0 ? buckets : PriceBucket.aggregate(buckets, width: width), raw: width == 0)
            slices.parts = [(folded, folded.indexes(from: query.from, to: query.to))]
        } else {
            slices.parts = chunks.map { ($0, $0.indexes(from: query.from, to: query.to)) }
        }
        if slices.count > maxPoints { throw SeriesQuery.tooManyPoints(atLeast: Int64(slices.count), maxPoints: maxPoints) }
        return (slices, versions)
    }

    /// What `points(of: cmcId, ...)` over all time at `width` reads from, as one tag: every
    /// span, its counter, and at 1d the asset's candle counter. A cache of what is computed
    /// over a whole series (indicator tables) compares it instead of reading the series again.
    func seriesStamp(of cmcId: Int64, width: Int64) -> String {
        let parts = state.withLock { state in
            var parts: [Int64] = [width, width == DailyCandle.dayMilliseconds ? state.candleVersions[cmcId] ?? -1 : 0]
            parts.reserveCapacity(2 + state.spans.count * 3)
            for span in state.spans {
                parts.append(span.start)
                parts.append(span.granularity.bucketMilliseconds)
                parts.append(state.versions[span] ?? 0)
            }
            return parts
        }
        return AssetRoutes.tag(parts)
    }

    /// What an indicator or a chart computes over: the asset's points at `query`'s interval
    /// from the first one stored (so recursive indicators such as EMA and RSI are warmed up
    /// on all the history before `from`, and a value never depends on the window asked)
    /// through `query.to`, with where the asked range starts. At most `warmUpLimit` points
    /// before `from` are kept: enough for every window the API allows several times over.
    func seriesWithWarmUp(of cmcId: Int64, query: SeriesQuery, maxPoints: Int, warmUpLimit: Int) async throws(APIError) -> (
        buckets: [PriceBucket], firstInRange: Int, versions: [Int64]
    ) {
        let earliest = state.withLock { state -> Timestamp in
            let spanStart = state.spans.first.map { Timestamp(milliseconds: $0.start) } ?? query.from
            let candleStart = state.candles[cmcId]?.buckets.first?.start ?? Timestamp.earliestPlausible
            return min(query.from, state.candleVersions[cmcId] == nil ? spanStart : min(spanStart, candleStart))
        }
        let whole = SeriesQuery(from: earliest, to: query.to, interval: query.interval, format: query.format)
        let (slices, versions) = try await points(of: cmcId, query: whole, maxPoints: .max)
        var buckets = slices.buckets
        var firstInRange = buckets.firstIndex { $0.start >= query.from } ?? buckets.count
        if firstInRange > warmUpLimit {
            buckets.removeFirst(firstInRange - warmUpLimit)
            firstInRange = warmUpLimit
        }
        if buckets.count - firstInRange > maxPoints {
            throw SeriesQuery.tooManyPoints(atLeast: Int64(buckets.count - firstInRange), maxPoints: maxPoints)
        }
        return (buckets, firstInRange, versions)
    }

    /// The asset's backfilled daily candles as day buckets (cached while their counter
    /// stands), and that counter; nil when the asset has none.
    func candles(of cmcId: Int64) async throws(APIError) -> (version: Int64, buckets: [PriceBucket])? {
        let known = state.withLock { state -> (Int64, [PriceBucket]?)? in
            guard let version = state.candleVersions[cmcId] else { return nil }
            if let cached = state.candles[cmcId], cached.version == version { return (version, cached.buckets) }
            return (version, nil)
        }
        guard let (version, cached) = known else { return nil }
        if let cached { return (version, cached) }
        let buckets: [PriceBucket]
        do throws(HistoryReadError) {
            buckets = try await history.candles(of: cmcId).map(\.bucket)
        } catch {
            throw answer(to: error)
        }
        state.withLock { $0.candles[cmcId] = (version, buckets) }
        return (version, buckets)
    }

    /// The API's answer to a failed history read: 503 while Redis is away; a corrupt stored
    /// value is logged and counted once, and answered as what it is.
    func answer(to error: HistoryReadError) -> APIError {
        switch error {
        case .redis: return .unavailable("history is unavailable right now: Redis cannot be reached", retryAfter: 5)
        case .corrupt(let key, let detail):
            if state.withLock({ $0.corruptKeys.insert(key).inserted }) {
                logger.error("stored series does not decode", metadata: ["key": "\(key)", "reason": "corrupt_series", "error": "\(detail)"])
                corruptSeries.increment()
            }
            return APIError(status: .internalServerError, code: "corrupt_series", message: "the series is stored corrupt (\(key)); other ranges still answer")
        }
    }

    /// The width a span's points are folded to before they are cached: the asked width, but no
    /// wider than the span, so a cached span never depends on its neighbours.
    static func spanWidth(_ width: Int64, _ span: SeriesSpan) -> Int64 {
        width == 0 ? 0 : min(width, span.granularity.spanMilliseconds)
    }

    private func remember(_ entries: [(CacheKey, Int64, RenderedSpan)]) {
        state.withLock { state in
            for (key, version, rendered) in entries {
                state.cache.insert(CachedSpan(version: version, rendered: rendered), cost: rendered.buckets.count, as: key)
            }
        }
    }
}
