#if canImport(Glibc)
import Glibc
#endif

/// Every asset's raw points over a stretch of recent time, in memory, as the volatility
/// ranking reads them: the snapshot times once, ascending, and per asset the natural log of
/// its price at each of those times (NaN where the snapshot did not list it). One column per
/// asset, aligned to the times, so a ranking is one pass over contiguous doubles, and a new
/// snapshot is one value appended to each column.
public struct PriceColumns: Sendable {
    /// Snapshot times in unix ms, ascending; the first `offset` are trimmed away.
    public private(set) var times: [Int64] = []
    public private(set) var ids: [Int64] = []
    var logPrices: [[Double]] = []
    var columnOf: [Int64: Int] = [:]
    var offset = 0
    /// Points skipped because their price has no logarithm (zero, negative, not a number):
    /// stored data is input too.
    public private(set) var skipped = 0

    public init() {}

    public var newest: Int64? { times.last }
    public var oldest: Int64? { offset < times.count ? times[offset] : nil }

    /// Appends one snapshot's prices at `time` (later than every time held; an earlier or
    /// repeated time is ignored and false returned).
    @discardableResult
    public mutating func append(time: Int64, prices: some Sequence<(cmcId: Int64, price: DecimalNumber)>) -> Bool {
        guard times.last.map({ time > $0 }) ?? true else { return false }
        times.append(time)
        let length = times.count
        for (cmcId, price) in prices {
            let column = self.column(of: cmcId)
            guard logPrices[column].count < length else { continue }
            padColumn(column, to: length - 1)
            logPrices[column].append(logarithm(price))
        }
        return true
    }

    /// Inserts points at times before the first one held (an older stretch loaded later): each
    /// `points` entry is an asset's ascending (time, price) pairs, all earlier than `oldest`.
    public mutating func prepend(_ points: [Int64: [(time: Int64, price: DecimalNumber)]]) {
        var older = Set<Int64>()
        let first = oldest ?? .max
        for series in points.values { for point in series where point.time < first { older.insert(point.time) } }
        guard !older.isEmpty else { return }
        let added = older.sorted()
        let position = Dictionary(uniqueKeysWithValues: added.enumerated().map { ($1, $0) })
        compact()
        var prefixes: [Int64: [Double]] = [:]
        for (cmcId, series) in points {
            var prefix = [Double](repeating: .nan, count: added.count)
            for point in series { if let index = position[point.time] { prefix[index] = logarithm(point.price) } }
            prefixes[cmcId] = prefix
        }
        let length = times.count
        times = added + times
        for column in logPrices.indices {
            padColumn(column, to: length)
            logPrices[column] = [Double](repeating: .nan, count: added.count) + logPrices[column]
        }
        for (cmcId, prefix) in prefixes {
            let column = self.column(of: cmcId)
            padColumn(column, to: added.count)
            logPrices[column].replaceSubrange(0..<added.count, with: prefix)
        }
    }

    /// Forgets the points at or before `time`, and the assets left with none.
    public mutating func trim(through time: Int64) {
        while offset < times.count, times[offset] <= time { offset += 1 }
        if offset > times.count / 2 { compact() }
    }

    mutating func logarithm(_ price: DecimalNumber) -> Double {
        let value = price.doubleValue
        guard value > 0, value.isFinite else {
            skipped += 1
            return .nan
        }
        return log(value)
    }

    mutating func column(of cmcId: Int64) -> Int {
        if let column = columnOf[cmcId] { return column }
        columnOf[cmcId] = ids.count
        ids.append(cmcId)
        logPrices.append([])
        return ids.count - 1
    }

    mutating func padColumn(_ column: Int, to length: Int) {
        let missing = length - logPrices[column].count
        if missing > 0 { logPrices[column].append(contentsOf: repeatElement(.nan, count: missing)) }
    }

    /// Drops the trimmed times from every column, and columns with no point left.
    mutating func compact() {
        guard offset > 0 else { return }
        let drop = offset
        times.removeFirst(drop)
        offset = 0
        var keptIDs: [Int64] = []
        var kept: [[Double]] = []
        for (cmcId, column) in zip(ids, logPrices) where column.count > drop {
            let rest = Array(column[drop...])
            guard rest.contains(where: { !$0.isNaN }) else { continue }
            keptIDs.append(cmcId)
            kept.append(rest)
        }
        ids = keptIDs
        logPrices = kept
        columnOf = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
    }

    /// Each asset's volatility over the points later than `after`: the sample standard
    /// deviation (n − 1) of the log returns between its consecutive points (a missing snapshot
    /// is skipped, not filled), with how many points it had; assets with fewer than 2 returns
    /// are left out. Two passes (mean, then squared deviations), so no rounding carries.
    public func volatilities(after: Int64) -> [(cmcId: Int64, volatility: Double, points: Int)] {
        var start = offset
        while start < times.count, times[start] <= after { start += 1 }
        var result: [(cmcId: Int64, volatility: Double, points: Int)] = []
        result.reserveCapacity(ids.count)
        var returns: [Double] = []
        returns.reserveCapacity(times.count - start)
        for (cmcId, column) in zip(ids, logPrices) {
            returns.removeAll(keepingCapacity: true)
            var previous = Double.nan
            var points = 0
            var sum = 0.0
            var index = start
            while index < column.count {
                let value = column[index]
                index += 1
                guard !value.isNaN else { continue }
                points += 1
                if !previous.isNaN {
                    returns.append(value - previous)
                    sum += value - previous
                }
                previous = value
            }
            guard returns.count >= 2 else { continue }
            let mean = sum / Double(returns.count)
            var squares = 0.0
            for change in returns { squares += (change - mean) * (change - mean) }
            result.append((cmcId, (squares / Double(returns.count - 1)).squareRoot(), points))
        }
        return result
    }
}
