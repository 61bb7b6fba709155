import Testing

@testable import TopCoins

/// The indicators' edge cases, each against a direct computation of its definition.
struct IndicatorTests {
    static func walk(_ count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        var price = 100.0
        return (0..<count).map { _ in
            price *= 1 + (Double(random.next() % 2001) - 1000) / 50_000
            return price
        }
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300)
    }

    @Test func smaAndStdAreTheMeanAndSampleDeviationOfEachTrailingWindow() {
        let closes = Self.walk(60, seed: 7)
        for n in [2, 5, 20] {
            let sma = Indicator.sma(closes, n)
            let std = Indicator.std(closes, n)
            #expect(sma.prefix(n - 1).allSatisfy { $0 == nil } && std.prefix(n - 1).allSatisfy { $0 == nil })
            for index in (n - 1)..<closes.count {
                let window = closes[(index - n + 1)...index]
                let mean = window.reduce(0, +) / Double(n)
                let variance = window.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
                #expect(Self.close(sma[index], mean) && Self.close(std[index], variance.squareRoot()), "n \(n) at \(index)")
            }
        }
    }

    @Test func aWindowWithoutMovementHasExactlyNoDeviation() {
        for price in [0.1, 30_123.37, 0.000_012_34] {
            let closes = [price * 1.01] + [Double](repeating: price, count: 25)
            let std = Indicator.std(closes, 20)
            #expect(std[19]! > 0 && std[20...].allSatisfy { $0 == 0 }, "\(price)")
        }
    }

    @Test func emaIsSeededWithTheFirstWindowsMeanThenSmoothed() {
        let closes = Self.walk(40, seed: 11)
        let n = 10
        let ema = Indicator.ema(closes, n)
        #expect(ema.prefix(n - 1).allSatisfy { $0 == nil })
        var expected = closes[0..<n].reduce(0, +) / Double(n)
        #expect(Self.close(ema[n - 1], expected))
        for index in n..<closes.count {
            expected = expected + 2 / Double(n + 1) * (closes[index] - expected)
            #expect(Self.close(ema[index], expected), "at \(index)")
        }
    }

    @Test func rsiIsHundredWithoutLossesZeroWithoutMovementAndFirstDefinedAtTheWindowPlusOneClose() {
        let rising = (1...30).map(Double.init)
        let flat = [Double](repeating: 0.00001234, count: 30)
        let falling = rising.reversed().map { $0 }
        let n = 14
        for (closes, value) in [(rising, 100.0), (flat, 0.0), (falling, 0.0)] {
            let rsi = Indicator.rsi(closes, n)
            #expect(rsi.prefix(n).allSatisfy { $0 == nil })
            #expect(rsi[n...].allSatisfy { $0 == value })
        }
        // Movement far below 1e-8 (a coin quoted around 1e-9) is movement: only none at all is 0.
        let tiny = [0.000000001, 0.000000002, 0.000000003, 0.000000002]
        // Seeded with gain 1e-9 and no loss (100); then gain and loss 0.5e-9 each (50).
        #expect(Indicator.rsi(tiny, 2)[2] == 100 && abs(Indicator.rsi(tiny, 2)[3]! - 50) < 1e-9)
        // One loss among gains: Wilder's averages by hand.
        let closes = [1.0, 2, 3, 2, 3, 4]
        var gain = (1.0 + 1 + 0) / 3
        var loss = (0.0 + 0 + 1) / 3
        let rsi = Indicator.rsi(closes, 3)
        #expect(Self.close(rsi[3], 100 * gain / (gain + loss)))
        gain = (gain * 2 + 1) / 3
        loss = loss * 2 / 3
        #expect(Self.close(rsi[4], 100 * gain / (gain + loss)))
    }

    @Test func tooFewClosesGiveNullsNeverATrap() {
        for count in 0...3 {
            let closes = Self.walk(count, seed: 3)
            for indicator in [Indicator.sma(5), .ema(5), .rsi(5), .std(5), .return(5)] {
                let values = indicator.values(closes)
                #expect(values.count == count && values.allSatisfy { $0 == nil }, "\(indicator) over \(count)")
            }
        }
    }

    @Test func returnsCompareWithTheCloseNPointsBeforeAndAreUndefinedAfterAZeroClose() {
        let closes = [2.0, 0, 3, 6, 3]
        #expect(Indicator.returns(closes, 2) == [nil, nil, 0.5, nil, 0])
        #expect(Indicator.returns(closes, 1) == [nil, -1, nil, 1, -0.5])
    }

    @Test func numbersRoundTripAndNonFiniteValuesAreNull() throws {
        var random = SplitMix64(seed: 5)
        for _ in 0..<1000 {
            let value = Double(bitPattern: random.next() >> 2) * (random.next() % 2 == 0 ? 1 : -1)
            guard value.isFinite else { continue }
            let text = try #require(IndicatorTable.number(value))
            #expect(Double(text) == value && !text.contains("inf") && !text.contains("nan"))
        }
        #expect(IndicatorTable.number(nil) == nil && IndicatorTable.number(.nan) == nil)
        #expect(IndicatorTable.number(.infinity) == nil && IndicatorTable.number(-.infinity) == nil)
    }

    @Test func aTableStartsAfterThePointsCoarserThanItsIntervalAndWritesNullsBeforeAWindowFills() throws {
        let hour: Int64 = 3_600_000
        func bucket(_ start: Int64, _ width: Int64, _ close: String) -> PriceBucket {
            let price = DecimalNumber(close)!
            return PriceBucket(start: Timestamp(milliseconds: start), width: width, open: price, high: price, low: price, close: price, count: 1)
        }
        // Two days thinned to day buckets, then hours.
        let day = 24 * hour
        let points = [bucket(0, day, "1"), bucket(day, day, "2")] + (0..<4).map { bucket(2 * day + Int64($0) * hour, hour, ["10", "11", "0.000000123", "12"][$0]) }
        let table = IndicatorTable(points, width: hour, indicators: [.sma(2), .return(1)], stamp: "s")
        #expect(table.coarserUntil == Timestamp(milliseconds: day))
        #expect(table.rows.buckets.map(\.start.milliseconds) == (0..<4).map { 2 * day + Int64($0) * hour })
        let csv = String(decoding: table.rows.csv, as: UTF8.self).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(csv.map { $0[1] } == ["10", "11", "0.000000123", "12"])
        #expect(csv[0][2] == "" && csv[1][2] == "10.5" && Double(csv[2][2]) == (11 + 0.000000123) / 2)
        #expect(csv[0][3] == "" && Double(csv[1][3]) == 11.0 / 10 - 1 && Double(csv[3][3]) == 12 / 0.000000123 - 1)
        let json = try JSONParser.parse(Array(("[" + String(decoding: table.rows.json.dropLast(), as: UTF8.self) + "]").utf8))
        guard case .array(let rows) = json else { Issue.record("not an array"); return }
        #expect(rows.count == 4 && rows[0]["sma_2"] == .null && rows[0]["return_1"] == .null && rows[2]["close"] == .number("0.000000123"))
        // Only hours: nothing coarser, the table holds every point.
        #expect(IndicatorTable(Array(points.dropFirst(2)), width: hour, indicators: [.sma(2)], stamp: "s").coarserUntil == nil)
    }
}
