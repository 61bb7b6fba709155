import Foundation
import Testing

@testable import TopCoins

/// The rankings' in-memory pieces against plain computations: columns built in any order of
/// appends, prepends and trims give the volatilities a list of points gives; closes keep the
/// last price per bucket and a candle's over an own point's; windows parse or are refused.
struct RankingsTests {
    /// A random history: 12 assets, 300 snapshot times, each asset missing now and then, some
    /// prices zero (no logarithm: skipped).
    static func history(seed: UInt64) -> [(time: Int64, prices: [(cmcId: Int64, price: DecimalNumber)])] {
        var random = SplitMix64(seed: seed)
        var time: Int64 = 1_700_000_000_000
        return (0..<300).map { _ in
            time += Int64(random.next() % 120_000) + 1
            let prices = (Int64(1)...12).compactMap { id -> (cmcId: Int64, price: DecimalNumber)? in
                let roll = random.next() % 100
                guard roll >= 10 else { return nil }
                return (id, DecimalNumber(mantissa: roll == 99 ? 0 : 1_000_000 + Int64(random.next() % 50_000) * id, scale: 4))
            }
            return (time, prices)
        }
    }

    /// The oracle: per asset, the positive prices later than `after`, their log returns, and
    /// their sample standard deviation when there are at least two.
    static func expected(_ history: [(time: Int64, prices: [(cmcId: Int64, price: DecimalNumber)])], after: Int64) -> [Int64: (Double, Int)] {
        var prices: [Int64: [Double]] = [:]
        for (time, row) in history where time > after {
            for (id, price) in row where price.doubleValue > 0 { prices[id, default: []].append(price.doubleValue) }
        }
        return prices.compactMapValues { values in
            guard values.count >= 3 else { return nil }
            let returns = (1..<values.count).map { Foundation.log(values[$0] / values[$0 - 1]) }
            let mean = returns.reduce(0, +) / Double(returns.count)
            let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
            return (variance.squareRoot(), values.count)
        }
    }

    static func check(_ columns: PriceColumns, _ history: [(time: Int64, prices: [(cmcId: Int64, price: DecimalNumber)])], after: Int64) {
        let want = expected(history, after: after)
        let got = columns.volatilities(after: after)
        #expect(got.count == want.count)
        for entry in got {
            guard let (value, points) = want[entry.cmcId] else {
                Issue.record("asset \(entry.cmcId) should have fewer than two returns")
                continue
            }
            #expect(abs(entry.volatility - value) <= 1e-9 * value, "asset \(entry.cmcId)")
            #expect(entry.points == points, "asset \(entry.cmcId)")
        }
    }

    @Test func appendedColumnsGiveThePlainVolatilities() {
        let history = Self.history(seed: 1)
        var columns = PriceColumns()
        for (time, prices) in history {
            let appended = columns.append(time: time, prices: prices)
            #expect(appended)
        }
        let repeated = columns.append(time: history[10].time, prices: [])
        #expect(!repeated)
        for cut in [0, 100, 250, 296, 299] { Self.check(columns, history, after: history[cut].time) }
        #expect(columns.skipped > 0)
    }

    @Test func trimmedAndPrependedColumnsGiveTheSameAsAppendedOnes() {
        let history = Self.history(seed: 2)
        // The newer half appended, trimmed, then the older half put back in front.
        var columns = PriceColumns()
        for (time, prices) in history[150...] { columns.append(time: time, prices: prices) }
        columns.trim(through: history[220].time)
        #expect(columns.oldest == history[221].time)
        Self.check(columns, Array(history[221...]), after: 0)
        var older: [Int64: [(time: Int64, price: DecimalNumber)]] = [:]
        for (time, prices) in history[..<221] { for (id, price) in prices { older[id, default: []].append((time, price)) } }
        columns.prepend(older)
        #expect(columns.oldest == history[0].time && columns.newest == history.last!.time)
        for cut in [0, 149, 220, 290] { Self.check(columns, history, after: history[cut].time) }
        // Trimmed past everything: nothing is left to rank.
        columns.trim(through: history.last!.time)
        #expect(columns.volatilities(after: 0).isEmpty)
    }

    @Test func competitionRanksShareTheLowerRank() {
        #expect(Ranking.competitionRanks([5, 4, 4, 3, 3, 3, 1]) == [1, 2, 2, 4, 4, 4, 7])
        #expect(Ranking.competitionRanks([]) == [])
        #expect(Ranking.competitionRanks([0, 0]) == [1, 1])
    }

    @Test func closesKeepTheLastPriceOfEachBucketAndCandlesOverOwnPoints() {
        var series = CloseSeries()
        let day = DailyCandle.dayMilliseconds
        series.record(start: 2 * day, close: DecimalNumber("2")!)
        series.record(start: 2 * day, close: DecimalNumber("2.5")!)
        series.record(start: 4 * day, close: DecimalNumber("4")!)
        series.record(start: 3 * day, close: DecimalNumber("3")!, isCandle: true)
        series.record(start: 3 * day, close: DecimalNumber("30")!)
        series.record(start: 2 * day, close: DecimalNumber("0.2")!, isCandle: true)
        // Digits no 64-bit mantissa holds are kept as they are, and trailing zeros too.
        let huge = DecimalNumber("123456789012345678901234.50")!
        series.record(start: 5 * day, close: huge)
        series.record(start: 6 * day, close: DecimalNumber("0.031930")!)
        #expect(series.starts == [2 * day, 3 * day, 4 * day, 5 * day, 6 * day])
        #expect(series.closes.map(\.text) == ["0.2", "3", "4", huge.text, "0.031930"])
        #expect(series.bucket(holding: 3 * day + 5, width: day) == 1)
        #expect(series.bucket(holding: 7 * day, width: day) == nil)
        #expect(series.bucket(holding: day, width: day) == nil)
        series.trim(before: 4 * day)
        #expect(series.closes.map(\.text) == ["4", huge.text, "0.031930"])
    }

    @Test func windowsAreDurationsUpToWhatRawHistoryKeeps() throws {
        let week: Int64 = 7 * 86_400_000
        func parse(_ text: String) throws(APIError) -> Int64 {
            try RankingRoutes.window(QueryParameters("window=\(text)"), max: week).milliseconds
        }
        #expect(try parse("90m") == 5_400_000)
        #expect(try parse("24h") == 86_400_000)
        #expect(try parse("7d") == week && (try parse("1w")) == week)
        #expect(try RankingRoutes.window(QueryParameters(nil), max: week).milliseconds == Rankings.defaultWindowMilliseconds)
        for bad in ["", "h", "24", "0h", "-1h", "1.5h", "8d", "2w", "24H", "١h", "99999999h", "24h "] {
            #expect(throws: APIError.self, "\(bad)") { _ = try parse(bad) }
            do { _ = try parse(bad) } catch { #expect(error.parameter == "window") }
        }
    }
}
