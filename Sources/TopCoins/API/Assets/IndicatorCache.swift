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

    struct Entry {
        let table: IndicatorTable
        var lastUse: UInt64
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    /// 0 keeps nothing: every request computes its table (what the benchmark's uncached run measures).
    let byteLimit: Int
    private let state = Mutex(State())

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    /// The table of `cmcId` at `interval` with `indicators`, from the cache while its stamp
    /// stands, otherwise computed over every point of the asset's series.
    func table(of cmcId: Int64, interval: SeriesQuery.Interval, indicators: [Indicator], assets: AssetLibrary) async throws(APIError) -> IndicatorTable {
        let key = Key(cmcId: cmcId, width: interval.milliseconds, indicators: indicators)
        // Taken before the read: a table is never stored under a stamp newer than its points.
        let stamp = assets.seriesStamp(of: cmcId, width: key.width)
        let cached = state.withLock { state -> IndicatorTable? in
            guard let entry = state.entries[key], entry.table.stamp == stamp else { return nil }
            state.clock += 1
            state.entries[key]!.lastUse = state.clock
            return entry.table
        }
        if let cached { return cached }
        let whole = SeriesQuery(from: .earliestPlausible, to: .latestRepresentable, interval: interval)
        let (points, _) = try await assets.points(of: cmcId, query: whole, maxPoints: .max)
        let table = IndicatorTable(points.buckets, width: key.width, indicators: indicators, stamp: stamp)
        remember(table, as: key)
        return table
    }

    private func remember(_ table: IndicatorTable, as key: Key) {
        let size = table.byteCount
        guard size <= byteLimit else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.entries.updateValue(Entry(table: table, lastUse: state.clock), forKey: key) { state.bytes -= old.table.byteCount }
            state.bytes += size
            guard state.bytes > byteLimit else { return }
            // Over budget: keep the most recently used, down to half the budget.
            var kept: [Key: Entry] = [:]
            var bytes = 0
            for (key, entry) in state.entries.sorted(by: { $0.value.lastUse > $1.value.lastUse }) where bytes + entry.table.byteCount <= byteLimit / 2 {
                kept[key] = entry
                bytes += entry.table.byteCount
            }
            state.entries = kept
            state.bytes = bytes
        }
    }
}
