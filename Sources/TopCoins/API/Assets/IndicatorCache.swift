import Synchronization

/// Indicator tables by what determines them (asset, interval, columns), each valid while the
/// asset's series stamp stands; at most `byteLimit` bytes in all, the least recently used
/// going first. A table is computed over the whole series once per change of it (at 1d, once
/// a snapshot for the day in progress), whatever ranges are asked of it in between.
final class IndicatorCache: Sendable {
    struct Key: Hashable {
        let cmcId: Int64
        let width: Int64
        let indicators: [Indicator]
    }

    private let state: Mutex<LeastRecentlyUsed<Key, IndicatorTable>>

    /// 0 keeps nothing: every request computes its table (what the benchmark's uncached run measures).
    init(byteLimit: Int) {
        state = Mutex(LeastRecentlyUsed(budget: byteLimit))
    }

    /// The table of `cmcId` at `interval` with `indicators`, from the cache while its stamp
    /// stands, otherwise computed over every point of the asset's series.
    func table(of cmcId: Int64, interval: SeriesQuery.Interval, indicators: [Indicator], assets: AssetLibrary) async throws(APIError) -> IndicatorTable {
        let key = Key(cmcId: cmcId, width: interval.milliseconds, indicators: indicators)
        // Taken before the read: a table is never stored under a stamp newer than its points.
        let stamp = assets.seriesStamp(of: cmcId, width: key.width)
        let cached = state.withLock { $0.value(key) }.flatMap { $0.stamp == stamp ? $0 : nil }
        if let cached { return cached }
        let whole = SeriesQuery(from: .earliestPlausible, to: .latestRepresentable, interval: interval)
        let (points, _) = try await assets.points(of: cmcId, query: whole, maxPoints: .max)
        let table = IndicatorTable(points.buckets, width: key.width, indicators: indicators, stamp: stamp)
        state.withLock { $0.insert(table, cost: table.byteCount, as: key) }
        return table
    }
}
